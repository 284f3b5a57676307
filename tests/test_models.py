"""The registry, SPEC §4 configurations and parameter counts, and forward_intermediates."""

import math

import pytest
import torch

from core.models import build_model, count_parameters, list_models

SPEC_PARAMS = {  # SPEC §4: real parameters (a complex weight counts twice), exactly
    "lscat_cifar10": 12_251_018, "lscat_skip_cifar10": 24_459_018,
    "lscat_imagenet": 29_052_584, "lscat_skip_imagenet": 53_495_144,
}
SMALL = {"widths": (4, 4, 4, 4, 4, 4, 4, 4)}


def test_registry_lists_the_required_models():
    assert {"lscat_cifar10", "lscat_skip_cifar10", "lscat_imagenet", "lscat_skip_imagenet",
            "resnet18_cifar10", "resnet18_biasfree", "scat_cifar10"} <= set(list_models())
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet50")
    with pytest.raises(ValueError, match="num_classes"):
        build_model("lscat_cifar10", num_classes=0)
    with pytest.raises(ValueError, match="non-linearity"):
        build_model("lscat_cifar10", nonlinearity="relu")
    from core.models import register

    with pytest.raises(ValueError, match="'lscat_cifar10' is already registered"):
        register("lscat_cifar10")(lambda **kw: None)
    assert build_model("lscat_cifar10", widths=(4,) * 8).model_name == "lscat_cifar10"  # the original kept


@pytest.mark.parametrize("name,count", SPEC_PARAMS.items())
def test_parameter_counts_match_spec(name, count):
    assert count_parameters(build_model(name)) == count


def test_resnet_parameter_counts():
    assert count_parameters(build_model("resnet18_cifar10")) == 11_173_962  # the standard CIFAR ResNet-18
    assert count_parameters(build_model("resnet18_imagenet")) == 11_689_512  # torchvision's resnet18
    # the bias-free one drops the BatchNorm affines, 2 x 4,800 parameters: the stem's 64 channels, two
    # BatchNorms in each of the 8 blocks (2 x 2 x (64 + 128 + 256 + 512)) and the 3 shortcuts' (128 + 256 + 512)
    assert count_parameters(build_model("resnet18_biasfree")) == 11_689_512 - 2 * 4_800


def test_resnet_width_option():
    from core.models import (
        CIFAR10_SMALL,
        IMAGENETTE_SMALL,
        RESNET18_WIDTH_CIFAR10_SMALL,
        RESNET18_WIDTH_IMAGENETTE_SMALL,
    )

    # width=64 is the default, parameter for parameter
    for name in ("resnet18_cifar10", "resnet18_imagenet", "resnet18_biasfree"):
        torch.manual_seed(0)
        a = build_model(name)
        torch.manual_seed(0)
        b = build_model(name, width=64)
        assert [(k, v.shape) for k, v in a.state_dict().items()] == [(k, v.shape) for k, v in b.state_dict().items()]
        assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    m = build_model("resnet18_cifar10", width=12)
    assert [s[0].conv1.out_channels for s in m.layers] == [12, 24, 48, 96] and m.fc.in_features == 96
    assert count_parameters(m) == 395_350
    assert count_parameters(build_model("resnet18_imagenet", width=17, num_classes=10)) == 793_655
    # bias-free at width w: the BatchNorm affines dropped are 2 x 75 w (4,800 at w = 64)
    assert count_parameters(build_model("resnet18_biasfree", width=8, num_classes=10)) == \
        count_parameters(build_model("resnet18_imagenet", width=8, num_classes=10)) - 2 * 75 * 8
    logits, feats = m.forward_intermediates(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and [f["output"].shape[1] for f in feats] == [12, 12, 24, 48, 96]
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="width must be a positive integer"):
            build_model("resnet18_cifar10", width=bad)
    # width-matched to the eighth-width LScat+skip models: no other width has a closer parameter count
    lscat = {"cifar10": count_parameters(build_model("lscat_skip_cifar10", widths=CIFAR10_SMALL)),
             "imagenette": count_parameters(build_model("lscat_skip_imagenet", widths=IMAGENETTE_SMALL,
                                                        num_classes=10, input_size=112))}
    assert lscat == {"cifar10": 387_306, "imagenette": 764_986}
    for ds, name, chosen in (("cifar10", "resnet18_cifar10", RESNET18_WIDTH_CIFAR10_SMALL),
                             ("imagenette", "resnet18_imagenet", RESNET18_WIDTH_IMAGENETTE_SMALL)):
        gap = {w: abs(count_parameters(build_model(name, width=w, num_classes=10)) - lscat[ds]) for w in range(4, 33)}
        assert min(gap, key=gap.get) == chosen, (ds, sorted(gap.items(), key=lambda kv: kv[1])[:3])
    assert (RESNET18_WIDTH_CIFAR10_SMALL, RESNET18_WIDTH_IMAGENETTE_SMALL) == (12, 17)


