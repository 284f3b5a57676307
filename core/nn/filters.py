"""The fixed wavelet filters of SPEC §2: Gabor, Morlet, low-pass, and the three filter sets.

Everything here is plain numpy in float64; ``core.nn.blocks`` turns it into conv weights.

Conventions (SPEC §2 and §8)
----------------------------
* Pixel coordinates are u = (row, col). A filter is *centred*: its origin is the middle of the
  returned window, so ``window[r + a, r + b]`` is the value at offset u = (a, b).
* ``sigma`` is the spatial envelope width in pixels, ``xi`` the centre frequency in radians per
  pixel of the filter's own grid, ``slant`` the envelope's aspect ratio (the envelope is sigma
  wide along the wave vector and sigma/slant wide across it).
* Orientation k of L has angle theta_k = (floor(L/2) - 1 - k) * pi / L (they span pi only), and
  wave vector xi_k = xi * (cos theta_k, sin theta_k) in (row, col).

The one formula
---------------
    g(u) = exp(-u^T R_theta diag(1, s^2) R_theta^T u / (2 sigma^2) + i xi (u1 cos theta + u2 sin theta))
           / (2 pi sigma^2 / s)

is written once, in :func:`gabor`. A Morlet wavelet is psi = g_xi - K g_0 with K chosen so that
psi sums to exactly zero on the grid where it is evaluated; the low-pass phi is g with xi = 0,
s = 1. Unlike the reference code we use pi itself, not 3.1415 (SPEC §9).

Two ways to lay the same formula on a grid:
* :func:`morlet_window` / :func:`lowpass_window`: on a (2r+1)^2 window of offsets, used by the
  spatial convolution in ``core.nn.wavelet``. The radius is chosen by :func:`support_radius` so that
  the window holds all but ``TAIL_TOL`` of the filter's l1 mass.
* :func:`periodized`: summed over periodic copies of an M x N grid with the origin at index 0, the
  exact SPEC §2 definition, used by the FFT path of ``core.nn.wavelet``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# The spatial window of a filter is the smallest one that holds all but this fraction of the
# filter's l1 mass. The l1 tail bounds the relative error of the windowed convolution against the
# periodized definition; tests/test_wavelet.py checks it (relative error < 1e-3 on every filter
# set, borders included), under the bf16 resolution (4e-3) that training runs at. Windows:
# 7x7 for both CIFAR sets (L = 4), 11x11 (standard, psi1) and 15x15 (psi3/2) for L = 8.
TAIL_TOL = 1e-3


def orientations(L: int) -> np.ndarray:
    """Angles theta_k = (floor(L/2) - 1 - k) * pi / L, k = 0..L-1 (SPEC §2)."""
    if L < 1:
        raise ValueError(f"the number of orientations L must be >= 1, got {L}")
    return np.array([(L // 2 - 1 - k) * math.pi / L for k in range(L)])


def gabor(rows: np.ndarray, cols: np.ndarray, sigma: float, xi: float, theta: float, slant: float) -> np.ndarray:
    """The Gabor function g of SPEC §2 evaluated at offsets (rows, cols) (broadcastable arrays)."""
    c, s = math.cos(theta), math.sin(theta)
    along = rows * c + cols * s  # coordinate along the wave vector
    across = -rows * s + cols * c  # coordinate across it
    quad = (along**2 + (slant * across) ** 2) / (2 * sigma**2)
    return np.exp(-quad + 1j * xi * along) / (2 * math.pi * sigma**2 / slant)


@dataclass(frozen=True)
class Filter:
    """One filter's parameters. ``xi_vec`` is its centre frequency vector (row, col), rad/px."""

    sigma: float
    xi: float
    theta: float
    slant: float

    @property
    def xi_vec(self) -> tuple[float, float]:
        return (self.xi * math.cos(self.theta), self.xi * math.sin(self.theta))

    def values(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return gabor(rows, cols, self.sigma, self.xi, self.theta, self.slant)


@lru_cache(maxsize=256)
def support_radius(f: Filter, tol: float = TAIL_TOL) -> int:
    """Smallest r such that the window [-r, r]^2 holds all but ``tol`` of the filter's l1 mass
    (measured on the Morlet for a wavelet, on the Gaussian for a low-pass)."""
    # Far enough that the envelope (sigma wide along xi, sigma/slant across) is ~e^-50 at the edge.
    big = math.ceil(10 * f.sigma / min(f.slant, 1.0)) + 2
    full = np.abs(morlet_window(f, big) if f.xi else lowpass_window(f, big))
    total = full.sum()
    for r in range(1, big):
        inside = full[big - r: big + r + 1, big - r: big + r + 1].sum()
        if total - inside <= tol * total:
            return r
    return big


def _zero_mean(g_xi: np.ndarray, g_0: np.ndarray) -> np.ndarray:
    """Morlet construction psi = g_xi - K g_0, K = sum(g_xi) / sum(g_0): exactly zero mean."""
    return g_xi - (g_xi.sum() / g_0.sum()) * g_0


def _offsets(r: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.arange(-r, r + 1, dtype=np.float64)
    return a[:, None], a[None, :]


def morlet_window(f: Filter, radius: int | None = None) -> np.ndarray:
    """Morlet wavelet on a centred (2r+1)^2 window; complex128, sums to 0."""
    r = support_radius(f) if radius is None else radius
    rows, cols = _offsets(r)
    g0 = Filter(f.sigma, 0.0, f.theta, f.slant)
    return _zero_mean(f.values(rows, cols), g0.values(rows, cols))


def lowpass_window(f: Filter, radius: int | None = None) -> np.ndarray:
    """Low-pass phi (real Gaussian, xi = 0) on a centred (2r+1)^2 window; float64."""
    r = support_radius(f) if radius is None else radius
    rows, cols = _offsets(r)
    return f.values(rows, cols).real


def periodized(f: Filter, M: int, N: int, morlet: bool, folds: int = 2) -> np.ndarray:
    """The filter on an M x N grid with the origin at index (0, 0), periodized by summing the
    (2 folds + 1)^2 nearest periodic copies: the exact SPEC §2 definition (complex128)."""

    def summed(ff: Filter) -> np.ndarray:
        out = np.zeros((M, N), np.complex128)
        rr, cc = np.arange(M, dtype=np.float64)[:, None], np.arange(N, dtype=np.float64)[None, :]
        for a in range(-folds, folds + 1):
            for b in range(-folds, folds + 1):
                out += ff.values(rr + a * M, cc + b * N)
        return out

    g = summed(f)
    if not morlet:
        return g
    return _zero_mean(g, summed(Filter(f.sigma, 0.0, f.theta, f.slant)))


@dataclass(frozen=True)
class FilterSet:
    """One row of the SPEC §2 table: the wavelets psi_theta (L of them) and the low-pass phi."""

    name: str
    L: int
    psi_sigma: float
    psi_xi: float
    psi_slant: float
    phi_sigma: float
    subsample: bool

    @property
    def psi(self) -> list[Filter]:
        return [Filter(self.psi_sigma, self.psi_xi, float(t), self.psi_slant) for t in orientations(self.L)]

    @property
    def phi(self) -> Filter:
        return Filter(self.phi_sigma, 0.0, 0.0, 1.0)

    @property
    def stride(self) -> int:
        return 2 if self.subsample else 1

    @property
    def radius(self) -> int:
        """Radius of the spatial window shared by all filters of the set."""
        return max(support_radius(self.phi), *(support_radius(f) for f in self.psi))


def standard(L: int) -> FilterSet:
    """Standard J=1 set: psi sigma 0.8, xi 3pi/4, slant 4/L; phi sigma 0.8; subsample by 2."""
    return FilterSet("standard", L, 0.8, 3 * math.pi / 4, 4 / L, 0.8, True)


def psi1(L: int) -> FilterSet:
    """"psi_1" (even step): psi sigma 0.8, xi 3pi/4, slant 4/L; phi sigma 0.8/sqrt2; no subsampling."""
    return FilterSet("psi1", L, 0.8, 3 * math.pi / 4, 4 / L, 0.8 / math.sqrt(2), False)


def psi3_2(L: int) -> FilterSet:
    """"psi_3/2" (odd step): psi sigma 0.8 sqrt(1.5), xi pi/sqrt2, slant sqrt(3s^2/(4-s^2)) with
    s = 4/L; phi sigma 0.8/sqrt2; subsample by 2."""
    s = 4 / L
    return FilterSet("psi3/2", L, 0.8 * math.sqrt(1.5), math.pi / math.sqrt(2), math.sqrt(3 * s * s / (4 - s * s)),
                     0.8 / math.sqrt(2), True)


FILTER_SETS = {"standard": standard, "psi1": psi1, "psi3/2": psi3_2}


def filter_set(name: str, L: int) -> FilterSet:
    try:
        return FILTER_SETS[name](L)
    except KeyError:
        raise ValueError(f"unknown filter set {name!r}; choose one of {sorted(FILTER_SETS)}") from None


@lru_cache(maxsize=64)
def window_bank(fs: FilterSet) -> tuple[np.ndarray, np.ndarray]:
    """(phi, psi) on the set's common window: phi (K, K) float64, psi (L, K, K) complex128."""
    r = fs.radius
    return lowpass_window(fs.phi, r), np.stack([morlet_window(f, r) for f in fs.psi])


def spectral_bandwidth(kernel: np.ndarray, xi_vec: tuple[float, float], n_fft: int = 64) -> float:
    """sigma_rms of SPEC §8 for a white input: sqrt(sum |psi^|^2 |omega - xi|^2 / sum |psi^|^2), rad/px.

    Frequencies are wrapped to (-pi, pi] around xi, as on the filter's own pixel grid."""
    K = kernel.shape[0]
    r = K // 2
    grid = np.zeros((n_fft, n_fft), np.complex128)
    rows, cols = np.meshgrid(np.arange(-r, r + 1) % n_fft, np.arange(-r, r + 1) % n_fft, indexing="ij")
    np.add.at(grid, (rows, cols), kernel)
    power = np.abs(np.fft.fft2(grid)) ** 2
    w = 2 * math.pi * np.fft.fftfreq(n_fft)
    d1 = (w[:, None] - xi_vec[0] + math.pi) % (2 * math.pi) - math.pi
    d2 = (w[None, :] - xi_vec[1] + math.pi) % (2 * math.pi) - math.pi
    return float(math.sqrt((power * (d1**2 + d2**2)).sum() / power.sum()))
