"""The training pipeline on CPU with a tiny model: resume, NaN stop, budget, DDP (gloo), CLI, export."""

import json
import os

import pytest
import torch
import torch.multiprocessing as mp

from core import provenance
from core import training as T
from core.cli import train as train_cli
from core.runtime import usable_cpus
from core.training import checkpoint, export, loop
from core.training import setup as training_setup
from core.training import state as training_state
from core.training.recipes import RECIPES, RecipeError, make_config
from tests.helpers_data import make_folder

TINY = {"widths": [4, 4, 4, 4, 4, 4, 4, 4], "input_size": 16}



@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("data"), n_per_class=4, size=16)


def tiny(folder, **kw):
    base = dict(data=str(folder), build=TINY, store_size=16, test_size=16, epochs=2, batch_size=8,
                eval_batch_size=16, warmup_epochs=0.5, bf16=False, compile=False, channels_last=False,
                final_shifts=[1], check_every=2, workers=1)
    return make_config("cifar10_lscat_skip", **{**base, **kw})


def strip_times(history):
    return [{k: v for k, v in r.items() if k not in ("img_s", "epoch_s")} for r in history]


def test_recipes_are_valid_and_checked():
    for name in RECIPES:
        cfg = make_config(name)
        assert cfg["name"] == name and cfg["model"]
    with pytest.raises(RecipeError, match="unknown config key"):
        make_config("cifar10_lscat_skip", learning_rate=1)
    with pytest.raises(RecipeError, match="unknown recipe"):
        make_config("nope")
    with pytest.raises(RecipeError, match="positive integer"):
        make_config("cifar10_lscat_skip", epochs=0)
    with pytest.raises(RecipeError, match="schedule"):
        make_config("cifar10_lscat_skip", schedule="step")