def test_resnet_imagenet_stem_at_112_px():
    """The Imagenette baseline's input sizes: the ImageNet stem (stride 4) leaves a 4x4 final map at
    112 px (3x3 for the 96 px training crops; 7x7 at 224), pooled globally, so any size works."""
    m = build_model("resnet18_imagenet", width=17, num_classes=10).eval()
    for size, final in ((112, 4), (96, 3), (224, 7)):
        _, feats = m.forward_intermediates(torch.randn(1, 3, size, size))
        assert feats[-1]["output"].shape[1:] == (136, final, final)


def test_scat_learns_only_the_head():
    m = build_model("scat_cifar10")
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("head.") for n in trainable)
    assert count_parameters(m, trainable_only=True) == 2 * 1024 + 4096 * 10 + 10


@pytest.mark.parametrize("name", ["lscat_cifar10", "lscat_skip_cifar10", "scat_cifar10"])
@pytest.mark.parametrize("nl", ["mod", "cst", "ms", "mc", "tanh"])
def test_cifar_models_forward_backward_every_nonlinearity(name, nl):
    m = build_model(name, nonlinearity=nl, **SMALL)
    y = m(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10)
    y.sum().backward()


def test_imagenet_models_other_sizes_and_classes():
    kw = {"widths": (4,) * 11}
    m = build_model("lscat_skip_imagenet", num_classes=10, input_size=160, **kw)
    assert m.head.spatial == 2 and m(torch.randn(1, 3, 160, 160)).shape == (1, 10)
    m = build_model("lscat_imagenet", **kw)
    assert m.head.spatial == 3 and m.head.fc.in_features == 2 * 4 * 9  # SPEC: 224 -> ... -> 7 -> 7 -> 3
    assert m(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    assert m(torch.randn(1, 3, 256, 200)).shape == (1, 1000)  # other sizes: pooled to 3 x 3
    with pytest.raises(ValueError, match="too small"):
        build_model("lscat_imagenet", input_size=8, **kw)


@pytest.mark.parametrize("size", [31, 33, 27, 17])
def test_odd_input_sizes(size):
    m = build_model("lscat_skip_cifar10", **SMALL)
    assert m(torch.randn(2, 3, size, size)).shape == (2, 10)
    assert m(torch.randn(2, 3, size, size + 2)).shape == (2, 10)


@pytest.mark.parametrize("name", ["lscat_cifar10", "lscat_skip_cifar10"])
@pytest.mark.parametrize("nl", ["mod", "cst", "ms", "mc", "tanh"])
def test_no_nan_gradients_for_zero_input(name, nl):
    """|z| and the other non-linearities have finite gradients at 0 by construction.

    At an exactly zero input every Std (batch variance 0) and N (norm 0) has a Jacobian of
    1/sqrt(eps); over 8 blocks in train mode that product exceeds float32's range, so train mode
    is checked in float64 and the float32 check uses running statistics (eval, as at inference)
    plus a single block in train mode. ms and mc contain z / (|z| + eps), discontinuous at 0 by
    definition (SPEC §5), whose Jacobian there is ~1/eps = 1e6: their full model is checked in
    float64 only."""
    float32_eval = [] if nl in ("ms", "mc") else [(torch.float32, False)]
    for dtype, train in float32_eval + [(torch.float64, True), (torch.float64, False)]:
        m = build_model(name, nonlinearity=nl, **SMALL).to(dtype).train(train)
        x = torch.zeros(2, 3, 32, 32, dtype=dtype, requires_grad=True)
        m(x).sum().backward()
        assert torch.isfinite(x.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)
    block = build_model(name, nonlinearity=nl, **SMALL).blocks[0].train()
    x = torch.zeros(2, 3, 32, 32, requires_grad=True)
    block(x).square().sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("nl", ["relu", "abs", "thresh", "tanh", "pow"])
def test_biasfree_resnet(nl):
    m = build_model("resnet18_biasfree", num_classes=10, nonlinearity=nl, stem="cifar")
    assert all(not isinstance(mod, torch.nn.BatchNorm2d) or mod.weight is None for mod in m.modules())
    assert all(not isinstance(mod, torch.nn.Conv2d) or mod.bias is None for mod in m.modules())
    x = torch.zeros(2, 3, 32, 32, requires_grad=True)
    m(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    logits, feats = m.forward_intermediates(torch.randn(1, 3, 32, 32))
    assert logits.shape == (1, 10) and len(feats) == 5


def test_forward_intermediates():
    m = build_model("lscat_skip_cifar10", **SMALL).eval()
    x = torch.randn(2, 3, 32, 32)
    logits, inter = m.forward_intermediates(x)
    assert torch.allclose(logits, m(x), atol=1e-5)
    assert len(inter) == 8
    b0, b1 = inter[0], inter[1]
    assert b0["wavelet"].shape == (2, 3, 4, 32, 32) and b0["wavelet"].is_complex()
    assert torch.allclose(b0["modulus"], b0["wavelet"].abs())
    assert b1["wavelet"].shape == (2, 4, 4, 16, 16) and b1["output"].shape == (2, 4, 16, 16)
    assert b0["input"].shape == (2, 3, 32, 32) and b1["input"].shape == (2, 4, 32, 32)
    info = inter[4]["info"]
    assert info.scale == 4 and info.sigma_input == pytest.approx(0.8 * 4)
    assert torch.allclose(info.xi_input, info.xi_block / 4)
    assert info.xi_block.norm(dim=1).tolist() == pytest.approx([3 * math.pi / 4] * 4)
    _, last2 = m.forward_intermediates(x, indices=2)
    assert [d["info"].index for d in last2] == [6, 7]
    none, early = m.forward_intermediates(x, indices=[1], stop_early=True)
    assert none is None and len(early) == 1
    _, few = m.forward_intermediates(x, keys=("wavelet",))
    assert set(few[3]) == {"wavelet", "info"} and torch.equal(few[3]["wavelet"], inter[3]["wavelet"])
    with pytest.raises(ValueError, match="unknown intermediate"):
        m.forward_intermediates(x, keys=("logits",))


def test_forward_intermediates_indices_are_validated_and_stop_early_stops():
    m = build_model("lscat_skip_cifar10", **SMALL).eval()
    x = torch.randn(1, 3, 32, 32)
    ran = []
    for j, block in enumerate(m.blocks):
        block.norm.register_forward_hook(lambda mod, inp, out, j=j: ran.append(j))  # _features runs N last
    _, inter = m.forward_intermediates(x, indices=[-1, 0, -8, 3], keys=("output",))
    assert [d["info"].index for d in inter] == [0, 3, 7] and ran == list(range(8))  # Python's negatives, once each
    for bad in ([8], [-9], [0, 12]):
        with pytest.raises(IndexError, match=f"block index {bad[-1]} is out of range for 8 blocks"):
            m.forward_intermediates(x, indices=bad)
    with pytest.raises(ValueError, match="indices=9 asks for the last 9 blocks; there are 8"):
        m.forward_intermediates(x, indices=9)
    with pytest.raises(TypeError, match="block indices must be ints"):
        m.forward_intermediates(x, indices=[1.5])
    assert m.forward_intermediates(x, indices=0)[1] == []
    ran.clear()
    logits, early = m.forward_intermediates(x, indices=[1, 2], stop_early=True, keys=("output",))
    assert logits is None and [d["info"].index for d in early] == [1, 2] and ran == [0, 1, 2]
    ran.clear()
    assert m.forward_intermediates(x, indices=[], stop_early=True) == (None, []) and ran == []


def test_resnet_forward_intermediates():
    m = build_model("resnet18_cifar10").eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        logits, feats = m.forward_intermediates(x)
        assert torch.allclose(logits, m(x), atol=1e-5)
        assert [f["output"].shape[1:] for f in feats] == [(64, 32, 32), (64, 32, 32), (128, 16, 16), (256, 8, 8),
                                                         (512, 4, 4)]
        ran = []
        m.layers[3].register_forward_hook(lambda *a: ran.append("stage 4"))
        none, early = m.forward_intermediates(x, indices=[-4, 1, 2], stop_early=True)
        assert none is None and len(early) == 2 and ran == []  # index -4 is stage 1: stages 3-4 never run
        assert torch.equal(early[1]["output"], feats[2]["output"])
        _, last = m.forward_intermediates(x, indices=1)
        assert ran == ["stage 4"] and torch.equal(last[0]["output"], feats[4]["output"])
    with pytest.raises(IndexError, match="block index 5 is out of range for 5 blocks"):
        m.forward_intermediates(x, indices=[5])
