"""core.experiments: the one-command comparison runner, exercised end to end with tiny CPU runs."""

import json
from pathlib import Path

import pytest

from core import experiments as E
from tests.helpers_data import make_folder


@pytest.fixture(scope="module")
def cifar_like(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("cifar"), n_per_class=12, size=32)


def test_tables_cover_the_issue():
    assert [r.overrides["model"] for r in E.TABLES["table1"].rows] == [
        "scat_cifar10", "lscat_cifar10", "lscat_skip_cifar10", "resnet18_cifar10"]
    assert [r.label for r in E.TABLES["table2"].rows] == ["mod", "cst", "ms", "mc", "tanh"]
    assert [r.overrides["nonlinearity"] for r in E.TABLES["table3"].rows] == ["relu", "abs", "thresh", "tanh", "pow"]
    # one fixed recipe per table: rows differ only in model / non-linearity
    for t in E.TABLES.values():
        cfgs = [E.run_config(t, r, 0, "/data", None, False, None) for r in t.rows]
        varying = {k for c in cfgs for k in c if c[k] != cfgs[0][k]}
        assert varying <= {"model", "nonlinearity", "build"}


def test_list_prints_a_command_per_row(capsys):
    assert E.main(["list", "--seeds", "0", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("python -m core.experiments") == 4 + 5 + 5 + 1
    assert "--seeds 0 1 2" in out


def test_missing_data_is_a_clear_error(capsys, tmp_path):
    assert E.main(["table1", "--docs", str(tmp_path)]) == 2
    assert "needs --cifar10 ROOT" in capsys.readouterr().err


def test_smoke_tables_layers_report_and_resume(cifar_like, tmp_path, capsys):
    out, docs = tmp_path / "runs", tmp_path / "docs"
    args = ["--cifar10", str(cifar_like), "--out", str(out), "--docs", str(docs), "--smoke", "--device", "cpu"]
    assert E.main(["table2", "--rows", "mod", "cst", *args]) == 0
    final = out / "table2" / "mod" / "seed0" / "final.json"
    stamp = final.stat().st_mtime_ns
    assert E.main(["table2", "--rows", "mod", "cst", *args]) == 0  # second call: skipped, not retrained
    assert final.stat().st_mtime_ns == stamp
    assert "done, skipped" in capsys.readouterr().out
    assert (docs / "runs" / "table2" / "cst" / "seed0" / "log.jsonl").is_file()
    md = (docs / "table2.md").read_text()
    assert "| mod | 7.7 |" in md and "| ms | – | not run yet |" in md
    assert (docs / "table2.html").is_file()
    if Path("/usr/bin/chromium").exists():  # kaleido renders the PNG with it (installed by .ci/run)
        assert (docs / "table2.png").stat().st_size > 1000
    assert E.main(["layers", *args]) == 0
    layers = json.loads((docs / "layers.json").read_text())
    assert set(layers["blocks"]) == {"mod", "cst"} and len(layers["blocks"]["mod"]) == 8
    # the numbers are those of the cst run's stored weights on the smoke data (recomputed here), over
    # its 100 test images; the mod run, another network, separates differently
    import torch

    from core import data as D
    from core.separation import separation_by_block
    from core.train import load_trained

    model, cfg = load_trained(out / "table2" / "cst" / "seed0")
    xtr, ytr = D.decode(D.open_dataset("cifar10", cifar_like, "train"), 32, cfg["limit_train"])
    xte, yte = D.decode(D.open_dataset("cifar10", cifar_like, "test"), 32, cfg["limit_test"])
    norm = lambda x, y: [(D.normalize_uint8(xb), yb) for xb, yb in D.tensor_batches(x, y, 250)]
    with torch.no_grad():
        again = separation_by_block(model, norm(xtr, ytr), norm(xte, yte), num_classes=10)
    assert [b["ncm_accuracy"] for b in again] == [b["ncm_accuracy"] for b in layers["blocks"]["cst"]]
    assert [b["ratio"] for b in again] == pytest.approx([b["ratio"] for b in layers["blocks"]["cst"]], rel=1e-9)
    assert all(abs(100 * b["ncm_accuracy"] - round(100 * b["ncm_accuracy"])) < 1e-9 for b in again)
    assert [b["ratio"] for b in layers["blocks"]["mod"]] != [b["ratio"] for b in layers["blocks"]["cst"]]
    assert (docs / "layers.md").is_file() and (docs / "layers.html").is_file()
