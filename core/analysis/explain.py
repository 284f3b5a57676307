"""The science behind the demo's pictures (poster panels), computed here and tested in tests/test_explain.py.

* :func:`morlet_view`: a block's Morlet wavelet drawn in input pixels (real, imaginary, modulus,
  phase) with its centre frequency xi and envelope width sigma.
* :func:`relu_parts`: ReLU(x - lambda) = even part (absolute value with a dead zone, collapses the
  sign) + odd part (soft-thresholding, keeps the sign).
* :func:`coefficient_samples` / :func:`separation`: wavelet coefficients x * psi(u) of stationary
  images over positions u (= over translations) are circularly symmetric around 0, so their class
  means coincide; their moduli have class-dependent means (the "class mean separation" panel).
* :func:`channel_ranking`, :func:`feature_change`: what the layer-by-layer panels pick and plot.

Conventions follow ``core.analysis``: u = (row, col), tau = (dy, dx) pixels, frequencies rad/px.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.analysis.phases import abs2, circular_filter, relative_error
from core.nn.filters import Filter, morlet_window, spectral_bandwidth

# --------------------------------------------------------------------------------------------
# A Morlet wavelet, as in the poster's four panels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MorletView:
    """A wavelet on a centred window of input pixels. ``xi`` (row, col) rad per input pixel,
    ``sigma`` the envelope width and ``bandwidth`` the spectral sigma_rms, in input pixels."""

    kernel: np.ndarray  # complex128 (K, K), offsets -r..r
    xi: tuple[float, float]
    sigma: float
    bandwidth: float
    theta: float

    @property
    def real(self) -> np.ndarray:
        return self.kernel.real

    @property
    def imag(self) -> np.ndarray:
        return self.kernel.imag

    @property
    def modulus(self) -> np.ndarray:
        return np.abs(self.kernel)

    @property
    def phase(self) -> np.ndarray:
        return np.angle(self.kernel)

    @property
    def wavelength(self) -> float:
        """2 pi / |xi|, input pixels: the stripes' period in the phase panel."""
        return 2 * math.pi / math.hypot(*self.xi)


