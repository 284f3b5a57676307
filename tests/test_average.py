"""core.training.average (SWA over a run's cycles): the average, the statistics pass, the lineage check, the
export, and the CLI, with tiny models trained for a few steps on synthetic data."""

import json

import pytest
import torch
from torch import nn

from core import training as T
from core import weights as P
from core.cli import average as average_cli
from core.data import CIFAR10_CLASSES
from core.nn.blocks import ComplexStandardization
from core.training import average as A
from core.training.recipes import RECIPES
from core.weights import store as weights_store
from tests.helpers_data import make_folder

TINY = {"widths": [4, 4, 4, 4, 4, 4, 4, 4], "input_size": 16}
RECIPE = dict(RECIPES["cifar10_lscat_skip"], build=TINY, store_size=16, test_size=16, epochs=1, batch_size=8,
              eval_batch_size=16, warmup_epochs=0.5, bf16=False, compile=False, channels_last=False,
              final_shifts=[1], check_every=2, workers=1, export_half=False)


def test_average_of_state_dicts():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3), "h": torch.tensor([1.0], dtype=torch.float16)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(7), "h": torch.tensor([2.0], dtype=torch.float16)}
    avg = A.average_state_dicts([a, b])
    assert torch.equal(avg["w"], torch.tensor([2.0, 4.0])) and int(avg["n"]) == 7
    assert avg["h"].dtype == torch.float16 and float(avg["h"]) == 1.5
    with pytest.raises(A.AverageError, match="not the same architecture"):
        A.average_state_dicts([a, {"w": torch.zeros(3), "n": a["n"], "h": a["h"]}])


def test_statistics_are_the_mean_over_all_batches():
    """After the pass, BatchNorm's and Std's running means are the means over all the images (equal
    batches), the variances the means of the batch variances; momenta and the mode are restored."""
    torch.manual_seed(0)
    std = ComplexStandardization(n_complex=1, n_real=1)
    model = nn.Sequential(nn.BatchNorm2d(3), std).eval()
    xs = [torch.randn(4, 3, 5, 5) * (k + 1) + k for k in range(3)]
    seen = A.recompute_statistics(model, [(x, None) for x in xs], amp=False, device="cpu")
    assert seen == 12 and not model.training
    bn = model[0]
    allx = torch.cat(xs)
    assert torch.allclose(bn.running_mean, allx.mean((0, 2, 3)), atol=1e-5)
    batch_vars = torch.stack([x.var((0, 2, 3), unbiased=True) for x in xs])
    assert torch.allclose(bn.running_var, batch_vars.mean(0), rtol=1e-5)
    assert bn.momentum == 0.1 and std.momentum == 0.1
    z = [(x - x.mean((0, 2, 3), keepdim=True)) / (x.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
         for x in xs]  # what BatchNorm gives Std in train mode
    assert torch.allclose(std.running_mean, torch.stack([q.mean((0, 2, 3)) for q in z]).mean(0), atol=1e-5)
    with pytest.raises(A.AverageError, match="no training batches"):
        A.recompute_statistics(model, [], amp=False, device="cpu")


@pytest.fixture(scope="module")
def trained_cycles(tmp_path_factory):
    """Trained once for the module (4 tiny runs); each test gets the entries back through ``cycles``."""
    tmp_path = tmp_path_factory.mktemp("cycles")
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield tmp_path, _train_cycles(tmp_path, monkeypatch)


@pytest.fixture
def cycles(trained_cycles, monkeypatch):
    tmp_path, (folder, patches) = trained_cycles
    monkeypatch.setattr(P.store, "PRETRAINED_DIR", tmp_path / "pre")
    monkeypatch.setitem(RECIPES, "t_recipe", RECIPE)
    for n, e in patches.items():
        monkeypatch.setitem(P.ENTRIES, n, e)
    return folder


def _train_cycles(tmp_path, monkeypatch):
    """Three tiny cycles of one run (c1 -> c2 -> c3, each warm-started from the previous export) and an
    unrelated run (other), as pretrained entries in a temporary pretrained/."""
    folder = make_folder(tmp_path / "data", n_per_class=4, size=16)
    monkeypatch.setattr(weights_store, "PRETRAINED_DIR", tmp_path / "pre")
    monkeypatch.setitem(RECIPES, "t_recipe", RECIPE)
    averages = {"t_swa": ("t_c2", "t_c3"), "t_bad": ("t_other", "t_c3")}
    for n in ("t_c1", "t_c2", "t_c3", "t_other", "t_swa", "t_bad"):
        monkeypatch.setitem(P.ENTRIES, n, P.Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 16, "t_recipe",
                                                  build=TINY, description="tiny, trained on a CPU",
                                                  average_of=averages.get(n, ())))
    patches = {n: P.ENTRIES[n] for n in ("t_c1", "t_c2", "t_c3", "t_other", "t_swa", "t_bad")}
    start = None
    for i, n in enumerate(("t_c1", "t_c2", "t_c3")):
        cfg = T.make_config("t_recipe", data=str(folder), seed=i, lr=0.05, init_from=start)
        T.train(cfg, tmp_path / n, progress=False, export=n, export_dir=tmp_path / "pre")
        start = n
    T.train(T.make_config("t_recipe", data=str(folder), seed=9), tmp_path / "other", progress=False,
            export="t_other", export_dir=tmp_path / "pre")
    return folder, patches


