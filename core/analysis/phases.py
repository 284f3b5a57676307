"""Translations as phase shifts (SPEC §8): the measurements the demo shows, computed and tested here.

With (tau . x)(u) = x(u - tau), a wavelet of centre frequency xi turns a small translation into a
phase shift:  (tau . x) * psi  ~  exp(-i xi . tau) (x * psi),  with relative error at most
|tau| sigma_rms, where sigma_rms^2 = sum |x^ psi^|^2 |omega - xi|^2 / sum |x^ psi^|^2 (Parseval).
The modulus removes the phase: |(tau . x) * psi| ~ |x * psi| up to the same error. A shift of tau
input pixels is tau / scale pixels at a block whose grid is ``scale`` input pixels, so the
approximation and the invariance of the moduli improve with depth.

Frequencies are radians per pixel on (row, col); ``tau`` is (dy, dx) = (rows, cols) in pixels.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch

from core.analysis.shifts import fourier_shift, frequency_grid
from core.nn.filters import Filter, periodized
from core.nn.wavelet import WaveletTransform

# --------------------------------------------------------------------------------------------
# Phase shifts and errors
# --------------------------------------------------------------------------------------------


def wrap_phase(p: torch.Tensor | float) -> torch.Tensor:
    """Wrap angles to (-pi, pi]."""
    p = torch.as_tensor(p, dtype=torch.float64)
    return math.pi - torch.remainder(math.pi - p, 2 * math.pi)


def predicted_phase_shift(xi: torch.Tensor, tau: tuple[float, float]) -> torch.Tensor:
    """-xi . tau, wrapped; ``xi`` (..., 2) in rad/px and ``tau`` in the same pixels."""
    xi = torch.as_tensor(xi, dtype=torch.float64)
    return wrap_phase(-(xi[..., 0] * tau[0] + xi[..., 1] * tau[1]))


def measured_phase_shift(z_shifted: torch.Tensor, z: torch.Tensor, dims=(-2, -1)) -> torch.Tensor:
    """Circular mean of angle(z_shifted / z) weighted by |z_shifted| |z| (about |z|^2 for a small shift):
    angle(sum z_shifted conj(z))."""
    return torch.angle((z_shifted * z.conj()).sum(dim=dims)).double()


def abs2(z: torch.Tensor) -> torch.Tensor:
    """|z|^2 of a complex tensor as re * re + im * im, in two passes (no hypot, no reduction over a
    real view, no square of a strided view: the fastest form on a CPU, by 2x)."""
    if not z.is_complex():
        return z * z
    re, im = z.real, z.imag
    return (re * re).addcmul_(im, im)


def relative_error(a: torch.Tensor, b: torch.Tensor, dims=None) -> torch.Tensor:
    """||a - b|| / ||b|| (over ``dims``, all if None)."""
    dims = tuple(range(a.dim())) if dims is None else dims
    num = (a - b).abs().square().sum(dim=dims)
    den = b.abs().square().sum(dim=dims).clamp_min(1e-30)
    return (num / den).sqrt()


def phase_rotate(z: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """z * exp(i phase), ``phase`` broadcast against z."""
    return z * torch.polar(torch.ones_like(phase), phase).to(z.dtype)


@lru_cache(maxsize=256)
def fourier_filter(f: Filter, h: int, w: int) -> torch.Tensor:
    """FFT of the filter periodized on an h x w torus (SPEC §2 definition), complex128; cached."""
    return torch.from_numpy(np.fft.fft2(periodized(f, h, w, morlet=f.xi != 0)))


def circular_filter(x: torch.Tensor, f: Filter) -> torch.Tensor:
    """x * psi on the torus of x's own grid (no padding, no subsampling), for the exact statements."""
    h, w = x.shape[-2:]
    psi_hat = fourier_filter(f, h, w).to(x.device)
    return torch.fft.ifft2(torch.fft.fft2(x.to(torch.float64 if not x.is_complex() else torch.complex128)) * psi_hat)


def sigma_rms(x: torch.Tensor, f: Filter) -> float:
    """Data-dependent spectral spread of x * psi around xi (SPEC §8), on x's grid, in rad/px.

    omega runs over [-pi, pi), the frequencies of the Fourier shift, so |tau| sigma_rms bounds the
    relative error of (tau . x) * psi against exp(-i xi . tau) x * psi for circular shifts."""
    return _sigma_rms_from_power(spectral_power(x), f)


