"""The hold-out (core.data.holdout): which images it holds (disjoint from training, stratified, the
same in every process); a run with one never opens its test split and evaluates on it;
``core evaluate --split holdout`` re-measures it; cards say which split the choices used; a warm
start, an average and a paired comparison refuse weights of another hold-out."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core import data as D
from core import training as T
from core import weights as P
from core.cli import average as average_cli
from core.cli import evaluate as evaluate_cli
from core.cli import train as train_cli
from core.data import CIFAR10_CLASSES
from core.training import average as A
from core.training import export
from core.training.recipes import RECIPES, RecipeError, make_config
from core.training.rundata import Data
from tests.helpers_data import make_folder

ROOT = Path(__file__).resolve().parents[1]
TINY = {"widths": [4] * 8, "input_size": 16}
# a tenth-scale cifar10_lscat_skip with a hold-out of a quarter of each class (1 of 4 images)
RECIPE = dict(RECIPES["cifar10_lscat_skip"], build=TINY, store_size=16, test_size=16, epochs=3, batch_size=8,
              eval_batch_size=16, warmup_epochs=0.5, lr=0.05, bf16=False, compile=False, channels_last=False,
              final_shifts=[1], check_every=2, workers=1, holdout=0.25)


def unequal_labels() -> torch.Tensor:
    """Five classes of 10, 13, 16, 19 and 22 images, interleaved in a fixed random order."""
    labels = torch.tensor([c for c in range(5) for _ in range(10 + 3 * c)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(5))]


def test_holdout_is_disjoint_stratified_and_fixed():
    labels = unequal_labels()
    keep, held = D.split_holdout(labels, 0.2, seed=0)
    assert not set(keep.tolist()) & set(held.tolist())
    assert sorted(keep.tolist() + held.tolist()) == list(range(len(labels)))
    assert keep.tolist() == sorted(keep.tolist()) and held.tolist() == sorted(held.tolist())
    # a fifth of each class, rounded: 2, 2.6, 3.2, 3.8, 4.4 -> 2, 3, 3, 4, 4; every class present
    assert torch.bincount(labels[held], minlength=5).tolist() == [2, 3, 3, 4, 4]
    _, three = D.split_holdout(labels, 3, seed=0)  # a whole number: images per class
    assert torch.bincount(labels[three], minlength=5).tolist() == [3] * 5
    again = D.split_holdout(labels, 0.2, seed=0)
    assert torch.equal(again[0], keep) and torch.equal(again[1], held)
    assert not torch.equal(D.split_holdout(labels, 0.2, seed=1)[1], held)
    # another process (another interpreter, its own global RNG state) carves the same images
    code = ("import torch; from tests.test_holdout import unequal_labels; from core.data import split_holdout; "
            "torch.manual_seed(123); print(split_holdout(unequal_labels(), 0.2, seed=0)[1].tolist())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == held.tolist()


def test_holdout_values_are_checked(capsys):
    for bad, says in ((0.0, "strictly between 0 and 1"), (1.0, "strictly between"), (1.5, "strictly between"),
                      (0, ">= 1"), (-2, ">= 1"), ("a", "fraction in \\(0, 1\\)"), (True, "fraction"),
                      ([0.1], "fraction")):
        with pytest.raises(RecipeError, match=says):
            make_config("cifar10_lscat_skip", holdout=bad)
    with pytest.raises(RecipeError, match="holdout_seed must be a non-negative integer"):
        make_config("cifar10_lscat_skip", holdout=0.1, holdout_seed=-1)
    with pytest.raises(RecipeError, match="limit_test limits the test split"):
        make_config("cifar10_lscat_skip_cpu", holdout=0.1)
    assert train_cli.main(["--recipe", "cifar10_lscat_skip", "--set", "holdout=1.0", "--show"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: holdout 1.0")
    # what only the data can tell: a class too small for the hold-out asked for
    with pytest.raises(D.DataError, match="leaving none to train on"):
        D.split_holdout(torch.tensor([0, 0, 0, 1, 1, 1, 1]), 3)
    with pytest.raises(D.DataError, match="of the 1 training image"):
        D.split_holdout(torch.tensor([0, 1, 1, 1]), 0.1)


def test_labels_are_read_without_decoding(tmp_path):
    folder = make_folder(tmp_path, n_per_class=2, size=8, splits=("train",), classes=("a", "b"))
    ds = D.open_dataset("folder", folder, "train")
    assert D.labels_of(ds).tolist() == [0, 0, 1, 1]

    class Nette:  # torchvision's Imagenette keeps (path, label) pairs
        _samples = [("x.jpeg", 1), ("y.jpeg", 0)]

    assert D.labels_of(Nette()).tolist() == [1, 0]
    with pytest.raises(D.DataError, match="cannot read the labels"):
        D.labels_of(object())


def test_training_images_exclude_the_holdout(tmp_path):
    """The gpu loader's training tensor holds none of the hold-out's images, whatever limit_train."""
    folder = make_folder(tmp_path, n_per_class=4, size=16, splits=("train",))
    cfg = make_config(dict(RECIPE, aug=None, data=str(folder)))
    data = Data(cfg, "cpu", 0, 1, False)
    assert (data.n_train, data.n_test, data.eval_split, data.eval_prefix) == (30, 10, "holdout", "holdout")
    train = {bytes(x.numpy()) for x in data.train.images}
    held = [bytes(x.numpy()) for x in data.test.images]
    assert len(train) == 30 and len(set(held)) == 10 and not train & set(held)
    assert torch.bincount(data.test.labels, minlength=10).tolist() == [1] * 10
    limited = Data(make_config(dict(RECIPE, aug=None, data=str(folder), limit_train=16)), "cpu", 0, 1, False)
    assert limited.n_train == 16 and torch.equal(limited.test.images, data.test.images)
    assert {bytes(x.numpy()) for x in limited.train.images} <= train


def _record_splits(monkeypatch) -> list:
    asked, real = [], D.open_dataset

    def spy(dataset, root, split, download=False):
        asked.append(split)
        return real(dataset, root, split, download)

    monkeypatch.setattr(D, "open_dataset", spy)
    return asked


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two cycles of one run with a hold-out (c1, then c2 warm-started from it), exported as
    lscat_skip_cifar10 and lscat_skip_cifar10_small into a temporary pretrained/, and the splits each
    opened. The data have a test split, which neither may open."""
    tmp = tmp_path_factory.mktemp("holdout")
    folder = make_folder(tmp / "data", n_per_class=4, size=16)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P.store, "PRETRAINED_DIR", tmp / "pre")
        mp.setitem(RECIPES, "t_hold", RECIPE)
        asked = _record_splits(mp)
        c1 = T.train(make_config("t_hold", data=str(folder)), tmp / "c1", progress=False,
                     export="lscat_skip_cifar10", export_dir=tmp / "pre")
        opened = {"c1": list(asked)}
        c2 = T.train(make_config("t_hold", data=str(folder), seed=1, epochs=2, lr=0.02, init_from="lscat_skip_cifar10"),
                     tmp / "c2", progress=False, export="lscat_skip_cifar10_small", export_dir=tmp / "pre")
        opened["c2"] = asked[len(opened["c1"]):]
    return {"folder": folder, "tmp": tmp, "c1": c1, "c2": c2, "opened": opened}


