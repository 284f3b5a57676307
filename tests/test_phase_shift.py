"""SPEC §8: small translations are phase shifts, moduli are (nearly) invariant."""

import math

import pytest
import torch

from core.analysis.phases import (
    compare_blocks,
    measured_phase_shift,
    phase_shift_error,
    predicted_phase_shift,
    spectral_moments,
    wavelet_padding,
    wrap_phase,
)
from core.analysis.shifts import fourier_shift, translate
from core.models import build_model
from core.nn.filters import Filter, filter_set


def test_fourier_shift_integer_equals_roll_and_is_invertible():
    x = torch.randn(2, 3, 16, 12, dtype=torch.float64)
    assert torch.allclose(fourier_shift(x, (3, -2)), torch.roll(x, (3, -2), dims=(-2, -1)), atol=1e-12)
    # sub-pixel shifts of a real image are exactly invertible when there is no Nyquist bin (odd sizes)
    x = torch.randn(2, 3, 15, 13, dtype=torch.float64)
    y = fourier_shift(fourier_shift(x, (0.3, 1.7)), (-0.3, -1.7))
    assert torch.allclose(y, x, atol=1e-6)


def test_zero_pad_shift_brings_in_zeros():
    x = torch.ones(1, 8, 8, dtype=torch.float64)
    y = translate(x, (2, 0), mode="zero")
    assert torch.allclose(y[:, :2], torch.zeros(1, 2, 8, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(y[:, 2:], torch.ones(1, 6, 8, dtype=torch.float64), atol=1e-9)
    with pytest.raises(ValueError, match="boundary mode"):
        translate(x, (1, 0), mode="reflect")


@pytest.mark.parametrize("fs_name", ["psi1", "psi3/2", "standard"])
def test_phase_shift_error_below_bound_and_growing(smooth_image, fs_name):
    """(tau . x) * psi ~ exp(-i xi . tau) x * psi: error <= |tau| sigma_rms, and grows with |tau|."""
    for f in filter_set(fs_name, 4).psi:
        errors = []
        for t in (0.05, 0.1, 0.25, 0.5, 1.0):
            tau = (0.6 * t, 0.8 * t)  # sub-pixel, oblique
            r = phase_shift_error(smooth_image, tau, f)
            assert r["linear"] <= r["bound"] + 1e-9
            assert r["modulus"] <= r["linear"] + 1e-9  # | |a| - |b| | <= |a - b|
            errors.append(r["linear"])
        assert all(a < b for a, b in zip(errors, errors[1:]))
        assert errors[0] < 0.1


def test_wider_filters_shift_more_faithfully(smooth_image):
    """sigma 0.8 -> 3.2 -> 6.4 (xi scaled down accordingly): error for a 1 px shift falls (SPEC §8)."""
    errs = []
    for k in (0, 2, 3):
        f = Filter(0.8 * 2**k, 3 * math.pi / 4 / 2**k, 0.0, 1.0)
        errs.append(phase_shift_error(smooth_image, (1.0, 0.0), f)["linear"])
    assert errs[0] > 0.7 and errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.25


def test_predicted_and_measured_phase():
    assert float(wrap_phase(3 * math.pi / 2)) == pytest.approx(-math.pi / 2)
    xi = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert predicted_phase_shift(xi, (0.5, 0.25)).tolist() == pytest.approx([-0.25, -0.5])
    z = torch.randn(4, 4, dtype=torch.complex128)
    assert float(measured_phase_shift(z * torch.polar(torch.tensor(1.0, dtype=torch.float64),
                                                      torch.tensor(0.7, dtype=torch.float64)), z)) == pytest.approx(0.7)


def test_network_is_exactly_equivariant_on_the_torus():
    """Circular padding: shifting a 32 px input by 16 px (the network's total stride) rolls every
    block's moduli by 16 / (its output grid's size in input pixels) pixels, exactly."""
    torch.manual_seed(0)
    model = build_model("lscat_skip_cifar10", widths=(8, 8, 8, 8, 8, 8, 8, 8)).eval().double()
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)
    with wavelet_padding(model, "circular"), torch.no_grad():
        _, a = model.forward_intermediates(x)
        _, b = model.forward_intermediates(torch.roll(x, (16, 16), dims=(-2, -1)))
    for ia, ib in zip(a, b):
        s = ia["info"].scale * ia["info"].filters.stride
        rolled = torch.roll(ia["modulus"], (16 // s, 16 // s), dims=(-2, -1))
        assert torch.allclose(ib["modulus"], rolled, atol=1e-9)
    assert all(m.padding == "reflect" for m in model.modules() if hasattr(m, "padding"))


def test_compare_blocks_invariance_improves_with_depth():
    torch.manual_seed(0)
    model = build_model("lscat_skip_cifar10", widths=(16,) * 8).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.nn.functional.avg_pool2d(torch.randn(1, 3, 36, 36, generator=g), 5, 1)  # smooth, 32 x 32
    tau = (0.5, 0.5)
    with wavelet_padding(model, "circular"), torch.no_grad():
        _, a = model.forward_intermediates(x)
        _, b = model.forward_intermediates(translate(x, tau))
    rep = compare_blocks(a, b, tau)
    assert [r["scale"] for r in rep] == [1, 1, 2, 2, 4, 4, 8, 8]
    assert rep[2]["tau_block"] == (0.25, 0.25)
    assert len(rep[0]["predicted_phase"]) == 4
    assert rep[0]["linear_error_all"] <= max(rep[0]["bound"]) + 1e-6
    mods = [r["modulus_error_all"] for r in rep]
    assert mods[-1] < mods[0]


def test_compare_blocks_float32_sums_match_a_float64_direct_computation():
    """compare_blocks sums float32 maps per map and the per-map sums in float64, and gets the linear
    error from ||ws||^2 + ||w||^2 - 2 Re(e^{-ip} <ws, w>): check it against the direct float64
    computation, including an exact phase rotation, whose error must come out (nearly) zero."""
    torch.manual_seed(0)
    model = build_model("lscat_skip_cifar10", widths=(8,) * 8).eval()
    with torch.no_grad():
        _, a = model.forward_intermediates(torch.randn(1, 3, 32, 32), indices=[0], keys=("wavelet", "modulus"))
    w = a[0]["wavelet"]  # (1, C, L, H, W) complex64
    info = a[0]["info"]
    tau = (0.3, -0.45)
    pred = predicted_phase_shift(info.xi_block, (tau[0] / info.scale, tau[1] / info.scale))
    exact = w * torch.polar(torch.ones_like(pred), pred).to(w.dtype)[None, None, :, None, None]
    noisy = exact + 0.05 * torch.randn_like(w)
    for ws, zero in ((exact, True), (noisy, False)):
        spectra = [{"sigma_rms": [1.0] * info.filters.L, "centroid": [[0.0, 0.0]] * info.filters.L}]
        rep = compare_blocks([a[0]], [{"wavelet": ws}], tau, spectra=spectra)[0]
        w64, ws64 = w[0].to(torch.complex128), ws[0].to(torch.complex128)
        rot = torch.polar(torch.ones_like(pred), pred).to(torch.complex128)[None, :, None, None]
        direct = ((ws64 - rot * w64).abs().square().sum((0, 2, 3)) / w64.abs().square().sum((0, 2, 3))).sqrt()
        mod = ((ws64.abs() - w64.abs()).square().sum((0, 2, 3)) / w64.abs().square().sum((0, 2, 3))).sqrt()
        assert rep["linear_error"] == pytest.approx(direct.tolist(), abs=1e-3 if zero else 1e-5)
        assert rep["modulus_error"] == pytest.approx(mod.tolist(), abs=1e-5)
        if zero:
            assert max(rep["linear_error"]) < 1e-3
            assert rep["measured_phase"] == pytest.approx(wrap_phase(pred).tolist(), abs=1e-5)


# --------------------------------------------------------------------------------------------
# Why measured phase shifts are smaller than -xi . tau on natural images: the local frequency
# --------------------------------------------------------------------------------------------


def _power_law_image(n: int, alpha: float, seed: int = 0) -> torch.Tensor:
    """A random-phase image whose power spectrum falls as 1/|omega|^alpha (natural images: about 2)."""
    g = torch.Generator().manual_seed(seed)
    wy = torch.fft.fftfreq(n, dtype=torch.float64)[:, None]
    wx = torch.fft.fftfreq(n, dtype=torch.float64)[None, :]
    r = (wy**2 + wx**2).sqrt().clamp_min(1.0 / n)
    spectrum = r ** (-alpha / 2) * torch.fft.fft2(torch.randn(n, n, dtype=torch.float64, generator=g))
    return torch.fft.ifft2(spectrum).real


def test_plane_wave_shifts_by_its_own_frequency_not_xi():
    """x = cos(omega0 . u) with omega0 inside the filter's band but off xi: x * psi is a single
    complex exponential, so the measured phase shift is exactly -omega0 . tau, which the
    local-frequency prediction gives (centroid = omega0), while -xi . tau misses it."""
    n = 64
    f = filter_set("psi1", 4).psi[0]  # xi = (1.67, 1.67)
    omega0 = (0.0, 2 * math.pi * 20 / n)  # 1.96 rad/px, on the FFT grid, inside the band
    u = torch.arange(n, dtype=torch.float64)
    x = torch.cos(omega0[1] * u)[None, :].expand(n, n)
    tau = (0.0, 0.5)
    r = phase_shift_error(x, tau, f)
    assert r["centroid"][1] == pytest.approx(omega0[1], abs=1e-3)
    assert r["measured_phase"] == pytest.approx(-omega0[1] * tau[1], abs=1e-4)  # psi^(-omega0) ~ 0
    assert r["predicted_phase_local"] == pytest.approx(r["measured_phase"], abs=1e-3)
    assert abs(r["predicted_phase"] - r["measured_phase"]) > 0.1  # -xi.tau = -0.83 rad, measured -0.98


def test_white_noise_shifts_by_the_filters_own_mean_frequency():
    """A flat spectrum: the measured shift follows the filter's own mean frequency. For a wide filter
    well inside the band, that is xi. The finest wavelets (sigma 0.8 px, |xi| = 3 pi / 4) reach past
    the Nyquist frequency pi, where the sampled grid folds frequencies onto negative ones that a
    sub-pixel shift turns the other way: their mean frequency, and the measured shift, are about
    half of xi's even on white noise."""
    tau = (0.1, 0.15)
    wide = Filter(3.2, 3 * math.pi / 16, 0.0, 1.0)  # xi = (0.59, 0)
    fine = filter_set("psi1", 4).psi[1]  # xi = (2.36, 0)
    for f, expected in ((wide, 1.0), (fine, 0.48)):
        ratios = []
        for seed in range(8):
            x = torch.randn(64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            r = phase_shift_error(x, tau, f)
            ratios.append(r["measured_phase"] / r["predicted_phase"])
            assert r["predicted_phase_local"] == pytest.approx(r["measured_phase"], rel=0.1)  # first order in tau
        assert sum(ratios) / len(ratios) == pytest.approx(expected, abs=0.08)


@pytest.mark.parametrize("alpha", [2.0, 3.0])
def test_falling_spectrum_pulls_the_measured_shift_below_xi(alpha):
    """On a power-law image (natural-like spectrum), the measured phase shift is clearly smaller than
    -xi . tau, by the ratio |omega_bar| / |xi| of the local frequency, and the local-frequency
    prediction -omega_bar . tau matches the measurement far better than -xi . tau."""
    tau = (0.0, 0.25)
    for f in filter_set("psi1", 4).psi[:1]:
        for seed in range(4):
            x = _power_law_image(64, alpha, seed)
            r = phase_shift_error(x, tau, f)
            slope = r["measured_phase"] / r["predicted_phase"]
            assert 0.2 < slope < 0.95
            assert abs(r["centroid"][1]) < abs(f.xi_vec[1])
            err_local = abs(r["measured_phase"] - r["predicted_phase_local"])
            err_xi = abs(r["measured_phase"] - r["predicted_phase"])
            assert err_local < 0.2 * err_xi


def test_compare_blocks_local_prediction_is_exact_at_block_0_for_circular_shifts():
    """Block 0 sees the image itself: for a circular shift, the measured phase follows the
    local-frequency prediction of the block input's spectrum to second order in tau."""
    torch.manual_seed(0)
    model = build_model("lscat_skip_cifar10", widths=(8,) * 8).eval()
    x = _power_law_image(32, 2.0, 1).float()[None, None].expand(1, 3, 32, 32).contiguous()
    tau = (0.1, 0.15)
    with wavelet_padding(model, "circular"), torch.no_grad():
        _, a = model.forward_intermediates(x, indices=[0], keys=("wavelet", "modulus", "input"))
        _, b = model.forward_intermediates(translate(x, tau, "circular"), indices=[0], keys=("wavelet",))
    r = compare_blocks(a, b, tau)[0]
    local, meas, xi = (torch.tensor(r[k]) for k in ("predicted_phase_local", "measured_phase", "predicted_phase"))
    assert (local - meas).abs().max() < 0.25 * (xi - meas).abs().max()
    assert (meas.abs() < xi.abs() + 1e-6).all()


def test_nyquist_fold_on_a_flat_spectrum_depends_on_the_orientation():
    """docs/PHASES.md's figures: on a flat 32x32 spectrum (no image at all, so no spectrum effect), the
    finest CIFAR wavelets' local frequency |omega_bar| / |xi| is 0.52 for the axis-aligned orientations
    and 0.85 for the diagonal ones: the fold past Nyquist alone."""
    flat = torch.ones(32, 32, dtype=torch.float64)
    ratios = {}
    for f in filter_set("psi1", 4).psi:
        _, centroid = spectral_moments(flat, f)
        ratios[round(math.degrees(f.theta))] = math.hypot(*centroid) / math.hypot(*f.xi_vec)
    assert ratios[0] == pytest.approx(0.52, abs=0.005) and ratios[-90] == pytest.approx(0.52, abs=0.005)
    assert ratios[45] == pytest.approx(0.85, abs=0.005) and ratios[-45] == pytest.approx(0.85, abs=0.005)