def test_lr_schedule():
    cfg = make_config("cifar10_lscat_skip", lr=1.0)
    lrs = [training_state.lr_at(s, 100, 10, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[10] == pytest.approx(1.0) and lrs[55] == pytest.approx(0.5) and lrs[-1] == pytest.approx(1 / 90)
    cos = make_config("cifar10_lscat_skip", lr=1.0, schedule="cosine")
    assert training_state.lr_at(55, 100, 10, cos) == pytest.approx(0.5)


def test_resume_equals_uninterrupted(folder, tmp_path):
    cfg = tiny(folder, epochs=3)
    full = T.train(cfg, tmp_path / "a", progress=False)
    part = T.train(cfg, tmp_path / "b", progress=False, stop_after=1)
    assert part["stopped"] and part["epochs_done"] == 1
    assert len((tmp_path / "b" / "log.jsonl").read_text().splitlines()) == 1
    resumed = T.train(None, tmp_path / "b", progress=False)  # config from the checkpoint
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert strip_times(json.loads(a["history"])) == strip_times(json.loads(b["history"]))
    assert resumed["top1"] == full["top1"] and resumed["shift_consistency"] == full["shift_consistency"]
    # a finished run returns its result without training again
    again = T.train(cfg, tmp_path / "a", progress=False)
    assert again["top1"] == full["top1"]
    with pytest.raises(T.TrainError, match="another configuration"):
        T.train(tiny(folder, epochs=3, lr=0.5), tmp_path / "a", progress=False)
    with pytest.raises(T.TrainError, match="exists"):
        T.train(cfg, tmp_path / "a", resume=False, progress=False)


def _interrupt_at(monkeypatch, call: int):
    """Make the ``call``-th optimizer step raise KeyboardInterrupt (as Ctrl-C, or a killed job, would)."""
    real, n = loop.train_step, {"calls": 0}

    def step(*args, **kw):
        n["calls"] += 1
        if n["calls"] == call:
            raise KeyboardInterrupt(f"injected before step {call}")
        return real(*args, **kw)

    monkeypatch.setattr(loop, "train_step", step)
    return lambda: monkeypatch.setattr(loop, "train_step", real)


def _same_run(a_dir, b_dir):
    a = torch.load(a_dir / "checkpoint.pt", weights_only=True)
    b = torch.load(b_dir / "checkpoint.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["step"] == b["step"] and a["epoch"] == b["epoch"]
    assert strip_times(json.loads(a["history"])) == strip_times(json.loads(b["history"]))
    log_a, log_b = ([json.loads(x) for x in (d / "log.jsonl").read_text().splitlines()] for d in (a_dir, b_dir))
    assert strip_times(log_a) == strip_times(log_b) and len(log_a) == 2


RRC = {"kind": "resized_crop_flip", "size": 16, "scale": [0.35, 1.0], "ratio": [0.75, 1.33]}


@pytest.mark.parametrize("interrupt,aug,position", [(4, None, (0, 2)), (8, RRC, (1, 1))])
def test_mid_epoch_checkpoint_resumes_bitwise(folder, tmp_path, monkeypatch, interrupt, aug, position):
    """5 steps per epoch, a check every 2 steps, a checkpoint at every check: interrupted at step
    ``interrupt`` (before it runs), the run resumes from the mid-epoch checkpoint at ``position``
    (epochs done, batches of the next) and ends with the weights and log of an uninterrupted run."""
    kw = {"aug": aug} if aug else {}
    full = T.train(tiny(folder, **kw), tmp_path / "a", progress=False)  # checkpoint_every_s 600: epoch ends only
    cfg = tiny(folder, checkpoint_every_s=1e-9, **kw)
    undo = _interrupt_at(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt, match=f"injected before step {interrupt}"):
        T.train(cfg, tmp_path / "b", progress=False)
    undo()
    ck = checkpoint.load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert ck["format"] == 2 and (ck["epoch"], ck["batch"]) == position and ck["step"] == interrupt - 2
    assert ck["meter"].shape == (1, 3) and ck["meter"][0, 2] == 8 * position[1]  # images seen in the epoch
    assert ck["meter"][0, 0] > 0 and ck["epoch_train_s"] > 0
    resumed = T.train(None, tmp_path / "b", progress=False)
    _same_run(tmp_path / "a", tmp_path / "b")
    assert resumed["top1"] == full["top1"] and resumed["shift_consistency"] == full["shift_consistency"]
    assert len(json.loads((tmp_path / "b" / "final.json").read_text())["commands"]) == 0


def test_epoch_end_checkpoint_of_format_1_resumes(folder, tmp_path):
    """A checkpoint as the code before mid-epoch checkpoints wrote it (format 1: no position, no
    checkpoint_every_s in its configuration) resumes, with or without the configuration given."""
    cfg = tiny(folder)
    T.train(cfg, tmp_path / "a", progress=False)
    for name, again in (("b", None), ("c", cfg)):
        T.train(cfg, tmp_path / name, progress=False, stop_after=1)
        path = tmp_path / name / "checkpoint.pt"
        state = torch.load(path, weights_only=True)
        old_cfg = json.loads(state["config"])
        del old_cfg["checkpoint_every_s"]
        old = {k: state[k] for k in ("model", "optimizer", "epoch", "step", "history", "meta", "elapsed_s")}
        torch.save({**old, "format": 1, "config": json.dumps(old_cfg)}, path)
        T.train(again, tmp_path / name, progress=False)
        _same_run(tmp_path / "a", tmp_path / name)
        assert json.loads((tmp_path / name / "config.json").read_text())["checkpoint_every_s"] == 600


def test_nan_stops_and_keeps_last_good_checkpoint(folder, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = training_state.compute_loss

    def poisoned(logits, y, ls):
        calls["n"] += 1
        loss = real(logits, y, ls)
        return loss * float("nan") if calls["n"] > 6 else loss  # 5 steps per epoch: NaN in epoch 2

    monkeypatch.setattr(loop, "compute_loss", poisoned)
    with pytest.raises(T.TrainingDiverged, match="epoch 2.*last good checkpoint"):
        T.train(tiny(folder, epochs=3), tmp_path / "r", progress=False)
    ck = checkpoint.load_checkpoint(tmp_path / "r" / "checkpoint.pt")
    assert ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())
    assert len((tmp_path / "r" / "log.jsonl").read_text().splitlines()) == 1


def test_corrupt_checkpoint_and_cli_errors(folder, tmp_path, capsys):
    out = tmp_path / "c"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(T.TrainError, match="corrupt"):
        T.train(None, out, progress=False)
    assert train_cli.main(["--resume", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "corrupt" in err[0]
    assert train_cli.main(["--recipe", "cifar10_lscat_skip", "--data", str(tmp_path / "missing"), "--out",
                   str(tmp_path / "m")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert train_cli.main(["--recipe", "nope"]) == 2
    assert train_cli.main(["--recipe", "cifar10_lscat_skip", "--set", "nonsense=1"]) == 2
    assert train_cli.main(["--recipe", "cifar10_lscat_skip", "--data", str(folder), "--out", str(tmp_path / "n"),
                   "--nonlinearity", "relu", "--no-progress", "--set", "batch_size=8"]) == 2
    assert "cannot build" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="^0$") as e:
        train_cli.main(["--help"])
    assert e.value.code == 0 and "--budget-s" in capsys.readouterr().out


def test_bad_export_name_fails_before_training(folder, tmp_path, capsys):
    """--export is checked before the first step: a misspelt name, or an entry of another model, is an
    error at once, and nothing is trained or written."""
    for name, msg in (("lscat_skip_cifar1O", "not a pretrained entry"), ("resnet18_cifar10", "the entry is a")):
        with pytest.raises(T.TrainError, match=msg):
            T.train(tiny(folder), tmp_path / name, progress=False, export=name, export_dir=tmp_path / "exp")
        assert not (tmp_path / name / "checkpoint.pt").exists() and not (tmp_path / "exp").exists()
    assert train_cli.main(["--recipe", "cifar10_lscat_skip", "--data", str(folder), "--out", str(tmp_path / "cli"),
                   "--no-progress", "--export", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --export 'nope': not a pretrained entry")
    assert not (tmp_path / "cli" / "checkpoint.pt").exists()


@pytest.mark.slow
def test_budget_sets_epochs_and_cli_export(folder, tmp_path, capsys):
    from core import weights as pretrained

    out, exp = tmp_path / "run", tmp_path / "pre"
    argv = ["--recipe", "cifar10_lscat_skip", "--data", str(folder), "--out", str(out), "--budget-s", "4",
            "--no-progress", "--export", "lscat_skip_cifar10", "--export-dir", str(exp), "--set", "compile=false",
            "--set", "bf16=false", "--set", "batch_size=8", "--set", "eval_batch_size=16", "--set", "final_shifts=[1]",
            "--set", "store_size=16", "--set", "test_size=16", "--set", 'build={"widths": [4,4,4,4,4,4,4,4]}']
    assert train_cli.main(argv + ["--epochs", "1", "--show"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 1
    argv += ["--set", "epochs=1000"]  # the budget wins; one epoch here takes well under a second
    assert train_cli.main(argv) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["epochs_from_budget"] and 1 <= cfg["epochs"] < 1000 and last["epochs"] == cfg["epochs"]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(log) == cfg["epochs"]
    assert set(log[0]) >= {"loss", "train_top1", "test_top1", "img_s", "lr"}
    card = json.loads((exp / "lscat_skip_cifar10.json").read_text())
    for key in ("model", "build", "classes", "input_size", "mean", "std", "recipe", "command", "data", "top1",
                "shift_consistency", "epochs", "wall_time_s", "gpu", "torch", "commit", "sha256", "hardware"):
        assert key in card, key
    assert card["command"][0].startswith("python -m core train --recipe cifar10_lscat_skip")
    assert "JPEG copy" in card["data"] and card["top1"] == last["top1"]
    assert card["hardware"] == (f"{provenance.cpu_name()}, CPU ({usable_cpus()} cores usable), "
                                f"{torch.get_num_threads()} torch threads, fp32, eager")
    # the card describes the tiny architecture it holds; it loads through core.weights (fp16 -> fp32)
    assert card["build"] == {"widths": TINY["widths"], "num_classes": 10} and card["input_size"] == 16
    pretrained_dir = pretrained.store.PRETRAINED_DIR
    try:
        pretrained.store.PRETRAINED_DIR = exp
        model, _ = pretrained.load("lscat_skip_cifar10")
    finally:
        pretrained.store.PRETRAINED_DIR = pretrained_dir
    assert not model.training and next(model.parameters()).dtype == torch.float32


def test_warm_start_from_exported_weights(folder, tmp_path):
    """init_from: a fresh run starts from an export's weights (checked against the file), records its
    sha256 in final.json and the card, keeps that record across a resume, and bad sources are errors."""
    from safetensors.torch import load_file

    from core import weights as pretrained

    first = T.train(tiny(folder, epochs=1), tmp_path / "first", progress=False, export="lscat_skip_cifar10",
                    export_dir=tmp_path / "exp1")
    weights = tmp_path / "exp1" / "lscat_skip_cifar10.safetensors"
    cfg = tiny(folder, epochs=2, seed=1, lr=0.05, init_from=str(weights))
    tr = training_setup.setup(checkpoint.resolve_run(cfg, tmp_path / "probe"), progress=False, verbose=False)
    stored = load_file(str(weights))
    for k, v in tr.model.state_dict().items():
        assert torch.equal(v, stored[k].to(v.dtype)), k
    assert tr.meta["init_from"]["sha256"] == pretrained.sha256(weights)
    assert tr.meta["init_from"]["top1"] == first["top1"] and tr.meta["init_from"]["epochs"] == 1
    # warm-started, resumed after one epoch == warm-started, uninterrupted
    full = T.train(cfg, tmp_path / "a", progress=False, export="lscat_skip_cifar10", export_dir=tmp_path / "exp2")
    T.train(cfg, tmp_path / "b", progress=False, stop_after=1)
    weights.write_bytes(b"replaced")  # the resumed run no longer reads it: it starts from its checkpoint
    resumed = T.train(cfg, tmp_path / "b", progress=False)
    logs = [[json.loads(x) for x in (tmp_path / d / "log.jsonl").read_text().splitlines()] for d in ("a", "b")]
    assert strip_times(logs[0]) == strip_times(logs[1])
    assert resumed["top1"] == full["top1"] and resumed["init_from"] == full["init_from"]
    card = json.loads((tmp_path / "exp2" / "lscat_skip_cifar10.json").read_text())
    assert card["init_from"] == full["init_from"] and card["init_from"]["file"] == str(weights.resolve())
    # what cannot be a start
    with pytest.raises(T.TrainError, match="corrupt or was replaced"):
        T.train(cfg, tmp_path / "c", progress=False)
    with pytest.raises(T.TrainError, match="does not exist"):
        T.train(tiny(folder, init_from=str(tmp_path / "nope.safetensors")), tmp_path / "d", progress=False)
    other = tiny(folder, build={**TINY, "widths": [4, 4, 4, 4, 4, 4, 4, 8]},
                 init_from=str(tmp_path / "exp2" / "lscat_skip_cifar10.safetensors"))
    with pytest.raises(T.TrainError, match="does not fit|does not match"):
        T.train(other, tmp_path / "e", progress=False)
    with pytest.raises(RecipeError, match="init_from"):
        tiny(folder, init_from=3)


def test_workers_loader_path(tmp_path):
    root = make_folder(tmp_path / "f", n_per_class=4, size=20, classes=("a", "b", "c"), splits=("train", "val"))
    cfg = make_config("imagenet_lscat_skip", model="resnet18_biasfree", nonlinearity="abs", build={"stem": "cifar"},
                      data=str(root), test_size=16, store_size=16, crop_fraction=1.0, epochs=1, batch_size=4,
                      eval_batch_size=8, workers=0, bf16=False, compile=False, channels_last=True,
                      aug={"kind": "resized_crop_flip", "size": 16, "scale": [0.5, 1], "ratio": [0.75, 1.33]},
                      final_shifts=[1])
    final = T.train(cfg, tmp_path / "w", progress=False)
    assert final["n_test"] == 12 and final["epochs"] == 1
    # the final numbers are those of the stored weights (rounded to fp16) on the whole val split,
    # preprocessed as core.training.evaluate does
    from core import data as D
    from core.training.evaluate import run_evaluation

    model = export.rounded_copy(T.load_trained(tmp_path / "w")[0], half=True)
    ds = D.open_dataset("folder", root, "val")
    pre = D.Preprocess(16)
    x, y = torch.stack([pre.to_uint8(img) for img, _ in ds]), torch.tensor(ds.targets)
    res = run_evaluation(model, D.tensor_batches(x, y, 5), shifts=(1,))
    assert res["n"] == 12 and res["top1"] == final["top1"] and res["loss"] == pytest.approx(final["loss"], rel=1e-6)
    assert res["shift_consistency"] == final["shift_consistency"]


# -- DDP ------------------------------------------------------------------------------------


def _ddp_worker(rank, world, init_file, cfg, out, interrupt=None):
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        if interrupt:  # every rank stops before the same step, as when the job is killed
            real, calls = loop.train_step, [0]

            def step(*args, **kw):
                calls[0] += 1
                if calls[0] == interrupt:
                    raise KeyboardInterrupt
                return real(*args, **kw)

            loop.train_step = step
        try:
            T.train(cfg, out, progress=False)
        except KeyboardInterrupt:
            pass
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
@pytest.mark.parametrize("holdout", [None, 0.25])
def test_ddp_gloo_two_processes_match_one(folder, tmp_path, holdout):
    # a small lr: this tiny net amplifies fp32 rounding (1e-5 after one step) chaotically at lr 0.1
    # checkpoints at every check (steps 2 and 4): the ranks agree on them and gather their sums
    # with a hold-out, each rank carves the same one and evaluates its share of it
    cfg = tiny(folder, epochs=1, final_shifts=[], lr=0.001, checkpoint_every_s=1e-9, holdout=holdout)
    os.environ.pop("LOCAL_RANK", None)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), cfg, str(tmp_path / "ddp")), nprocs=2, join=True)
    T.train(cfg, tmp_path / "one", progress=False)
    a = torch.load(tmp_path / "ddp" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=True)["model"]
    stats = [k for k in a if "running" in k]
    assert any(k.startswith("head.bn.") for k in stats) and any(".std." in k for k in stats)
    for k in a:  # Std and head-BN running statistics and the weights after 5 synchronized steps
        assert torch.allclose(a[k].float(), b[k].float(), rtol=1e-3, atol=1e-6), k
    la = [json.loads(x) for x in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "one" / "log.jsonl").read_text().splitlines()]
    key = "holdout_top1" if holdout else "test_top1"
    assert la[0][key] == lb[0][key] and la[0]["loss"] == pytest.approx(lb[0]["loss"], rel=1e-4)


@pytest.mark.slow
def test_ddp_mid_epoch_checkpoint_resumes_bitwise(folder, tmp_path):
    """Two gloo ranks interrupted before step 4: the mid-epoch checkpoint of step 2 holds both ranks'
    running sums, and the resumed pair ends exactly where an uninterrupted pair does."""
    cfg = tiny(folder, epochs=1, final_shifts=[], lr=0.001, checkpoint_every_s=1e-9)
    os.environ.pop("LOCAL_RANK", None)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "i0"), cfg, str(tmp_path / "full")), nprocs=2, join=True)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "i1"), cfg, str(tmp_path / "cut"), 4), nprocs=2, join=True)
    ck = checkpoint.load_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert (ck["epoch"], ck["batch"], ck["step"]) == (0, 2, 2)
    assert ck["meter"].shape == (2, 3) and ck["meter"][:, 2].tolist() == [8.0, 8.0]  # 2 batches of 4 per rank
    assert ck["meter"][0, 0] != ck["meter"][1, 0]  # each rank's own loss sum
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "i2"), cfg, str(tmp_path / "cut")), nprocs=2, join=True)
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert strip_times(json.loads(a["history"])) == strip_times(json.loads(b["history"]))


