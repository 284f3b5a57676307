"""The explainer's named endpoints ``morlet``, ``relu`` and ``separation``: quick figures, checked as
every other endpoint."""

from __future__ import annotations

from demo.draw import figures
from demo.draw.explainer import TEXTURES, morlet_figure, relu_figure, separation_figure
from demo.handlers.errors import refusal
from demo.inputs.checks import MAX_ORIENTATION, InputError, number
from demo.models.catalog import DEFAULT, LABELS


def morlet(model, block, k):
    try:
        b = int(number("block", block, 0, 10, whole=True))
        kk = int(number("orientation", k, 0, MAX_ORIENTATION, whole=True))
        fig, text = morlet_figure(model if model in LABELS else DEFAULT, b, kk)
    except Exception as e:
        raise refusal(e, "morlet") from None
    return figures.plot(fig), text


def relu(threshold):
    try:
        lam = number("bias λ", threshold, 0, 1.5)
    except Exception as e:
        raise refusal(e, "relu") from None
    return figures.plot(relu_figure(lam))


def separation(a, b, j, k):
    try:
        if a not in TEXTURES or b not in TEXTURES:
            raise InputError(f"the textures must be two of {', '.join(TEXTURES)}; got {a!r}, {b!r}.")
        jj = int(number("wavelet scale j", j, 0, 2, whole=True))
        kk = int(number("orientation", k, 0, 3, whole=True))
        fig, text = separation_figure(a, b, jj, kk)
    except Exception as e:
        raise refusal(e, "separation") from None
    return figures.plot(fig), text
