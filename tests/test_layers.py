"""Non-linearities, Std, P, N (SPEC §3, §5)."""

import pytest
import torch

from core.nn.blocks import ComplexLinear, ComplexStandardization, PixelNorm, ScatteringBlock, orthonormal_complex
from core.nn.filters import filter_set
from core.nn.nonlinearities import ComplexNonlinearity, RealNonlinearity, modulus


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


@pytest.mark.parametrize("lam", [1.0, 0.3])
def test_relu_is_abs_plus_soft_threshold(lam):
    """SPEC §1 with the project's own non-linearities: a biased ReLU is half an absolute value with a
    dead zone (the phase collapse) plus half a soft-thresholding (phase preserving):
    relu(x - lam) = (|x| - lam)_+ / 2 + thresh_lam(x) / 2, and (|x| - lam)_+ = |thresh_lam(x)|."""
    from core.analysis.explain import relu_parts

    x = torch.linspace(-3, 3, 61).view(1, 1, 1, 61)
    relu, absolute, thresh = (RealNonlinearity(n, 1) for n in ("relu", "abs", "thresh"))
    with torch.no_grad():
        thresh.threshold.fill_(lam)
        soft = thresh(x)
        dead_zone = relu(absolute(x) - lam)
        assert torch.allclose(relu(x - lam), 0.5 * dead_zone + 0.5 * soft, atol=1e-6)
        assert torch.allclose(dead_zone, soft.abs(), atol=1e-6)
    parts = relu_parts(x.flatten().numpy(), lam)  # the demo's explainer splits it the same way
    for key, ref in (("relu", relu(x - lam)), ("even", 0.5 * dead_zone), ("odd", 0.5 * soft)):
        assert torch.allclose(torch.from_numpy(parts[key]).float(), ref.flatten(), atol=1e-6), key


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


@pytest.mark.parametrize("offset", [1e4, -3e4, 1e4 + 2e4j])
def test_standardization_variance_is_accurate_far_from_zero(offset):
    """|mean| / std = 1e4 and more in float32: the batch variance (one pass, around a shift) against
    a float64 reference computed from the same float32 values, relative error <= 1e-3 (the one-pass
    E[x^2] - E[x]^2 loses every digit here: 1e8 * 6e-8 is already the whole variance)."""
    g = torch.Generator().manual_seed(0)
    zc = torch.complex(torch.randn(64, 2, 4, 4, generator=g), torch.randn(64, 2, 4, 4, generator=g)) + offset
    zr = torch.randn(64, 1, 4, 4, generator=g) * 2 + abs(offset)
    x = torch.cat([_real_view(zc.to(torch.complex64)), zr], 1).float()
    std = ComplexStandardization(n_complex=2, n_real=1, momentum=1.0).train()  # running stats = this batch's
    y = std(x)
    x64 = x.double()
    ref_mean = x64.mean(dim=(0, 2, 3))
    ref_var_real = x64.var(dim=(0, 2, 3))  # unbiased, as the running variance
    ref_var = torch.cat([ref_var_real[:4].view(2, 2).sum(1), ref_var_real[4:]])
    assert ((std.running_var.double() - ref_var).abs() / ref_var).max() <= 1e-3, (std.running_var, ref_var)
    assert ((std.running_mean.double() - ref_mean).abs() / ref_var_real.sqrt()).max() <= 1e-3
    y_ref = (x64 - ref_mean[:, None, None]) / torch.cat([ref_var[:2].repeat_interleave(2), ref_var[2:]]).mul(
        (x.numel() // 5 - 1) / (x.numel() // 5)).add(1e-5).sqrt()[:, None, None]
    assert (y.double() - y_ref).abs().max() < 5e-3  # x itself is quantized to ~1e-3 of its std at 1e4


def test_channel_moments_match_float64_and_are_differentiable():
    from core.nn.distributed import channel_moments

    g = torch.Generator().manual_seed(1)
    x = (torch.randn(6, 3, 5, 5, generator=g) + torch.tensor([1e4, -2.5e3, 0.0])[:, None, None]).float()
    mean, var, n = channel_moments(x)
    x64 = x.double()
    assert n.item() == 150 and mean.dtype == var.dtype == torch.float32
    assert torch.allclose(mean.double(), x64.mean(dim=(0, 2, 3)), rtol=0, atol=1e-3)
    assert torch.allclose(var.double(), x64.var(dim=(0, 2, 3), unbiased=False), rtol=1e-3, atol=0)
    xd = torch.randn(3, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: channel_moments(t)[:2], (xd,))


def _moments_worker(rank, world, init_file, x, out):
    import torch.distributed as dist

    from core.nn.distributed import channel_moments

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        share = x.shape[0] // world
        mean, var, n = channel_moments(x[rank * share:(rank + 1) * share].clone())
        torch.save({"mean": mean, "var": var, "n": n}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_channel_moments_over_two_gloo_ranks(tmp_path):
    """Two ranks with different means (the between-rank term matters) give the moments of the whole
    batch, with one all-reduce, to float64-reference accuracy at |mean| / std = 1e4."""
    import torch.multiprocessing as mp

    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 2, 3, 3, generator=g, dtype=torch.float64) + 1e4
    x[4:] += 3.0  # rank 1's images sit 3 std higher
    x = x.float()
    mp.spawn(_moments_worker, args=(2, str(tmp_path / "init"), x, str(tmp_path / "m")), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{tmp_path / 'm'}.{r}", weights_only=True) for r in (0, 1))
    x64 = x.double()
    assert r0["n"].item() == r1["n"].item() == 72
    for r in (r0, r1):
        assert torch.allclose(r["mean"].double(), x64.mean(dim=(0, 2, 3)), rtol=0, atol=1e-3)
        assert torch.allclose(r["var"].double(), x64.var(dim=(0, 2, 3), unbiased=False), rtol=1e-3, atol=0)
    assert torch.equal(r0["var"], r1["var"])


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


def test_a_block_made_under_inference_mode_runs(tmp_path):
    """Weights created inside torch.inference_mode (a model built or loaded there) have no version
    counter; the folded inference path then folds afresh and gives the same output."""
    torch.manual_seed(0)
    block = ScatteringBlock(2, 3, filter_set("psi3/2", 4), complex_input=True, skip=True)
    x = torch.randn(4, 4, 8, 8)
    block.train()(x)
    block.eval()
    with torch.no_grad():
        expected = block(x)
    state = block.state_dict()
    with torch.inference_mode():
        again = ScatteringBlock(2, 3, filter_set("psi3/2", 4), complex_input=True, skip=True).eval()
        again.load_state_dict(state)
        assert again.proj.weight.is_inference()
        assert torch.allclose(again(x), expected, atol=1e-6)
