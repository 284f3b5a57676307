"""core/explain.py and the analysis pieces the demo relies on (compare_blocks, block_spectra)."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from core.analysis import explain
from core.analysis.phases import (
    block_spectra,
    compare_blocks,
    measured_phase_shift,
    phase_rotate,
    predicted_phase_shift,
    relative_error,
    sigma_rms,
    wavelet_padding,
)
from core.analysis.shifts import translate
from core.data import to_tensor
from core.models import CIFAR10, IMAGENET, build_model
from core.nn.filters import filter_set, morlet_window

EXAMPLES = "demo/examples"


def test_morlet_view_is_the_block_filter_dilated_to_input_pixels():
    fs = filter_set("psi1", 4)
    v1, v4 = explain.morlet_view(fs, 1, 1), explain.morlet_view(fs, 1, 4)
    assert np.allclose(v1.kernel, morlet_window(fs.psi[1]))
    assert v4.sigma == pytest.approx(4 * fs.psi_sigma)
    assert np.allclose(np.array(v4.xi) * 4, fs.psi[1].xi_vec)
    assert v4.bandwidth == pytest.approx(v1.bandwidth / 4)
    assert abs(v4.kernel.sum()) < 1e-9 * np.abs(v4.kernel).sum()  # Morlet: zero mean
    r = v4.kernel.shape[0] // 2
    assert np.unravel_index(v4.modulus.argmax(), v4.modulus.shape) == (r, r)
    # its Fourier transform peaks at xi (rad per input pixel)
    n = 512
    spec = np.abs(np.fft.fft2(v4.kernel, (n, n)))
    peak = np.unravel_index(spec.argmax(), spec.shape)
    freq = [(2 * math.pi * p / n + math.pi) % (2 * math.pi) - math.pi for p in peak]
    assert freq == pytest.approx(list(v4.xi), abs=0.04)
    assert v4.wavelength == pytest.approx(2 * math.pi / fs.psi_xi * 4)
    with pytest.raises(ValueError, match=r"orientation must be in 0\.\.3, got 4"):
        explain.morlet_view(fs, 4)
    with pytest.raises(ValueError, match="scale must be >= 1, got 0"):
        explain.morlet_view(fs, 0, 0)


def test_relu_is_abs_with_dead_zone_plus_soft_threshold():
    x = np.linspace(-3, 3, 601)
    for lam in (0.0, 0.5, 1.2):
        p = explain.relu_parts(x, lam)
        assert np.allclose(p["relu"], np.maximum(x - lam, 0))
        assert np.allclose(p["even"] + p["odd"], p["relu"])
        assert np.allclose(p["even"], p["even"][::-1]) and np.allclose(p["odd"], -p["odd"][::-1])
        assert np.allclose(p["even"], np.maximum(np.abs(x) - lam, 0) / 2)  # sign collapsed
        assert np.allclose(p["odd"], np.sign(x) * np.maximum(np.abs(x) - lam, 0) / 2)  # sign kept
    with pytest.raises(ValueError, match="the threshold must be >= 0, got -1"):
        explain.relu_parts(x, -1)


def _noise(seed: int, slope: float, n: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    f = torch.fft.fftfreq(n, dtype=torch.float64)
    amp = 1 / ((f[:, None] ** 2 + f[None, :] ** 2).sqrt() + 0.02) ** slope
    return torch.fft.ifft2(torch.randn(n, n, generator=g, dtype=torch.float64) * amp).real


def test_phase_collapse_separates_stationary_classes_synthetic():
    """Two stationary textures with different spectra: complex coefficients share the mean 0; the
    moduli's means differ (SPEC §1 third bullet)."""
    f = explain.texture_filter(0, 0)
    za = explain.coefficient_samples(_noise(0, 0.0), f, 2000, seed=0)  # white: energy at every scale
    zb = explain.coefficient_samples(_noise(1, 2.0), f, 2000, seed=1)  # smooth: little at the finest scale
    s = explain.separation(za, zb)
    assert s["mean_ratio_a"] < 0.1 and s["mean_ratio_b"] < 0.1
    assert s["fisher_complex"] < 0.02
    assert s["fisher_modulus"] > 0.5
    assert s["modulus_mean_a"] > s["modulus_mean_b"]


def test_phase_collapse_separates_the_shipped_textures():
    grass, brick = (to_tensor(Image.open(f"{EXAMPLES}/{n}.jpg")) for n in ("grass", "brick"))
    f = explain.texture_filter(0, 1)
    s = explain.separation(explain.coefficient_samples(grass, f, 400, 0), explain.coefficient_samples(brick, f, 400, 1))
    assert s["fisher_complex"] < 0.05 < 0.3 < s["fisher_modulus"]


def test_coefficient_samples_are_circular_filter_values():
    x = _noise(3, 1.0, 32)
    f = explain.texture_filter(0, 2)
    z = explain.coefficient_samples(x, f, 50, seed=5)
    from core.analysis.phases import circular_filter

    full = circular_filter(explain.gray_standardized(x), f).reshape(-1)
    assert all(torch.isclose(v, full).any() for v in z)


def test_channel_ranking_and_feature_change():
    w = torch.zeros(3, 2, 4, 4, dtype=torch.complex64)
    w[0, 1] = 1
    w[1, 1] = 3j
    w[2, 1] = 2
    assert explain.channel_ranking(w, 1).tolist() == [1, 2, 0]
    a = [{"output": torch.ones(1, 2, 3, 3)}, {"output": torch.ones(1, 2, 3, 3)}]
    b = [{"output": torch.ones(1, 2, 3, 3)}, {"output": 1.5 * torch.ones(1, 2, 3, 3)}]
    assert explain.feature_change(a, b) == pytest.approx([0.0, 0.5])