@pytest.fixture
def held(trained, monkeypatch):
    monkeypatch.setattr(P.store, "PRETRAINED_DIR", trained["tmp"] / "pre")
    monkeypatch.setitem(RECIPES, "t_hold", RECIPE)
    monkeypatch.setitem(P.ENTRIES, "t_hold_swa", P.Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 16, "t_hold",
                                                         build=TINY, average_of=("lscat_skip_cifar10",
                                                                                 "lscat_skip_cifar10_small")))
    return trained


def test_a_run_with_a_holdout_never_opens_the_test_split(held):
    assert held["opened"] == {"c1": ["train", "train"], "c2": ["train", "train"]}
    run = held["tmp"] / "c1"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all({"holdout_top1", "holdout_top5", "holdout_loss"} <= set(r) for r in log)
    assert not any(k.startswith("test_") for r in log for k in r)
    final = held["c1"]
    assert final["eval_split"] == "holdout" and final["n_test"] == 10 and "10 held out" in final["data"]
    assert json.loads((run / "config.json").read_text())["holdout"] == 0.25


def test_evaluate_split_holdout_reproduces_the_final_metrics(held, capsys):
    argv = ["--model", "lscat_skip_cifar10", "--data", str(held["folder"]), "--workers", "0", "--no-progress",
            "--shifts", "1"]
    assert evaluate_cli.main(argv + ["--split", "holdout"]) == 0
    res, final = json.loads(capsys.readouterr().out.strip().splitlines()[-1]), held["c1"]
    assert res["split"] == "holdout" and res["holdout"] == {"of": "train", "holdout": 0.25, "seed": 0}
    assert res["n"] == final["n_test"] == 10 and res["top1"] == final["top1"] and res["top5"] == final["top5"]
    assert res["loss"] == pytest.approx(final["loss"], rel=1e-5)
    assert res["shift_consistency"] == final["shift_consistency"]
    assert evaluate_cli.main(argv) == 0  # the quoted split: measured once, on the weights that ship
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n"] == 40