# -- the GPU recipe's path, on the CPU ----------------------------------------------------------


@pytest.mark.slow
def test_gpu_path_compile_bf16_channels_last_on_cpu(folder, tmp_path, monkeypatch):
    """What the GPU recipes switch on (torch.compile of the train and eval graphs, bf16 autocast,
    channels_last), end to end on the CPU before any GPU: interrupted mid-epoch, resumed, finished
    (fp32 final evaluation with shift consistency) and exported; the resumed run equals an
    uninterrupted one bitwise, and core.training.evaluate on the exported file reproduces the final numbers."""
    from core import weights as pretrained
    from core.training import evaluate as E

    cfg = tiny(folder, compile=True, bf16=True, channels_last=True, checkpoint_every_s=1e-9, final_shifts=[1, 2])
    undo = _interrupt_at(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt, match="injected before step 4"):
        T.train(cfg, tmp_path / "cut", progress=False)
    undo()
    ck = checkpoint.load_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert (ck["epoch"], ck["batch"]) == (0, 2)
    final = T.train(None, tmp_path / "cut", progress=False, export="lscat_skip_cifar10", export_dir=tmp_path / "pre")
    T.train(cfg, tmp_path / "full", progress=False)
    _same_run(tmp_path / "full", tmp_path / "cut")
    assert final["config"]["compile"] and final["config"]["bf16"] and final["config"]["channels_last"]
    assert set(final["shift_consistency"]["circular"]) == {"1", "2"} and final["n_test"] == 40
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path / "pre")
    res = E.evaluate("lscat_skip_cifar10", str(folder), shifts=(1, 2), workers=0, progress=False)
    assert res["n"] == final["n_test"] and res["top1"] == final["top1"] and res["top5"] == final["top5"]
    assert res["shift_consistency"] == final["shift_consistency"]
    assert res["loss"] == pytest.approx(final["loss"], rel=1e-5)


def test_environment_names_the_machine():
    from core.provenance import cpu_name
    from core.training.export import environment

    env = environment(torch.device("cpu"), 1)
    assert env["cpu"] == cpu_name() and env["cpu"] and env["cpu"] != "unknown"
    assert env["device"].startswith("CPU (") and env["world_size"] == 1 and env["torch"] == torch.__version__
