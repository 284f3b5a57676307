"""core.experiments: the one-command comparison runner, exercised end to end with tiny CPU runs."""

import json
from pathlib import Path

import pytest

from core.cli import experiments as experiments_cli
from core.experiments import probe, summary, tables
from tests.helpers_data import make_folder


@pytest.fixture(scope="module")
def cifar_like(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("cifar"), n_per_class=12, size=32)


def test_tables_cover_the_issue():
    assert [r.overrides["model"] for r in tables.TABLES["table1"].rows] == [
        "scat_cifar10", "lscat_cifar10", "lscat_skip_cifar10", "resnet18_cifar10"]
    assert [r.label for r in tables.TABLES["table2"].rows] == ["mod", "cst", "ms", "mc", "tanh"]
    assert [r.overrides["nonlinearity"] for r in tables.TABLES["table3"].rows] == ["relu", "abs", "thresh",
        "tanh", "pow"]
    # one fixed recipe per table: rows differ only in model / non-linearity
    for t in tables.TABLES.values():
        cfgs = [tables.run_config(t, r, 0, "/data", None, False, None) for r in t.rows]
        varying = {k for c in cfgs for k in c if c[k] != cfgs[0][k]}
        assert varying <= {"model", "nonlinearity", "build"}


# What the laptop scale changes, and nothing else (docs/EXPERIMENTS.md, "Laptop scale").
LAPTOP_KEYS = {"epochs", "limit_train", "limit_test", "batch_size", "warmup_epochs", "workers", "check_every",
               "final_shifts"}


def test_laptop_scale_differs_from_full_only_in_the_documented_keys():
    from core.models import CIFAR10_SMALL, RESNET18_WIDTH_CIFAR10_SMALL

    laptop = tables.SCALES["laptop"]
    assert laptop.tables == ("table1", "table2") and "table3" not in laptop.tables
    assert set(laptop.recipe) == {"cifar10"}
    documented = set(laptop.recipe["cifar10"]) - {"budget_s", "compile", "bf16"}
    assert documented == LAPTOP_KEYS
    for name in laptop.tables:
        t = tables.TABLES[name]
        full = [tables.run_config(t, r, 0, "/data", None, False, None) for r in t.rows]
        small = [tables.run_config(t, r, 0, "/data", None, False, None, "laptop") for r in t.rows]
        for f, s, row in zip(full, small, t.rows):
            differ = {k for k in f if f[k] != s[k]}
            # compile and bf16 are the full recipe's already (the laptop scale states them, as it relies on them)
            assert differ == LAPTOP_KEYS | {"build"}, (row.label, differ)
            assert s["compile"] and s["bf16"] and s["channels_last"] and f["name"] == s["name"] == t.recipe
            assert f["build"] == {}
            if s["model"].startswith(("lscat", "scat")):
                assert s["build"] == {"widths": list(CIFAR10_SMALL)}
            else:
                assert s["build"] == {"width": RESNET18_WIDTH_CIFAR10_SMALL}
        # at the laptop scale too, rows differ only in the model, its non-linearity and its widths
        assert {k for c in small for k in c if c[k] != small[0][k]} <= {"model", "nonlinearity", "build"}
    with pytest.raises(tables.ExperimentError, match="does not define imagenette"):
        tables.run_config(tables.TABLES["table3"], tables.TABLES["table3"].rows[0], 0, "/data", None, False,
                          None, "laptop")


def test_shared_row_is_the_same_configuration():
    t1, t2 = tables.TABLES["table1"], tables.TABLES["table2"]
    row = next(r for r in t1.rows if r.label == "LScat+skip")
    assert row.shared == ("table2", "mod") and tables.home("table1", row) == ("table2", t2.rows[0])
    for scale in tables.SCALES:
        for smoke in (False, True):
            assert tables.run_config(t1, row, 3, "/d", None, smoke, None, scale) == \
                tables.run_config(t2, t2.rows[0], 3, "/d", None, smoke, None, scale)
    assert all(r.shared is None for t in tables.TABLES.values() for r in t.rows if r is not row)