def test_cards_say_which_split_the_choices_used(held):
    c1, c2 = P.read_card("lscat_skip_cifar10"), P.read_card("lscat_skip_cifar10_small")
    for card in (c1, c2):
        sel = card["selection"]
        assert tuple(sel) == export.SELECTION_KEYS and card["eval_split"] == sel["split"] == "holdout"
        assert sel["holdout"] == {"of": "train", "holdout": 0.25, "seed": 0, "images": 10} and sel["quoted"] == "test"
        assert "never opened test" in sel["note"] and sel["choices"][-1].startswith("whether these weights ship")
    assert "further cycle" in c2["selection"]["choices"][0]
    plain = export.selection(make_config("cifar10_lscat_skip"), 10_000)
    assert plain["split"] == plain["quoted"] == "test" and plain["holdout"] is None


def test_resumed_run_keeps_its_holdout(held, tmp_path):
    cfg = make_config("t_hold", data=str(held["folder"]))
    assert T.train(cfg, tmp_path / "r", progress=False, stop_after=1)["stopped"]
    resumed = T.train(None, tmp_path / "r", progress=False)
    assert resumed["top1"] == held["c1"]["top1"] and resumed["loss"] == held["c1"]["loss"]
    with pytest.raises(T.TrainError, match="differs in: holdout"):
        T.train(make_config("t_hold", data=str(held["folder"]), holdout=0.5), tmp_path / "r", progress=False)


def _copy_without_holdout(name: str, new: str) -> None:
    """``new``: the weights of ``name`` under a card whose recipe has no hold-out (as if trained on all of train)."""
    d = P.store.PRETRAINED_DIR
    shutil.copy(d / f"{name}.safetensors", d / f"{new}.safetensors")
    card = json.loads((d / f"{name}.json").read_text())
    card.update(name=new, recipe={**card["recipe"], "holdout": None})
    (d / f"{new}.json").write_text(json.dumps(card))


def test_weights_of_another_holdout_are_refused(held, tmp_path, monkeypatch, capsys):
    from bench import paired_top1 as B

    folder = str(held["folder"])
    cfg = make_config("t_hold", data=folder, holdout=0.5, init_from="lscat_skip_cifar10")
    with pytest.raises(T.TrainError, match="have seen images this run evaluates on"):
        T.train(cfg, tmp_path / "w", progress=False)
    _copy_without_holdout("lscat_skip_cifar10", "lscat_skip_cifar10_small_long")
    monkeypatch.setitem(P.ENTRIES, "t_mixed", P.Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 16, "t_hold",
                                                      build=TINY, average_of=("lscat_skip_cifar10_small_long",)))
    with pytest.raises(T.TrainError, match="lscat_skip_cifar10_small_long was trained with"):
        A.make_average("t_mixed", folder, tmp_path / "avg", None, device="cpu", progress=False)
    assert B.main(["lscat_skip_cifar10", "lscat_skip_cifar10_small_long", "--data", folder, "--workers", "0"]) == 2
    assert "no shared hold-out" in capsys.readouterr().err
    assert evaluate_cli.main(["--model", "lscat_skip_cifar10_small_long", "--data", folder, "--split", "holdout",
                              "--workers", "0", "--no-progress"]) == 2
    assert "records no hold-out" in capsys.readouterr().err


