"""The explainer's named endpoints ``morlet``, ``relu`` and ``separation``: quick figures, checked as
every other endpoint."""

from __future__ import annotations

from demo.compute.lanes import Lanes
from demo.draw import figures
from demo.draw.explainer import TEXTURES, morlet_figure, relu_figure, separation_figure
from demo.handlers.errors import refusal
from demo.inputs import checks
from demo.inputs.checks import MAX_BLOCK, MAX_ORIENTATION, InputError, number
from demo.models.catalog import offered


def morlet(model, block, k):
    try:
        key = checks.model(model, offered())
        b = int(number("block", block, 0, MAX_BLOCK, whole=True))
        kk = int(number("orientation", k, 0, MAX_ORIENTATION, whole=True))
        fig, text = morlet_figure(key, b, kk)
    except Exception as e:
        raise refusal(e, "morlet") from None
    return figures.plot(fig), text


def relu(threshold):
    try:
        lam = number("bias λ", threshold, 0, 1.5)
    except Exception as e:
        raise refusal(e, "relu") from None
    return figures.plot(relu_figure(lam))


def separation(lanes: Lanes, a, b, j, k):
    """Two textures' coefficients at many positions (heavy: on the heavy lane, so that no page waits)."""
    try:
        if a not in TEXTURES or b not in TEXTURES:
            raise InputError(f"the textures must be two of {', '.join(TEXTURES)}; got {a!r}, {b!r}.")
        jj = int(number("wavelet scale j", j, 0, 2, whole=True))
        kk = int(number("orientation", k, 0, 3, whole=True))
        fig, text = lanes.heavy(separation_figure, a, b, jj, kk)
    except Exception as e:
        raise refusal(e, "separation") from None
    return figures.plot(fig), text
