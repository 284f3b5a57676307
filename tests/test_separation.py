"""Class-mean separation (core/separation.py): the mechanism, on translation-invariant classes."""

import math

import pytest
import torch

from core.analysis.separation import ClassStatistics, separation_by_block
from core.models import build_model


def test_class_statistics_match_direct_computation():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(50, 7, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (50,), generator=g)
    s = ClassStatistics(3, 7)
    s.update(f[:20], y[:20])
    s.update(f[20:], y[20:])
    mu_y = torch.stack([f[y == k].mean(0) for k in range(3)])
    assert torch.allclose(s.means(), mu_y)
    within = torch.stack([(f[i] - mu_y[y[i]]).square().sum() for i in range(50)]).mean()
    mu = f.mean(0)
    between = torch.stack([(mu_y[y[i]] - mu).square().sum() for i in range(50)]).mean()
    v = s.variances()
    assert v["within"] == pytest.approx(float(within)) and v["between"] == pytest.approx(float(between))


def _gratings(n, g):
    """Two translation-invariant classes: vertical vs horizontal gratings at a random phase."""
    u = torch.arange(32.0).view(1, 32, 1)
    v = torch.arange(32.0).view(1, 1, 32)
    y = torch.randint(0, 2, (n,), generator=g)
    a = torch.rand(n, 1, 1, generator=g) * 2 * math.pi
    w = 3 * math.pi / 4
    img = torch.where(y.view(-1, 1, 1) == 0, torch.cos(w * u + a), torch.cos(w * v + a))
    return img[:, None].expand(n, 3, 32, 32).contiguous(), y


def test_modulus_separates_class_means_soft_thresholding_does_not():
    """With fixed random P, the modulus makes the two classes' means differ at every block
    (nearest-class-mean accuracy 1); complex soft-thresholding keeps the phase, the means stay
    equal and NCM stays at chance (SPEC §1)."""
    g = torch.Generator().manual_seed(1)
    fit = [_gratings(64, g) for _ in range(2)]
    test = [_gratings(64, g)]
    res = {}
    for nl in ("mod", "cst"):
        torch.manual_seed(0)
        model = build_model("lscat_cifar10", nonlinearity=nl, widths=(8,) * 8)
        res[nl] = separation_by_block(model, fit, test, num_classes=2)
    assert all(r["ncm_accuracy"] == 1.0 for r in res["mod"])
    assert all(r["ncm_accuracy"] < 0.65 for r in res["cst"])
    assert all(m["ratio"] > 100 * c["ratio"] for m, c in zip(res["mod"], res["cst"]))
    with pytest.raises(ValueError, match="no batch"):
        separation_by_block(build_model("lscat_cifar10", widths=(8,) * 8), [], test, 2)