def morlet_view(filters, k: int, scale: int = 1, radius: int | None = None) -> MorletView:
    """Orientation ``k`` of a :class:`core.nn.filters.FilterSet` used at a block whose pixels are
    ``scale`` input pixels, drawn on the input grid: sigma * scale wide, frequency xi / scale."""
    if not 0 <= k < filters.L:
        raise ValueError(f"orientation must be in 0..{filters.L - 1}, got {k}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    base = filters.psi[k]
    f = Filter(base.sigma * scale, base.xi / scale, base.theta, base.slant)
    kernel = morlet_window(f, radius)
    bw = spectral_bandwidth(morlet_window(base), base.xi_vec) / scale
    return MorletView(kernel, f.xi_vec, f.sigma, bw, f.theta)


# --------------------------------------------------------------------------------------------
# ReLU = absolute value with a dead zone + soft-thresholding
# --------------------------------------------------------------------------------------------


def relu_parts(x: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    """Even/odd decomposition of ReLU(x - threshold), threshold >= 0:

        even(x) = (ReLU(x - l) + ReLU(-x - l)) / 2 = max(|x| - l, 0) / 2           (collapses the sign)
        odd(x)  = (ReLU(x - l) - ReLU(-x - l)) / 2 = sign(x) max(|x| - l, 0) / 2   (soft-thresholding)

    and relu = even + odd exactly."""
    if threshold < 0:
        raise ValueError(f"the threshold must be >= 0, got {threshold}")
    x = np.asarray(x, dtype=np.float64)
    relu = np.maximum(x - threshold, 0)
    mirrored = np.maximum(-x - threshold, 0)
    return {"relu": relu, "even": (relu + mirrored) / 2, "odd": (relu - mirrored) / 2}


# --------------------------------------------------------------------------------------------
# Class mean separation with phase collapses
# --------------------------------------------------------------------------------------------


def texture_filter(j: int, k: int, L: int = 4) -> Filter:
    """Morlet wavelet at scale 2^j (sigma = 0.8 2^j px, xi = 3 pi / 4 / 2^j), orientation k of L,
    slant 4 / L: the CIFAR "psi_1" wavelet dilated by 2^j."""
    theta = (L // 2 - 1 - k) * math.pi / L
    return Filter(0.8 * 2**j, 3 * math.pi / 4 / 2**j, theta, 4 / L)


def gray_standardized(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) or (H, W) image -> luminance with zero mean and unit variance (float64)."""
    x = x.double()
    if x.dim() == 3:
        x = x.mean(0)
    x = x - x.mean()
    return x / x.std().clamp_min(1e-12)


def coefficient_samples(image: torch.Tensor, f: Filter, n: int = 400, seed: int = 0) -> torch.Tensor:
    """x * psi(u) at ``n`` random positions u of the torus of a standardized gray image (complex128).

    Positions stand in for translations: (tau . x) * psi(u) = x * psi(u - tau)."""
    z = circular_filter(gray_standardized(image), f)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, z.numel(), (n,), generator=g)
    return z.reshape(-1)[idx]


def _fisher_1d(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.mean() - b.mean()) ** 2 / (a.var() + b.var()).clamp_min(1e-30))


def _fisher_2d(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fisher's criterion of the best linear direction in the plane (LDA): d^T (Sa + Sb)^-1 d."""
    pa, pb = torch.stack([a.real, a.imag], 1), torch.stack([b.real, b.imag], 1)
    d = pa.mean(0) - pb.mean(0)
    s = torch.cov(pa.T) + torch.cov(pb.T) + 1e-12 * torch.eye(2, dtype=pa.dtype)
    return float(d @ torch.linalg.solve(s, d))


def separation(za: torch.Tensor, zb: torch.Tensor) -> dict:
    """How well a linear classifier can tell two classes apart from complex coefficients versus
    from their moduli. ``mean_ratio_*`` = |E z| / sqrt(E |z|^2) (near 0: circular symmetry);
    ``fisher_*`` = squared distance of the class means over the summed variances, in the best
    linear direction (complex plane) or on the modulus."""
    ma, mb = za.abs(), zb.abs()
    rms = lambda z: float(z.abs().square().mean().sqrt().clamp_min(1e-30))
    return {
        "mean_a": complex(za.mean()), "mean_b": complex(zb.mean()),
        "mean_ratio_a": abs(complex(za.mean())) / rms(za), "mean_ratio_b": abs(complex(zb.mean())) / rms(zb),
        "modulus_mean_a": float(ma.mean()), "modulus_mean_b": float(mb.mean()),
        "fisher_complex": _fisher_2d(za, zb), "fisher_modulus": _fisher_1d(ma, mb),
    }


# --------------------------------------------------------------------------------------------
# Layer-by-layer helpers
# --------------------------------------------------------------------------------------------


def channel_ranking(wavelet: torch.Tensor, k: int) -> torch.Tensor:
    """Channel indices of one block's coefficients (C, L, H, W), most energetic first, for orientation k."""
    return wavelet[:, k].abs().square().sum(dim=(-2, -1)).argsort(descending=True)


def feature_change(original: list[dict], shifted: list[dict], key: str = "output") -> list[float]:
    """Per stage, ||f(tau . x) - f(x)|| / ||f(x)|| of real or complex feature maps (batch index 0),
    without shifting back: how (in)variant each stage is. For networks without wavelet filters."""
    return [float(relative_error(b[key][0], a[key][0])) for a, b in zip(original, shifted)]


def network_filters(config) -> list[tuple]:
    """(filter set, scale) of every block of a :class:`core.models.ScatConfig`, without building the
    model: ``scale`` is the product of the strides before the block (input pixels per block pixel)."""
    from core.nn.filters import filter_set

    out, scale = [], 1
    for name in config.filter_sets:
        fs = filter_set(name, config.L)
        out.append((fs, scale))
        scale *= fs.stride
    return out


# --------------------------------------------------------------------------------------------
# The theory, layer by layer: one wavelet dilated to each block's scale, applied to the image
# --------------------------------------------------------------------------------------------


class DilatedBank:
    """For each block of a network, its L wavelets dilated to input pixels (sigma * scale,
    xi / scale), applied directly to the (gray) image on its torus: what SPEC §8's layer-by-layer
    story predicts without the cascade (no subsampling, no aliasing, no learned P in between).

    ``errors`` gives, per block, the relative errors of (tau . x) * psi against
    e^{-i xi . tau} (x * psi) and of the moduli, and the bound |tau| sigma_rms, all in input pixels;
    the same quantities as ``core.analysis.phase_shift_error``, batched over every filter."""

    def __init__(self, layers, h: int, w: int):
        from core.analysis.phases import fourier_filter

        self.L = [fs.L for fs, _ in layers]
        self.filters = [Filter(f.sigma * s, f.xi / s, f.theta, f.slant) for fs, s in layers for f in fs.psi]
        self.hat = torch.stack([fourier_filter(f, h, w) for f in self.filters]).to(torch.complex64)  # (F, h, w)
        self.xi = torch.tensor([f.xi_vec for f in self.filters], dtype=torch.float64)  # (F, 2)
        wy, wx = _freqs(h, w)
        self.d2 = ((wy[None] - self.xi[:, 0, None, None]) ** 2 + (wx[None] - self.xi[:, 1, None, None]) ** 2)
        self.gain = self.hat.abs().double().square()  # |psi^|^2

    def rows(self, k: int) -> torch.Tensor:
        """One filter per block: orientation k of each block (clamped to its L - 1)."""
        starts = [sum(self.L[:j]) for j in range(len(self.L))]
        return torch.tensor([s + min(max(k, 0), L - 1) for s, L in zip(starts, self.L)])

    def coefficients(self, gray: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """x * psi for every filter, or for the filters ``rows``: (F, h, w) complex64."""
        hat = self.hat if rows is None else self.hat[rows]
        return torch.fft.ifft2(torch.fft.fft2(gray.to(torch.complex64)) * hat)

    def sigma_rms(self, gray: torch.Tensor) -> torch.Tensor:
        """Per filter, the spectral spread of x * psi around xi (rad per input pixel)."""
        power = torch.fft.fft2(gray.to(torch.complex128)).abs().square() * self.gain
        return ((power * self.d2).sum((-2, -1)) / power.sum((-2, -1)).clamp_min(1e-30)).sqrt()

    def reference(self, gray: torch.Tensor) -> dict:
        """What :meth:`errors` needs from the untranslated image, computed once per image."""
        z = self.coefficients(gray)
        p = abs2(z)
        return {"z": z, "modulus": p.sqrt(), "norm2": p.sum((-2, -1)).double(),
                "sigma": self.sigma_rms(gray)}

    def errors(self, ref: dict, zs: torch.Tensor, tau: tuple[float, float],
               rows: torch.Tensor | None = None) -> list[dict]:
        """Per block: errors of the translated image's coefficients ``zs`` against ``ref`` (from
        :meth:`reference`), per orientation and over all of them, and the bounds. With ``rows``
        (from :meth:`rows`; ``zs`` then holds those filters only) each block has one orientation."""
        from core.analysis.phases import phase_rotate, predicted_phase_shift

        sel = (lambda t: t) if rows is None else (lambda t: t[rows])
        pred = predicted_phase_shift(sel(self.xi), tau)
        den, sigma = sel(ref["norm2"]), sel(ref["sigma"])
        lin = abs2(zs - phase_rotate(sel(ref["z"]), pred[:, None, None])).sum((-2, -1)).double()
        mod = (abs2(zs).sqrt() - sel(ref["modulus"])).square().sum((-2, -1)).double()
        out, i = [], 0
        for j, L in enumerate(self.L if rows is None else [1] * len(self.L)):
            s = slice(i, i + L)
            i += L
            out.append({"block": j,
                        "linear_error": (lin[s] / den[s].clamp_min(1e-30)).sqrt().tolist(),
                        "modulus_error": (mod[s] / den[s].clamp_min(1e-30)).sqrt().tolist(),
                        "linear_error_all": float((lin[s].sum() / den[s].sum().clamp_min(1e-30)).sqrt()),
                        "modulus_error_all": float((mod[s].sum() / den[s].sum().clamp_min(1e-30)).sqrt()),
                        "bound": (math.hypot(*tau) * sigma[s]).tolist()})
            if rows is not None:
                out[-1]["orientation"] = int(rows[j]) - sum(self.L[:j])
        return out


def _freqs(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    from core.analysis.shifts import frequency_grid

    return frequency_grid(h, w)