def spectral_power(x: torch.Tensor) -> torch.Tensor:
    """sum over the leading axes of |x^|^2, (h, w) float64: since |x^ psi^|^2 = |x^|^2 |psi^|^2, one
    FFT of x serves :func:`sigma_rms` for every filter."""
    h, w = x.shape[-2:]
    return torch.fft.fft2(x.to(torch.complex128)).abs().square().reshape(-1, h, w).sum(0)


def _sigma_rms_from_power(x_power: torch.Tensor, f: Filter) -> float:
    return spectral_moments(x_power, f)[0]


def spectral_moments(x_power: torch.Tensor, f: Filter) -> tuple[float, tuple[float, float]]:
    """sigma_rms (the spread of |x^ psi^|^2 around xi) and the centroid omega_bar = sum P omega / sum P
    of P = |x^ psi^|^2, on the frequencies of the Fourier shift ([-pi, pi) rad/px, (row, col)).

    The centroid is the mean frequency at which x * psi actually oscillates. A circular translation
    multiplies each frequency of x * psi by exp(-i omega . tau), so the measured phase shift
    angle(sum_u (tau.x * psi) conj(x * psi)) = angle(sum_omega P(omega) exp(-i omega . tau)) is
    -omega_bar . tau to first order in tau, not -xi . tau: the two agree only when the spectrum of x
    is flat across the filter's band. Natural images' spectra fall with frequency (about 1/|omega|^2
    in power), which pulls omega_bar below xi, towards 0: measured shifts are smaller than -xi . tau.
    So do the finest wavelets, whose band reaches past pi: the grid folds those frequencies onto
    negative ones, which a shift turns the other way.

    For a real image the Fourier shift changes the Nyquist bins (omega = -pi along an even axis) in
    amplitude (cos(pi tau)), not in phase: they count with frequency 0 along that axis in the centroid."""
    h, w = x_power.shape
    power = x_power * fourier_filter(f, h, w).to(x_power.device).abs().square()
    wy, wx = frequency_grid(h, w, x_power.device)
    total = power.sum().clamp_min(1e-30)
    d2 = (wy - f.xi_vec[0]) ** 2 + (wx - f.xi_vec[1]) ** 2
    py, px = (wy.masked_fill(wy == -math.pi, 0.0), wx.masked_fill(wx == -math.pi, 0.0))
    centroid = (float((power * py).sum() / total), float((power * px).sum() / total))
    return float(((power * d2).sum() / total).sqrt()), centroid


def phase_shift_error(x: torch.Tensor, tau: tuple[float, float], f: Filter) -> dict:
    """For one filter on the torus: relative errors of the phase-shift approximation (linear
    coefficients) and of modulus invariance, the bound |tau| sigma_rms, and the phase shifts:
    predicted -xi . tau, measured, and the local-frequency prediction -omega_bar . tau
    (:func:`spectral_moments`)."""
    z = circular_filter(x, f)
    zs = circular_filter(fourier_shift(x, tau), f)
    pred = predicted_phase_shift(torch.tensor(f.xi_vec), tau)
    sigma, centroid = spectral_moments(spectral_power(x), f)
    return {
        "linear": float(relative_error(zs, phase_rotate(z, pred))),
        "modulus": float(relative_error(zs.abs(), z.abs())),
        "bound": math.hypot(*tau) * sigma,
        "predicted_phase": float(pred),
        "measured_phase": float(measured_phase_shift(zs, z, dims=tuple(range(z.dim())))),
        "predicted_phase_local": float(predicted_phase_shift(torch.tensor(centroid), tau)),
        "centroid": centroid,
    }


# --------------------------------------------------------------------------------------------
# Layer by layer, through a learned scattering network
# --------------------------------------------------------------------------------------------


@contextmanager
def wavelet_padding(model: torch.nn.Module, padding: str):
    """Temporarily run every wavelet transform of ``model`` with ``padding`` ("reflect"/"circular")."""
    mods = [m for m in model.modules() if isinstance(m, WaveletTransform)]
    old = [m.padding for m in mods]
    try:
        for m in mods:
            m.padding = padding
        yield model
    finally:
        for m, p in zip(mods, old):
            m.padding = p


