"""Non-linearities, Std, P, N (SPEC §3, §5)."""

import pytest
import torch

from core.filters import filter_set
from core.layers import ComplexLinear, ComplexStandardization, PixelNorm, ScatteringBlock, orthonormal_complex
from core.nonlinearities import ComplexNonlinearity, RealNonlinearity, modulus


def _real_view(z):  # complex (B, C, H, W) -> (B, 2C, H, W) interleaved
    return torch.view_as_real(z).movedim(-1, 2).flatten(1, 2)


def test_modulus_value_and_finite_gradient_at_zero():
    z = torch.tensor([[[[0.0]], [[0.0]]], [[[3.0]], [[4.0]]]], requires_grad=True)  # (2, 2, 1, 1)
    r = modulus(z)
    assert r.flatten().tolist() == [0.0, 5.0]
    r.sum().backward()
    assert torch.isfinite(z.grad).all()
    assert z.grad[0].abs().sum() == 0  # subgradient 0 at the origin
    assert z.grad[1].flatten().tolist() == pytest.approx([0.6, 0.8])


@pytest.mark.parametrize("name", ComplexNonlinearity.NAMES)
def test_complex_nonlinearities(name):
    rho = ComplexNonlinearity(name, (3, 2))
    z = torch.randn(4, 3, 2, 2, 5, 5)
    y = rho(z)
    zc = torch.view_as_complex(z.movedim(3, -1).contiguous())
    if name == "mod":
        assert y.shape == (4, 3, 2, 5, 5) and torch.allclose(y, zc.abs(), atol=1e-6)
        return
    yc = torch.view_as_complex(y.movedim(3, -1).contiguous())
    # phase-preserving: same phase wherever the output is non-zero
    nz = yc.abs() > 1e-6
    assert torch.allclose(torch.angle(yc[nz]), torch.angle(zc[nz]), atol=1e-4)
    expected = {"cst": torch.relu(1 - 0.1 / (zc.abs() + 1e-6)) * zc.abs(),
                "ms": torch.sigmoid(zc.abs()) * zc.abs() / (zc.abs() + 1e-6),
                "mc": zc.abs() / (zc.abs() + 1e-6),
                "tanh": torch.tanh(zc.abs()) * zc.abs() / (zc.abs() + 1e-6)}[name]
    assert torch.allclose(yc.abs(), expected, atol=1e-5)
    assert sum(p.numel() for p in rho.parameters()) == {"cst": 6, "ms": 12}.get(name, 0)