def test_make_average_exports_what_it_measured(cycles, tmp_path):
    from core.training.evaluate import evaluate

    assert A.lineage("t_c3") == ["t_c1", "t_c2", "t_c3"]
    final = A.make_average("t_swa", str(cycles), tmp_path / "avg", P.store.PRETRAINED_DIR, device="cpu", progress=False,
                           command="python -m core average t_swa")
    assert json.loads((tmp_path / "avg" / "final.json").read_text())["top1"] == final["top1"]
    assert [s["source"] for s in final["sources"]] == ["t_c2", "t_c3"] and final["training_epochs"] == 3
    assert final["statistics"]["images"] == 40  # 5 batches of 8 of the 40 training images
    model, card = P.load("t_swa")
    two = [P.load(n)[0].state_dict() for n in ("t_c2", "t_c3")]
    for k, v in model.state_dict().items():
        if "running" in k:  # recomputed, not averaged
            assert not torch.allclose(v, (two[0][k] + two[1][k]) / 2), k
        elif v.is_floating_point():
            assert torch.allclose(v, (two[0][k] + two[1][k]) / 2, atol=1e-6), k
    assert card["top1"] == final["top1"] and card["averaged_from"][1]["sha256"] == P.read_card("t_c3")["sha256"]
    assert card["command"] == ["python -m core average t_swa"] and card["recipe_name"] == "t_recipe"
    res = evaluate("t_swa", str(cycles), shifts=(), workers=0, progress=False)  # the card's number, re-measured
    assert res["top1"] == card["top1"] and res["n"] == card["n_test"] == 40


def test_sources_must_be_one_run_and_errors_are_messages(cycles, tmp_path, capsys):
    with pytest.raises(A.AverageError, match="not all cycles of one run"):
        A.make_average("t_bad", str(cycles), tmp_path / "bad", None, device="cpu", progress=False)
    assert average_cli.main(["nope", "--data", str(cycles)]) == 2
    assert "unknown average 'nope'" in capsys.readouterr().err
    assert average_cli.main(["t_swa"]) == 2 and "--data ROOT is needed" in capsys.readouterr().err
    assert average_cli.main(["t_swa", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert average_cli.main(["--list"]) == 0 and "t_c2 + t_c3" in capsys.readouterr().out


def test_paired_comparison_counts_images_and_tests_the_split(cycles, tmp_path, capsys):
    """bench/paired_top1.py: the exact McNemar p-value, and the per-image counts of two models."""
    from bench import paired_top1 as B

    assert B.mcnemar_exact(0, 0) == 1.0 and B.mcnemar_exact(5, 5) == 1.0
    assert B.mcnemar_exact(0, 5) == pytest.approx(2 / 32) and B.mcnemar_exact(7, 1) == pytest.approx(2 * 9 / 256)
    out = tmp_path / "paired.jsonl"
    assert B.main(["t_c2", "t_c3", "--data", str(cycles), "--workers", "0", "--out", str(out)]) == 0
    row = json.loads(out.read_text())
    assert row["n"] == 40 and row["both_right"] + row["only_a"] + row["only_b"] + row["neither"] == 40
    assert row["top1_a"] == pytest.approx((row["both_right"] + row["only_a"]) / 40)
    assert row["top1_a"] == P.read_card("t_c2")["top1"] and "McNemar" in capsys.readouterr().out