def block_spectra(original: list[dict]) -> list[dict]:
    """Per block and orientation, the spectral moments of the block input x seen through the block's
    filter (:func:`spectral_moments`, block pixels, rad/px): "sigma_rms", the data-dependent bandwidth
    behind the bound |tau| sigma_rms, and "centroid", the mean frequency omega_bar behind the
    measured phase shift -omega_bar . tau. Depends on the image only, so callers that compare many
    translates of one image compute it once and pass it to :func:`compare_blocks`. Falls back on the
    filter's own bandwidth and centre frequency xi when "input" is absent."""
    out = []
    for a in original:
        info, block_input = a["info"], a.get("input")
        if block_input is not None:
            p = spectral_power(block_input[0])
            moments = [spectral_moments(p, fl) for fl in info.filters.psi]
        else:
            moments = [(info.bandwidth, tuple(fl.xi_vec)) for fl in info.filters.psi]
        out.append({"sigma_rms": [m[0] for m in moments], "centroid": [list(m[1]) for m in moments]})
    return out


def compare_blocks(original: list[dict], shifted: list[dict], tau: tuple[float, float],
                   spectra: list[dict] | None = None) -> list[dict]:
    """Per block, compare the intermediates of an image and of its translate by tau input pixels.

    ``original`` / ``shifted`` come from ``LearnedScattering.forward_intermediates`` (one image each,
    batch index 0). Returns, per block: tau in block pixels, per orientation the predicted phase
    shift -xi . tau_block, the measured one, and the local-frequency prediction -omega_bar . tau_block
    ("predicted_phase_local", with the centroid omega_bar of the block input's spectrum seen through
    the filter, see :func:`spectral_moments`: blocks 0-1 of the CIFAR model follow it (slopes 1.02 and
    0.98 in docs/PHASES.md); from block 2 on the measured shift reaches only 0.59-0.73 of it),
    the relative errors
    of the linear coefficients against exp(-i xi . tau) x * psi and of the moduli, the same errors
    over all orientations, and the bound |tau_block| sigma_rms. sigma_rms and omega_bar come from the
    block input's spectrum, or ``spectra`` as returned by :func:`block_spectra` for the same original."""
    spectra = block_spectra(original) if spectra is None else spectra
    out = []
    for j, (a, b) in enumerate(zip(original, shifted)):
        info = a["info"]
        tau_b = (tau[0] / info.scale, tau[1] / info.scale)
        xi = info.xi_block  # (L, 2)
        pred = predicted_phase_shift(xi, tau_b)  # (L,)
        w, ws = a["wavelet"][0], b["wavelet"][0]  # (C, L, H, W)
        # Per orientation, sums in float64. The linear error needs no rotated copy of w:
        #   ||ws - e^{i p} w||^2 = ||ws||^2 + ||w||^2 - 2 Re(e^{-i p} sum ws conj(w)),
        # and sum ws conj(w) is also the measured phase shift's. The errors over all orientations sum
        # numerators and denominators. |z|^2 is abs2 (faster on a CPU than complex abs, i.e. hypot).
        # Each map (H, W) is summed in its own precision (torch's cascade sums), the per-map sums in
        # float64 over channels: as exact as casting everything to float64, without the casting copy.
        total = lambda v: v.sum((-2, -1)).double().sum(0)
        m = a["modulus"][0] if "modulus" in a else abs2(w).sqrt()  # forward_intermediates gives it
        den = total(m * m)
        ss = abs2(ws)
        # sum over each map of ws conj(w), as one vecdot per map (no conjugated product tensor)
        cross = torch.linalg.vecdot(w.flatten(-2), ws.flatten(-2)).to(torch.complex128).sum(0)
        rotated = cross * torch.polar(torch.ones_like(pred), -pred)
        lin_num = (total(ss) + den - 2 * rotated.real).clamp_min(0)
        mod_num = total((ss.sqrt() - m).square())
        meas = torch.angle(cross)
        centroid = spectra[j]["centroid"]
        local = predicted_phase_shift(torch.tensor(centroid, dtype=torch.float64), tau_b).tolist()
        out.append({
            "block": j,
            "scale": info.scale,
            "tau_block": tau_b,
            "predicted_phase": pred.tolist(),
            "measured_phase": meas.tolist(),
            "predicted_phase_local": local,
            "centroid": centroid,
            "linear_error": (lin_num / den.clamp_min(1e-30)).sqrt().tolist(),
            "modulus_error": (mod_num / den.clamp_min(1e-30)).sqrt().tolist(),
            "linear_error_all": float((lin_num.sum() / den.sum().clamp_min(1e-30)).sqrt()),
            "modulus_error_all": float((mod_num.sum() / den.sum().clamp_min(1e-30)).sqrt()),
            "bound": [math.hypot(*tau_b) * s for s in spectra[j]["sigma_rms"]],
        })
    return out