@pytest.mark.parametrize("name", ComplexNonlinearity.NAMES)
def test_complex_nonlinearities_no_nan_at_zero_and_gradcheck(name):
    rho = ComplexNonlinearity(name, (2, 1)).double()
    z0 = torch.zeros(1, 2, 1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    rho(z0).sum().backward()
    assert torch.isfinite(z0.grad).all()
    for p in rho.parameters():
        assert torch.isfinite(p.grad).all()
    z = torch.randn(1, 2, 1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rho, (z,))


@pytest.mark.parametrize("name", RealNonlinearity.NAMES)
def test_real_nonlinearities(name):
    act = RealNonlinearity(name, 3)
    x = torch.linspace(-3, 3, 7).view(1, 1, 1, 7).expand(1, 3, 1, 7)
    y = act(x)[0, 0, 0]
    expected = {"relu": [0, 0, 0, 0, 1, 2, 3], "abs": [3, 2, 1, 0, 1, 2, 3], "thresh": [-2, -1, 0, 0, 0, 1, 2],
                "tanh": torch.tanh(torch.linspace(-3, 3, 7)).tolist(),
                "pow": [-0.75, -2 / 3, -0.5, 0, 0.5, 2 / 3, 0.75]}[name]
    assert y.tolist() == pytest.approx(expected, abs=1e-6)
    if name == "thresh":  # learnable, per channel (the reference silently froze it)
        assert act.threshold.requires_grad and act.threshold.shape == (3, 1, 1)
    with pytest.raises(ValueError, match="unknown"):
        RealNonlinearity("gelu", 3)


def test_relu_is_abs_plus_soft_threshold():
    """SPEC §1: relu(x - l) = (|x| - l)_+ / 2 ... the even/odd split of a biased ReLU."""
    x = torch.linspace(-3, 3, 61)
    lam = 1.0
    relu = torch.relu(x - lam)
    even = 0.5 * torch.relu(x.abs() - lam)  # absolute value with a dead zone
    odd = 0.5 * torch.sign(x) * torch.relu(x.abs() - lam)  # soft-thresholding
    assert torch.allclose(relu, even + odd)


def test_standardization_complex_statistics_and_running_stats():
    std = ComplexStandardization(n_complex=2, n_real=1)
    zc = torch.randn(64, 2, 4, 4, dtype=torch.complex64) * 3 + (1 + 2j)
    zr = torch.rand(64, 1, 4, 4) * 5 + 2
    x = torch.cat([_real_view(zc), zr], 1)
    y = std.train()(x)
    yc = torch.view_as_complex(y[:, :4].unflatten(1, (2, 2)).movedim(2, -1).contiguous())
    assert yc.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    assert torch.allclose(yc.abs().square().mean(dim=(0, 2, 3)), torch.ones(2), atol=1e-3)
    assert abs(y[:, 4].mean()) < 1e-5 and abs(y[:, 4].var(unbiased=False) - 1) < 1e-3
    for _ in range(100):
        std(x)
    y_eval = std.eval()(x)
    assert torch.allclose(y_eval, y, atol=2e-2)


def test_complex_projection_is_a_complex_matrix_product():
    p = ComplexLinear(n_complex=3, n_real=2, out_channels=4)
    zc = torch.randn(2, 3, 5, 5, dtype=torch.complex64)
    zr = torch.randn(2, 2, 5, 5)
    x = torch.cat([_real_view(zc), zr], 1)
    y = p(x)
    full = torch.cat([zc, zr.to(torch.complex64)], 1)  # real inputs are complex with zero imaginary part
    expected = torch.einsum("oi,bihw->bohw", p.complex_matrix(), full)
    assert torch.allclose(y, _real_view(expected), atol=1e-5)


def test_projection_init_is_orthonormal():
    w = orthonormal_complex(4, 9)
    assert torch.allclose(w @ w.conj().T, torch.eye(4, dtype=torch.complex64), atol=1e-5)
    w = orthonormal_complex(9, 4)
    assert torch.allclose(w.conj().T @ w, torch.eye(4, dtype=torch.complex64), atol=1e-5)


def test_pixel_norm_unit_vectors_and_zero_safe():
    n = PixelNorm()
    x = torch.randn(2, 6, 3, 3)
    assert torch.allclose(n(x).square().sum(1), torch.ones(2, 3, 3), atol=1e-4)
    z = torch.zeros(1, 4, 2, 2, requires_grad=True)
    n(z).sum().backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("nl", ["mod", "cst"])
def test_block_gradcheck_float64(skip, nl):
    torch.manual_seed(0)
    block = ScatteringBlock(2, 3, filter_set("psi3/2", 4), complex_input=True, skip=skip, nonlinearity=nl).double()
    block.eval()  # running statistics: a fixed function of x
    x = torch.randn(1, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,))
    block.train()  # batch statistics: the gradient flows through mean and variance too
    x2 = torch.randn(2, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x2,))


def test_inference_folds_std_into_p_and_follows_the_weights():
    torch.manual_seed(0)
    block = ScatteringBlock(2, 3, filter_set("psi3/2", 4), complex_input=True, skip=True)
    x = torch.randn(4, 4, 8, 8)
    block.train()(x)  # running statistics move away from their init
    block.eval()
    with torch.no_grad():
        w = block.wavelet(x)
        z = torch.cat([w.reshape(4, -1, 4, 4), block.rho(w).reshape(4, -1, 4, 4)], 1)
        unfused = block.norm(block.proj(block.std(z)))
        assert torch.allclose(block(x), unfused, atol=1e-5)
        block.proj.weight.mul_(-1)  # an in-place update (optimizer step, load_state_dict) is seen
        assert torch.allclose(block(x), -unfused, atol=1e-5)
        block.std.running_mean.add_(1.0)
        assert not torch.allclose(block(x), -unfused, atol=1e-3)
    assert block(x).requires_grad  # with autograd on, Std and P run unfused and differentiably