def test_list_and_help_show_the_laptop_scale_and_its_cost(capsys):
    assert experiments_cli.main(["list", "--scale", "laptop", "--seeds", "0", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert tables.SCALES["laptop"].cost in out and tables.SCALES["laptop"].summary in out
    assert out.count("--scale laptop") == 4 + 5 + 1 + 1 and "table3" not in out
    assert "python -m core experiments all --scale laptop --cifar10 ROOT --seeds 0 1 2" in out
    assert "(same runs as table2 mod)" in out
    with pytest.raises(SystemExit):
        experiments_cli.main(["--help"])
    out = capsys.readouterr().out
    assert "--scale" in out and "laptop" in out and tables.SCALES["laptop"].cost in out
    assert experiments_cli.main(["table3", "--scale", "laptop", "--imagenette", "/x", "--docs", "/tmp/x"]) == 2
    assert "table3 is not defined at the laptop scale" in capsys.readouterr().err


def test_list_prints_a_command_per_row(capsys):
    assert experiments_cli.main(["list", "--seeds", "0", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("python -m core experiments") == 4 + 5 + 5 + 1
    assert "--seeds 0 1 2" in out


def test_missing_data_is_a_clear_error(capsys, tmp_path):
    assert experiments_cli.main(["table1", "--docs", str(tmp_path)]) == 2
    assert "needs --cifar10 ROOT" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_tables_layers_report_and_resume(cifar_like, tmp_path, capsys):
    out, docs = tmp_path / "runs", tmp_path / "docs"
    args = ["--cifar10", str(cifar_like), "--out", str(out), "--docs", str(docs), "--smoke", "--device", "cpu"]
    assert experiments_cli.main(["table2", "--rows", "mod", "cst", *args]) == 0
    final = out / "table2" / "mod" / "seed0" / "final.json"
    stamp = final.stat().st_mtime_ns
    assert experiments_cli.main(["table2", "--rows", "mod", "cst", *args]) == 0  # second call: skipped, not retrained
    assert final.stat().st_mtime_ns == stamp
    assert "done, skipped" in capsys.readouterr().out
    # a finished run whose checkpoint is gone (only its records kept) is skipped too, not trained again
    (out / "table2" / "cst" / "seed0" / "checkpoint.pt").rename(tmp_path / "cst_checkpoint.pt")
    cst_final = out / "table2" / "cst" / "seed0" / "final.json"
    stamp = cst_final.stat().st_mtime_ns
    assert experiments_cli.main(["table2", "--rows", "cst", *args]) == 0
    assert cst_final.stat().st_mtime_ns == stamp and not (cst_final.parent / "checkpoint.pt").exists()
    (tmp_path / "cst_checkpoint.pt").rename(out / "table2" / "cst" / "seed0" / "checkpoint.pt")  # layers needs it
    assert (docs / "runs" / "table2" / "cst" / "seed0" / "log.jsonl").is_file()
    md = (docs / "table2.md").read_text()
    assert "| mod | 7.7 |" in md and "| ms | – | not run yet |" in md
    assert (docs / "table2.html").is_file()
    if Path("/usr/bin/chromium").exists():  # kaleido renders the PNG with it (installed by .ci/run)
        assert (docs / "table2.png").stat().st_size > 1000
    assert experiments_cli.main(["layers", *args]) == 0
    layers = json.loads((docs / "layers.json").read_text())
    assert set(layers["blocks"]) == {"mod", "cst"} and len(layers["blocks"]["mod"]) == 8
    # the numbers are those of the cst run's stored weights on the smoke data (recomputed here), over
    # its 100 test images; the mod run, another network, separates differently
    import torch

    from core import data as D
    from core.analysis.separation import separation_by_block
    from core.training.model import load_trained

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


@pytest.mark.slow
def test_laptop_scale_smoke_pipeline(cifar_like, tmp_path, capsys):
    """`all --scale laptop --smoke`: tables 1 and 2, layers and the report, on the laptop scale's code
    path (tiny sizes); then a second seed, for the mean ± std, the cst / mod ratio and layers' spread."""
    out, docs = tmp_path / "runs", tmp_path / "docs"
    args = ["--scale", "laptop", "--cifar10", str(cifar_like), "--out", str(out), "--docs", str(docs), "--smoke",
            "--device", "cpu"]
    assert experiments_cli.main(["all", *args]) == 0
    # Table 1's LScat+skip row is Table 2's mod run: trained once, in table2/mod
    assert not (out / "table1" / "lscat_skip").exists()
    assert sorted(p.name for p in (out / "table1").iterdir()) == ["lscat", "resnet_18", "scat_p_fixed"]
    assert sorted(p.name for p in (out / "table2").iterdir()) == ["cst", "mc", "mod", "ms", "tanh"]
    cfg = json.loads((out / "table1" / "resnet_18" / "seed0" / "config.json").read_text())
    assert cfg["build"] == {"width": tables.SMOKE_RESNET_WIDTH} and cfg["limit_train"] == tables.SMOKE["limit_train"]
    assert json.loads((out / "table2" / "cst" / "seed0" / "config.json").read_text())["build"] == \
        {"widths": tables.SMOKE_WIDTHS["cifar10"]}
    assert "table1] LScat+skip = table2 mod seed 0" in capsys.readouterr().out
    assert experiments_cli.main(["table2", "--rows", "mod", "cst", *args, "--seeds", "0", "1"]) == 0
    assert experiments_cli.main(["layers", *args, "--seeds", "0", "1"]) == 0
    assert experiments_cli.main(["report", "--scale", "laptop", "--docs", str(docs)]) == 0
    finals = {(lab, s): json.loads((out / "table2" / lab / f"seed{s}" / "final.json").read_text())
              for lab in ("mod", "cst") for s in (0, 1)}
    md2 = (docs / "table2.md").read_text()
    assert "(laptop scale)" in md2 and "not a reproduction" in md2
    errs = [100 * (1 - finals["mod", s]["top1"]) for s in (0, 1)]
    m, sd = summary.mean_std(errs)
    assert f"| mod | 7.7 | {m:.2f} ± {sd:.2f} | 2 |" in md2
    ratio = [(1 - finals["cst", s]["top1"]) / (1 - finals["mod", s]["top1"]) for s in (0, 1)]
    assert f"Error ratio cst / mod, per seed then mean ± std over 2 seed(s): {summary.pm(ratio)}" in md2
    assert "| ms | – | " in md2 and "| 1 |" in md2.split("| ms |")[1].splitlines()[0]
    md1 = (docs / "table1.md").read_text()
    assert f"| LScat+skip (= table2 mod) | 7.7 | {m:.2f} ± {sd:.2f} | 2 |" in md1
    assert (docs / "runs" / "table2" / "mod" / "seed1" / "final.json").is_file()
    assert not (docs / "runs" / "table1" / "lscat_skip").exists()
    layers = json.loads((docs / "layers.json").read_text())
    assert layers["scale"] == "laptop" and layers["seeds"] == [0, 1] and set(layers["by_seed"]) == {"0", "1"}
    assert layers["blocks"] == layers["by_seed"]["0"] and len(layers["test_top1"]["cst"]) == 2
    ncm0 = [layers["by_seed"][s]["mod"][0]["ncm_accuracy"] for s in ("0", "1")]
    lmd = (docs / "layers.md").read_text()
    assert "laptop scale" in lmd.lower() and f"| 0 | {summary.pm(ncm0, 3)} |" in lmd
    for f in ("table1.html", "table2.html", "layers.html"):
        assert (docs / f).is_file()


@pytest.mark.slow
def test_jobs_train_in_worker_processes_as_one_process_does(cifar_like, tmp_path, capsys):
    """--jobs 2 --threads 1: two worker processes of one thread each give the runs (logs, final
    metrics) that this process gives with one thread, bitwise, and the same report."""
    import torch

    def args(name):
        return ["table2", "--rows", "mod", "cst", "--scale", "laptop", "--cifar10", str(cifar_like), "--out",
                str(tmp_path / name / "runs"), "--docs", str(tmp_path / name / "docs"), "--smoke", "--device", "cpu"]

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert experiments_cli.main(args("one")) == 0
    finally:
        torch.set_num_threads(n)
    assert experiments_cli.main([*args("jobs"), "--jobs", "2", "--threads", "1"]) == 0
    assert "2 run(s) in 2 worker processes of 1 thread(s) each" in capsys.readouterr().out
    for lab in ("mod", "cst"):
        one, two = (tmp_path / k / "runs" / "table2" / lab / "seed0" for k in ("one", "jobs"))
        logs = [[{k: v for k, v in json.loads(line).items() if k not in ("img_s", "epoch_s")}
                 for line in (d / "log.jsonl").read_text().splitlines()] for d in (one, two)]
        assert logs[0] == logs[1] and logs[0]
        f1, f2 = (json.loads((d / "final.json").read_text()) for d in (one, two))
        assert (f1["top1"], f1["loss"], f1["shift_consistency"]) == (f2["top1"], f2["loss"], f2["shift_consistency"])
        assert (tmp_path / "jobs" / "docs" / "runs" / "table2" / lab / "seed0" / "final.json").is_file()


def test_probe_config_times_every_piece_and_adds_them_up(cifar_like):
    """The cost probe on a tiny eager run: every piece is measured (positive seconds), the estimate
    is the documented sum of them, and the layers' estimate appears only when asked for."""
    t = tables.TABLES["table2"]
    cfg = tables.run_config(t, t.rows[0], 0, str(cifar_like), None, True, "cpu")
    # the probe sizes its own subset from the whole split (120 images): with batches of 10, enough for
    # the first step, 2 warm-up steps and the timed one
    cfg.update(limit_train=None, batch_size=10)
    res = probe.probe_config(cfg, steps=1, device="cpu", fit_images=40)
    assert res["steps_per_epoch"] == 120 // cfg["batch_size"] and res["timed_steps"] == 1
    for k in ("setup_s", "step_s", "cpu_step_s", "eval_s", "final_eval_s", "checkpoint_s", "layers_s"):
        assert res[k] > 0, k
    # eager: a later seed recompiles nothing more than the first
    assert (res["recompile_train_s"], res["recompile_eval_s"]) == (res["compile_train_s"], res["compile_eval_s"])
    body = cfg["epochs"] * (res["steps_per_epoch"] * res["step_s"] + res["eval_s"] + res["checkpoint_s"])
    body += res["final_eval_s"]
    assert res["run_s_cold"] == pytest.approx(body + res["compile_train_s"] + res["compile_eval_s"], abs=1e-3)
    assert 0 < res["cpu_share"] <= 1
    assert res["run_s_cold_idle_est"] == pytest.approx(res["run_s_cold"] * res["cpu_share"], abs=1e-3)
    assert "layers_s" not in probe.probe_config(cfg, steps=1, device="cpu")
    with pytest.raises(tables.ExperimentError, match="too few training images"):
        probe.probe_config(dict(cfg, batch_size=60), steps=1, device="cpu")  # 2 batches: none left to time