def test_network_filters_match_the_built_model():
    assert [s for _, s in explain.network_filters(CIFAR10)] == [1, 1, 2, 2, 4, 4, 8, 8]
    assert [s for _, s in explain.network_filters(IMAGENET)] == [1, 2, 2, 4, 4, 8, 8, 16, 16, 32, 32]
    m = build_model("lscat_skip_cifar10", widths=(4,) * 8)
    for (fs, scale), info in zip(explain.network_filters(CIFAR10), m.block_info):
        assert fs == info.filters and scale == info.scale


def test_compare_blocks_matches_the_definitions():
    """compare_blocks computes its errors from sums; check them against the formulas written out."""
    torch.manual_seed(0)
    model = build_model("lscat_skip_cifar10", widths=(8,) * 8).eval()
    g = torch.Generator().manual_seed(2)
    x = torch.nn.functional.avg_pool2d(torch.randn(1, 3, 34, 34, generator=g), 3, 1)
    for tau, mode in (((0.7, -1.3), "circular"), ((2.0, 0.5), "zero"), ((16.0, 0.0), "circular")):
        padding = "circular" if mode == "circular" else "reflect"
        with wavelet_padding(model, padding), torch.no_grad():
            _, a = model.forward_intermediates(x)
            _, b = model.forward_intermediates(translate(x, tau, mode))
        spectra = block_spectra(a)
        rep = compare_blocks(a, b, tau, spectra=spectra)
        assert rep == compare_blocks(a, b, tau)  # spectra only saves time
        for r, ia, ib, sp in zip(rep, a, b, spectra):
            s = sp["sigma_rms"]
            info = ia["info"]
            tb = (tau[0] / info.scale, tau[1] / info.scale)
            pred = predicted_phase_shift(info.xi_block, tb)
            w, ws = ia["wavelet"][0].to(torch.complex128), ib["wavelet"][0].to(torch.complex128)
            lin = relative_error(ws, phase_rotate(w, pred[None, :, None, None]), dims=(0, 2, 3))
            mod = relative_error(ws.abs(), w.abs(), dims=(0, 2, 3))
            assert r["linear_error"] == pytest.approx(lin.tolist(), abs=2e-4)
            assert r["modulus_error"] == pytest.approx(mod.tolist(), abs=2e-4)
            assert r["linear_error_all"] == pytest.approx(float(relative_error(ws, phase_rotate(
                w, pred[None, :, None, None]))), abs=2e-4)
            meas = measured_phase_shift(ws, w, dims=(0, 2, 3))
            assert r["measured_phase"] == pytest.approx(meas.tolist(), abs=1e-4)
            assert s == pytest.approx([sigma_rms(ia["input"][0], f) for f in info.filters.psi], rel=1e-9)
            assert r["bound"] == pytest.approx([math.hypot(*tb) * v for v in s])
        if tau == (16.0, 0.0):  # a multiple of the total stride, on the torus: every block exactly shifted
            for ia, ib in zip(a, b):
                k = 16 * ia["wavelet"].shape[-2] // x.shape[-2]  # 16 px in the map's own pixels
                rolled = torch.roll(ia["wavelet"], shifts=k, dims=-2)
                assert torch.allclose(ib["wavelet"], rolled, atol=1e-4 * float(rolled.abs().max()))


def test_dilated_bank_matches_phase_shift_error(smooth_image):
    """The batched single-wavelet errors equal core.analysis.phase_shift_error filter by filter,
    stay under the bound, and fall with the block's scale (SPEC §8's layer-by-layer story)."""
    from core.analysis.phases import phase_shift_error

    layers = explain.network_filters(CIFAR10)
    bank = explain.DilatedBank(layers, 64, 64)
    tau = (0.6, -0.8)
    zs = bank.coefficients(translate(smooth_image, tau))
    rep = bank.errors(bank.reference(smooth_image), zs, tau)
    i = 0
    for r in rep:
        for k in range(4):
            ref = phase_shift_error(smooth_image, tau, bank.filters[i])
            assert r["linear_error"][k] == pytest.approx(ref["linear"], abs=1e-4)
            assert r["modulus_error"][k] == pytest.approx(ref["modulus"], abs=1e-4)
            assert r["bound"][k] == pytest.approx(ref["bound"], rel=1e-6)
            assert r["linear_error"][k] <= r["bound"][k] + 1e-4
            i += 1
    lin = [r["linear_error_all"] for r in rep]
    assert lin[0] > 0.5 and lin[-1] < lin[0] / 4
    assert all(a >= b for a, b in zip(lin[::2], lin[2::2]))  # one octave deeper, smaller error
    # one orientation per block (what the demo computes per update) gives the same numbers
    for k in (0, 3, 7):
        rows = bank.rows(k)
        one = bank.errors(bank.reference(smooth_image), bank.coefficients(translate(smooth_image, tau), rows),
                          tau, rows)
        kk = min(k, 3)
        assert [r["orientation"] for r in one] == [kk] * 8
        for r, full in zip(one, rep):
            assert r["linear_error"][0] == pytest.approx(full["linear_error"][kk], rel=1e-6)
            assert r["modulus_error"] == pytest.approx([full["modulus_error"][kk]], rel=1e-6)
            assert r["linear_error_all"] == pytest.approx(r["linear_error"][0])