def test_choices_between_weights_use_the_holdout(held, tmp_path, capsys):
    """The paired comparison and the average of two cycles with a hold-out are on the hold-out; the
    statistics pass of the average reads only the training part."""
    from bench import paired_top1 as B

    folder = str(held["folder"])
    out = tmp_path / "paired.jsonl"
    assert B.main(["lscat_skip_cifar10", "lscat_skip_cifar10_small", "--data", folder, "--workers", "0",
                   "--out", str(out)]) == 0
    row = json.loads(out.read_text())
    assert row["split"] == "holdout" and row["n"] == 10 and row["holdout"]["holdout"] == 0.25
    assert row["top1_a"] == held["c1"]["top1"] and row["top1_b"] == held["c2"]["top1"]
    capsys.readouterr()
    assert average_cli.main(["t_hold_swa", "--data", folder, "--out", str(tmp_path / "avg"), "--device", "cpu",
                             "--no-progress"]) == 0
    printed = capsys.readouterr().out
    final = json.loads((tmp_path / "avg" / "final.json").read_text())
    assert final["eval_split"] == "holdout" and final["n_test"] == 10
    assert final["statistics"]["images"] == 24  # 3 full batches of 8 of the 30 training images, none held out
    assert [s["eval_split"] for s in final["sources"]] == ["holdout", "holdout"]
    assert "on the same holdout images) the average is" in printed and "no hold-out" not in printed


def test_workers_loader_with_a_holdout(tmp_path, monkeypatch):
    """The DataLoader path: trains on the rest, evaluates the hold-out with the evaluation transform
    (not the training augmentation), and never opens val."""
    from core.training.evaluate import run_evaluation

    root = make_folder(tmp_path / "f", n_per_class=4, size=20, classes=("a", "b", "c"), splits=("train",))
    cfg = make_config("imagenet_lscat_skip", model="resnet18_biasfree", nonlinearity="abs", build={"stem": "cifar"},
                      data=str(root), test_size=16, store_size=16, crop_fraction=1.0, epochs=1, batch_size=4,
                      eval_batch_size=8, workers=0, bf16=False, compile=False, channels_last=True,
                      aug={"kind": "resized_crop_flip", "size": 16, "scale": [0.5, 1], "ratio": [0.75, 1.33]},
                      final_shifts=[1], holdout=1)
    asked = _record_splits(monkeypatch)
    final = T.train(cfg, tmp_path / "w", progress=False)
    assert asked == ["train", "train"] and final["n_test"] == 3 and final["eval_split"] == "holdout"
    model = export.rounded_copy(T.load_trained(tmp_path / "w")[0], half=True)
    ds = D.open_dataset("folder", root, "train")
    _, idx = D.carve(ds, 1, 0)
    pre = D.Preprocess(16)
    x = torch.stack([pre.to_uint8(ds[i][0]) for i in idx.tolist()])
    res = run_evaluation(model, D.tensor_batches(x, D.labels_of(ds)[idx], 2), shifts=(1,))
    assert res["n"] == 3 and res["top1"] == final["top1"] and res["loss"] == pytest.approx(final["loss"], rel=1e-6)
    assert res["shift_consistency"] == final["shift_consistency"]


def test_the_quoted_split_is_recorded_once(held, tmp_path, capsys):
    """`core evaluate --record` writes the one val / test measurement into the card of weights chosen on a
    hold-out, and refuses the hold-out split, a --limit, and a second measurement."""
    pre = held["tmp"] / "pre"
    for suffix in (".safetensors", ".json"):
        shutil.copy(pre / f"lscat_skip_cifar10{suffix}", tmp_path / f"w{suffix}")
    argv = ["--model", "lscat_skip_cifar10", "--weights", str(tmp_path / "w.safetensors"), "--data",
            str(held["folder"]), "--workers", "0", "--no-progress", "--shifts", "1", "--record"]
    assert evaluate_cli.main(argv + ["--split", "holdout"]) == 2
    assert "quoted split of these weights is 'test'" in capsys.readouterr().err
    assert evaluate_cli.main(argv + ["--limit", "5"]) == 2
    assert "drop --limit" in capsys.readouterr().err
    assert "quoted_result" not in json.loads((tmp_path / "w.json").read_text())
    assert evaluate_cli.main(argv) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    q = json.loads((tmp_path / "w.json").read_text())["quoted_result"]
    assert q["split"] == "test" and q["n"] == res["n"] == 40 and q["top1"] == res["top1"] and q["commit"]
    assert P.quoted_accuracy(json.loads((tmp_path / "w.json").read_text())) == ("test", res["top1"])
    assert evaluate_cli.main(argv) == 2
    assert "already measured" in capsys.readouterr().err
