"""Non-linearities compared by the paper (SPEC §5).

Complex ones act on the wavelet branch, in real view (..., 2, H, W) with channels on dim 1 and 2
(see ``core.nn.wavelet``); their learned parameters are per complex channel. Only ``mod`` collapses
the phase (its output is real); the others keep the phase and change the amplitude only.

    mod   |z|                                    phase collapse
    cst   ReLU(1 - lambda / (|z| + eps)) z        complex soft-thresholding, lambda init 0.1
    ms    sigmoid(g |z| + b) z / (|z| + eps)      modulus sigmoid, g = 1, b = 0
    mc    z / (|z| + eps)                        amplitude collapse
    tanh  tanh(|z|) z / (|z| + eps)

Real ones replace the ReLUs of the bias-free ResNet-18:

    relu, abs, thresh = sign(x) max(|x| - lambda, 0) (lambda init 1, learned per channel, unlike the
    reference where it silently was not), tanh, pow = x / (1 + |x|)

The gradient of |z| is finite at z = 0 by construction (:func:`modulus`): no NaN-patching hook.
"""

from __future__ import annotations

import torch
from torch import nn

EPS = 1e-6  # the reference's epsilon in z / (|z| + eps)


def modulus(z: torch.Tensor) -> torch.Tensor:
    """|z| of a real-view tensor (..., 2, H, W) -> (..., H, W), with gradient 0 (a subgradient) at 0.

    sqrt is only ever evaluated where |z|^2 > 0, so neither the value nor the gradient can be NaN.
    """
    sq = z.select(-3, 0).square() + z.select(-3, 1).square()
    if not (torch.is_grad_enabled() and sq.requires_grad):
        return sq.sqrt()  # no gradient to protect: the same values, three fewer passes (inference)
    pos = sq > 0
    return torch.where(pos, torch.where(pos, sq, torch.ones_like(sq)).sqrt(), torch.zeros_like(sq))


def _scale(z: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Multiply a real-view complex tensor by a real factor (..., H, W)."""
    return z * factor.unsqueeze(-3)


class ComplexNonlinearity(nn.Module):
    """One of mod, cst, ms, mc, tanh on complex channels shaped (B, *channel_shape, 2, H, W)."""

    NAMES = ("mod", "cst", "ms", "mc", "tanh")
    INIT = {"cst": {"threshold": 0.1}, "ms": {"gain": 1.0, "bias": 0.0}}

    def __init__(self, name: str, channel_shape: tuple[int, ...]):
        super().__init__()
        if name not in self.NAMES:
            raise ValueError(f"unknown wavelet non-linearity {name!r}; choose one of {', '.join(self.NAMES)}")
        self.name = name
        for pname, value in self.INIT.get(name, {}).items():
            self.register_parameter(pname, nn.Parameter(torch.full((*channel_shape, 1, 1), value)))

    @property
    def collapses_phase(self) -> bool:
        """True for mod, whose output is real; the others return complex (real view)."""
        return self.name == "mod"

    def extra_repr(self) -> str:
        return self.name

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        r = modulus(z)
        if self.name == "mod":
            return r
        if self.name == "cst":
            return _scale(z, torch.relu(1 - self.threshold / (r + EPS)))
        if self.name == "ms":
            return _scale(z, torch.sigmoid(self.gain * r + self.bias) / (r + EPS))
        if self.name == "mc":
            return _scale(z, 1 / (r + EPS))
        return _scale(z, torch.tanh(r) / (r + EPS))  # tanh


class RealNonlinearity(nn.Module):
    """relu, abs, thresh, tanh or pow on real (B, C, H, W) tensors."""

    NAMES = ("relu", "abs", "thresh", "tanh", "pow")

    def __init__(self, name: str, channels: int):
        super().__init__()
        if name not in self.NAMES:
            raise ValueError(f"unknown ResNet non-linearity {name!r}; choose one of {', '.join(self.NAMES)}")
        self.name = name
        if name == "thresh":
            self.threshold = nn.Parameter(torch.ones(channels, 1, 1))

    def extra_repr(self) -> str:
        return self.name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name == "relu":
            return torch.relu(x)
        if self.name == "abs":
            return x.abs()
        if self.name == "thresh":
            return torch.sign(x) * torch.relu(x.abs() - self.threshold)
        if self.name == "tanh":
            return torch.tanh(x)
        return x / (1 + x.abs())  # pow
