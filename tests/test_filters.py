"""SPEC §2: the filters."""

import math

import numpy as np
import pytest

from core.nn.filters import (
    FILTER_SETS,
    TAIL_TOL,
    filter_set,
    morlet_window,
    orientations,
    periodized,
    spectral_bandwidth,
    support_radius,
    window_bank,
)

SETS = [(name, L) for name in FILTER_SETS for L in (4, 8, 6)]


def test_orientations_span_pi():
    assert np.allclose(orientations(4), [math.pi / 4, 0, -math.pi / 4, -math.pi / 2])
    th = orientations(8)
    assert len(th) == 8 and th.max() - th.min() == pytest.approx(math.pi * 7 / 8)


def test_filter_set_table():
    s = filter_set("standard", 8)
    assert (s.psi_sigma, s.psi_xi, s.psi_slant, s.phi_sigma, s.subsample) == (0.8, 3 * math.pi / 4, 0.5, 0.8, True)
    p1 = filter_set("psi1", 4)
    assert (p1.psi_sigma, p1.phi_sigma, p1.subsample) == (0.8, pytest.approx(0.8 / math.sqrt(2)), False)
    p3 = filter_set("psi3/2", 8)
    assert p3.psi_sigma == pytest.approx(0.8 * math.sqrt(1.5))
    assert p3.psi_xi == pytest.approx(math.pi / math.sqrt(2))
    assert p3.psi_slant == pytest.approx(math.sqrt(3 * 0.25 / (4 - 0.25)))
    with pytest.raises(ValueError, match="unknown filter set"):
        filter_set("psi2", 4)


@pytest.mark.parametrize("name,L", SETS)
def test_wavelets_have_zero_mean_and_lowpass_unit_gain(name, L):
    fs = filter_set(name, L)
    phi, psi = window_bank(fs)
    assert np.abs(psi.sum(axis=(1, 2))).max() < 1e-12
    assert phi.sum() == pytest.approx(1.0, abs=0.01)  # phi^(0) ~ 1
    for f in fs.psi:  # the periodized definition too
        assert abs(periodized(f, 12, 12, morlet=True).sum()) < 1e-12


def _spectrum(kernel, n=256):
    r = kernel.shape[0] // 2
    grid = np.zeros((n, n), complex)
    idx = np.arange(-r, r + 1) % n
    grid[np.ix_(idx, idx)] = kernel
    return np.fft.fft2(grid)


@pytest.mark.parametrize("name,L", SETS)
def test_centre_frequency_measured_from_fft(name, L):
    """argmax |psi^| sits at xi_theta, within the Morlet correction (-K g_0 pulls it by < 0.1 rad/px)."""
    fs = filter_set(name, L)
    _, psi = window_bank(fs)
    w = 2 * math.pi * np.fft.fftfreq(256)
    for k, f in enumerate(fs.psi):
        spec = np.abs(_spectrum(psi[k]))
        i, j = np.unravel_index(spec.argmax(), spec.shape)
        measured = np.array([w[i], w[j]])
        d = (measured - np.array(f.xi_vec) + math.pi) % (2 * math.pi) - math.pi
        assert np.hypot(*d) < 0.1, (f, measured)
        assert 0.95 < spec.max() < 1.0  # SPEC: |psi^| peaks at ~0.97-0.99


def test_gabor_peak_is_exactly_xi():
    """Without the zero-mean correction the spectrum peaks exactly at xi (grid chosen to hold it)."""
    from core.nn.filters import Filter, gabor

    f = Filter(0.8, 3 * math.pi / 4, math.pi / 2, 1.0)  # xi_vec = (0, 3pi/4): 3/8 of the way, on a 16k grid
    a = np.arange(-8, 9)
    spec = np.abs(_spectrum(gabor(a[:, None], a[None, :], f.sigma, f.xi, f.theta, f.slant), n=16))
    i, j = np.unravel_index(spec.argmax(), spec.shape)
    assert (i, j) == (0, 6)  # 6/16 * 2pi = 3pi/4


@pytest.mark.parametrize("name,L", SETS)
def test_window_keeps_all_but_tail_tol(name, L):
    fs = filter_set(name, L)
    for f in fs.psi:
        r = support_radius(f)
        big = np.abs(morlet_window(f, r + 12))
        inside = big[12:-12, 12:-12].sum()
        assert 1 - inside / big.sum() <= TAIL_TOL * 1.01


def test_spectral_bandwidth_shrinks_with_sigma():
    fs1, fs3 = filter_set("psi1", 4), filter_set("psi3/2", 4)
    b1 = spectral_bandwidth(window_bank(fs1)[1][0], fs1.psi[0].xi_vec)
    b3 = spectral_bandwidth(window_bank(fs3)[1][0], fs3.psi[0].xi_vec)
    assert b3 < b1 and 0.5 < b3 < 1.5
