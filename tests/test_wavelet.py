"""The wavelet transform W against the literal SPEC §2 definition, and its symmetries."""

import numpy as np
import pytest
import torch

from core.nn.filters import filter_set, periodized
from core.nn.wavelet import WaveletTransform, as_complex, output_size, padded_index

SPATIAL_TOL = 1e-3  # the windowed filters drop at most TAIL_TOL = 1e-3 of their l1 mass
FFT_TOL = 1e-5  # float32 rounding


def definition(x: np.ndarray, fs) -> np.ndarray:
    """SPEC §2 written out: reflect-pad 2 px, circular convolution on the padded grid with the
    periodized filters (as an explicit sum, no FFT), keep every stride-th pixel, crop."""
    h, w = x.shape
    p = x[np.ix_(padded_index(h), padded_index(w))]
    m, n = p.shape
    s = fs.stride
    ho, wo = output_size(h, s), output_size(w, s)
    out = []
    for g in [periodized(fs.phi, m, n, morlet=False)] + [periodized(f, m, n, morlet=True) for f in fs.psi]:
        y = np.zeros((m, n), complex)
        for a in range(m):
            for b in range(n):
                y += p[a, b] * np.roll(np.roll(g, a, 0), b, 1)
        out.append(y[2: 2 + (ho - 1) * s + 1: s, 2: 2 + (wo - 1) * s + 1: s])
    return np.stack(out)


CASES = [(name, L, size) for name in ("standard", "psi1", "psi3/2") for L in (4, 8)
         for size in ((8, 8), (7, 9), (4, 5))]


@pytest.mark.parametrize("name,L,size", CASES)
@pytest.mark.parametrize("impl,tol", [("spatial", SPATIAL_TOL), ("fft", FFT_TOL)])
def test_matches_definition_including_borders(name, L, size, impl, tol):
    fs = filter_set(name, L)
    rng = np.random.default_rng(1)
    h, w = size
    z = rng.standard_normal((h, w)) + 1j * rng.standard_normal((h, w))
    ref = definition(z, fs)
    xc = torch.from_numpy(np.stack([z.real, z.imag]).astype(np.float32))[None]  # (1, 2, h, w)
    got = as_complex(WaveletTransform(1, fs, complex_input=True, impl=impl)(xc))[0, 0].numpy()
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < tol
    # a real input goes through the real path and matches the same definition
    xr = torch.from_numpy(z.real.astype(np.float32))[None, None]
    got_r = as_complex(WaveletTransform(1, fs, complex_input=False, impl=impl)(xr))[0, 0].numpy()
    ref_r = definition(z.real, fs)
    assert np.linalg.norm(got_r - ref_r) / np.linalg.norm(ref_r) < tol


def test_shapes_channels_and_strides():
    x = torch.randn(2, 3, 32, 32)
    y = WaveletTransform(3, filter_set("psi3/2", 4), complex_input=False)(x)
    assert y.shape == (2, 3, 5, 2, 16, 16)
    y = WaveletTransform(3, filter_set("psi1", 4), complex_input=True)(torch.randn(2, 6, 9, 7))
    assert y.shape == (2, 3, 5, 2, 9, 7)
    y = WaveletTransform(3, filter_set("standard", 8), complex_input=True)(torch.randn(1, 6, 7, 7))
    assert y.shape == (1, 3, 9, 2, 3, 3)  # odd sizes: floor(7 / 2)
    with pytest.raises(ValueError, match="expects"):
        WaveletTransform(3, filter_set("psi1", 4), complex_input=True)(torch.randn(1, 3, 8, 8))


def test_channels_are_filtered_separately():
    fs = filter_set("psi3/2", 4)
    op = WaveletTransform(2, fs, complex_input=True)
    x = torch.randn(1, 4, 12, 12)
    both = op(x)
    single = WaveletTransform(1, fs, complex_input=True)
    assert torch.allclose(both[:, 0], single(x[:, :2])[:, 0], atol=1e-6)
    assert torch.allclose(both[:, 1], single(x[:, 2:])[:, 0], atol=1e-6)


@pytest.mark.parametrize("impl", ["spatial", "fft"])
def test_circular_shift_by_stride_shifts_modulus_exactly(impl):
    """On the torus, shifting the input by the subsampling step shifts |x * psi| by one pixel."""
    fs = filter_set("psi3/2", 4)
    op = WaveletTransform(1, fs, complex_input=False, impl=impl, padding="circular")
    x = torch.randn(1, 1, 16, 16, dtype=torch.float64)
    for shift in ((2, 0), (0, 2), (4, -2)):
        a = as_complex(op(torch.roll(x, shift, dims=(2, 3)))).abs()
        b = torch.roll(as_complex(op(x)).abs(), (shift[0] // 2, shift[1] // 2), dims=(-2, -1))
        assert torch.allclose(a, b, atol=1e-12)


def test_spatial_and_fft_agree_in_float32_and_bf16():
    fs = filter_set("psi1", 4)
    x = torch.randn(2, 8, 16, 16)
    a = WaveletTransform(4, fs, True, impl="spatial")(x)
    b = WaveletTransform(4, fs, True, impl="fft")(x)
    assert ((a - b).norm() / b.norm()) < SPATIAL_TOL
    with torch.autocast("cpu", dtype=torch.bfloat16):
        c = WaveletTransform(4, fs, True, impl="spatial")(x)
    assert ((c.float() - b).norm() / b.norm()) < 2e-2


@pytest.mark.parametrize("impl", ["spatial", "fft"])
def test_gradcheck_float64(impl):
    op = WaveletTransform(1, filter_set("psi3/2", 4), complex_input=True, impl=impl).double()
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x,))


def test_bad_arguments():
    with pytest.raises(ValueError, match="impl"):
        WaveletTransform(1, filter_set("psi1", 4), True, impl="cuda")
    with pytest.raises(ValueError, match="padding"):
        WaveletTransform(1, filter_set("psi1", 4), True, padding="zeros")
