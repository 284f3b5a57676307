"""Translations of images: the one home of the translation operator tau . x, its boundary modes and
the grids of shifts.

``translate(x, tau, mode)`` is (tau . x)(u) = x(u - tau), sub-pixel allowed: ``"circular"`` is the
exact Fourier shift on the torus (multiply the spectrum by exp(-i omega . tau)); ``"zero"`` puts the
image on a zero canvas large enough that nothing wraps, shifts it there and crops it back.
``translate_batch`` translates one image by many shifts at once; ``shift_images`` translates each
image of a batch by its own shift. Everything else (the phase analysis, the stability maps, the
shift-consistency evaluation and the demo) imports them from here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

MODES = ("circular", "zero")  # boundary conditions of a translation
DEFAULT_EXTENT = 2.0  # a grid of shifts: input pixels, either axis
DEFAULT_STEPS = 17  # grid points per axis (odd: 0 is on the grid)
MAX_EXTENT = 8.0
MAX_STEPS = 33


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"boundary mode must be 'circular' or 'zero', got {mode!r}")
    return mode


def frequency_grid(h: int, w: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Angular frequencies (rad/px) of an h x w FFT, in [-pi, pi), broadcastable (h, 1) and (1, w)."""
    wy = 2 * math.pi * torch.fft.fftfreq(h, device=device, dtype=torch.float64)
    wx = 2 * math.pi * torch.fft.fftfreq(w, device=device, dtype=torch.float64)
    return wy[:, None], wx[None, :]


def fourier_shift(x: torch.Tensor, tau: tuple[float, float]) -> torch.Tensor:
    """Circular translation by tau = (dy, dx) pixels, sub-pixel allowed: multiply the spectrum by
    exp(-i omega . tau). Integer shifts equal torch.roll exactly (up to rounding). Real in, real out."""
    h, w = x.shape[-2:]
    wy, wx = frequency_grid(h, w, x.device)
    ramp = torch.exp(-1j * (wy * tau[0] + wx * tau[1])).to(torch.complex64 if x.dtype != torch.float64
                                                            else torch.complex128)
    y = torch.fft.ifft2(torch.fft.fft2(x) * ramp)
    return y if x.is_complex() else y.real.to(x.dtype)


def zero_pad_shift(x: torch.Tensor, tau: tuple[float, float]) -> torch.Tensor:
    """Non-circular translation: the image sits on a zero canvas large enough that nothing wraps,
    is Fourier-shifted there, and is cropped back. What leaves the frame is lost, zeros come in."""
    m = int(math.ceil(max(abs(tau[0]), abs(tau[1])))) + 2
    pad = torch.nn.functional.pad(x, (m, m, m, m))
    return fourier_shift(pad, tau)[..., m:-m, m:-m]


def translate(x: torch.Tensor, tau: tuple[float, float], mode: str = "circular") -> torch.Tensor:
    """(tau . x)(u) = x(u - tau), ``mode`` "circular" (exact Fourier shift on the torus) or "zero"."""
    if check_mode(mode) == "circular":
        return fourier_shift(x, tau)
    return zero_pad_shift(x, tau)


def shift_offsets(extent: float = DEFAULT_EXTENT, steps: int = DEFAULT_STEPS) -> list[float]:
    """``steps`` equally spaced offsets from -extent to +extent pixels (``steps`` odd, so that 0 is
    one of them): the shifts along each axis."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"steps must be an integer, got {steps!r}")
    extent = float(extent)
    if not math.isfinite(extent) or not 0 < extent <= MAX_EXTENT:
        raise ValueError(f"the grid's extent must be in (0, {MAX_EXTENT:g}] pixels, got {extent}")
    if not 3 <= steps <= MAX_STEPS or steps % 2 == 0:
        raise ValueError(f"steps must be odd and in 3..{MAX_STEPS}, got {steps}")
    half = (steps - 1) // 2
    return [extent * i / half for i in range(-half, half + 1)]  # exact 0 and +-extent


def shift_grid(offsets: list[float]) -> torch.Tensor:
    """Every shift (dy, dx) of the grid, (n^2, 2) float64, row-major: row i * n + j is
    (dy, dx) = (offsets[i], offsets[j])."""
    o = torch.tensor(offsets, dtype=torch.float64)
    dy, dx = torch.meshgrid(o, o, indexing="ij")
    return torch.stack([dy.reshape(-1), dx.reshape(-1)], 1)


def fourier_shift_batch(x: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """``core.analysis.fourier_shift`` of one image (C, H, W) by each row of ``taus`` (N, 2) at once:
    (N, C, H, W). The same ramp exp(-i omega . tau), computed in float64 and cast as it casts it."""
    h, w = x.shape[-2:]
    wy, wx = frequency_grid(h, w, x.device)
    phase = wy[None] * taus[:, 0, None, None].to(x.device) + wx[None] * taus[:, 1, None, None].to(x.device)
    ramp = torch.exp(-1j * phase).to(torch.complex128 if x.dtype == torch.float64 else torch.complex64)
    y = torch.fft.ifft2(torch.fft.fft2(x)[None] * ramp[:, None])
    return y.real.to(x.dtype)


def translate_batch(x: torch.Tensor, taus: torch.Tensor, mode: str = "circular") -> torch.Tensor:
    """One real image x (C, H, W) or (1, C, H, W) translated by each shift of ``taus`` (N, 2) (dy, dx):
    (N, C, H, W), equal to ``core.analysis.shifts.translate(x, tau, mode)`` for every tau (up to rounding;
    "zero" uses translate's own canvas margin, ceil(max |tau|) + 2, per shift)."""
    check_mode(mode)
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"one image expected, got a batch of {x.shape[0]}")
        x = x[0]
    taus = torch.as_tensor(taus, dtype=torch.float64).reshape(-1, 2)
    if len(taus) == 0:
        return x.new_empty((0, *x.shape))
    if mode == "circular":
        return fourier_shift_batch(x, taus)
    out = torch.empty((len(taus), *x.shape), dtype=x.dtype, device=x.device)
    margins = taus.abs().amax(1).ceil().long() + 2
    for m in margins.unique().tolist():  # a few groups: one margin per ceil(max |tau|)
        rows = (margins == m).nonzero().flatten()
        pad = torch.nn.functional.pad(x, (m, m, m, m))
        out[rows] = fourier_shift_batch(pad, taus[rows])[..., m:-m, m:-m]
    return out


def shift_images(x: torch.Tensor, taus: torch.Tensor, mode: str) -> torch.Tensor:
    """Translate image i of x (B, C, H, W) by taus[i] = (dy, dx) with core.analysis.shifts.translate."""
    out = torch.empty_like(x)
    uniq, inverse = torch.unique(taus, dim=0, return_inverse=True)
    for j, (dy, dx) in enumerate(uniq.tolist()):
        sel = (inverse == j).nonzero().squeeze(1).to(x.device)
        out[sel] = translate(x[sel], (float(dy), float(dx)), mode)
    return out
