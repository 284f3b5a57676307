"""Every ``python -m core train`` / ``python -m core evaluate`` command line that README.md and
docs/TRAINING.md document is run here with its flags exactly as written, on tiny data made in a
temporary folder, so that the documentation cannot rot.

How a documented line becomes a tiny run: the data placeholders (ROOT, IMAGENET, .data/cifar10-jpeg,
...) become tiny ImageFolders of the data set the recipe or model needs; the line runs in its own
temporary working directory (a ``--resume`` in the one of the run it resumes), so relative ``--out``
paths stay there; ``pretrained/`` is a temporary folder that the documented ``--export`` lines fill
and the ``core.training.evaluate`` lines read. A training line gets ``--set`` overrides appended that shrink
it (widths of 4, 16 or 64 px images, one epoch or a 3 s budget, no compile): ``--set`` is applied
after every other flag, so the documented flags are all parsed and used, only the sizes change.
Commands run in process (``core.cli.train.main``, ``core.cli.evaluate.main``); one runs as ``python -m``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core import training as T
from core import weights as pretrained
from core.cli import evaluate as evaluate_cli
from core.cli import train as train_cli
from core.data import IMAGENETTE_WNIDS
from core.training.recipes import make_config
from tests.helpers_data import make_folder

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "docs" / "TRAINING.md")
MODULES = {"train": train_cli.main, "evaluate": evaluate_cli.main}
DATA_PLACEHOLDERS = ("ROOT", "IMAGENET", ".data/cifar10-jpeg", "../shared/data/cifar10-jpeg")


def documented_commands(text: str) -> list[str]:
    """The ``python -m core train`` / ``python -m core evaluate`` command lines of a markdown text: the
    lines of its fenced code blocks (a trailing backslash continues a line) and single-line inline code,
    without comments, environment assignments, ``nohup nice``, ``.venv/bin/``, output redirections or
    the torchrun launcher (DDP has its own tests; the flags are the same)."""
    lines, joined, fenced = text.splitlines(), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            fenced = not fenced
        elif fenced:  # a code block line, maybe continued
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i].strip()
            joined.append(line.strip())
        else:
            joined += re.findall(r"`([^`]*-m core (?:train|evaluate) [^`]*)`", line)
        i += 1
    out = []
    for line in joined:
        line = re.sub(r"^(\w+=\S+\s+)+", "", line)  # OMP_NUM_THREADS=1 ...
        line = re.sub(r"^nohup\s+(nice\s+-n\s+\d+\s+)?", "", line)
        line = re.sub(r"^(\.venv/bin/)?python3?\s", "python ", line)
        line = re.sub(r"^torchrun(\s+--\S+)*\s+-m ", "python -m ", line)
        line = re.split(r"\s[12]?>>?\s", line)[0]  # the log redirection of a background run
        complete = len(shlex.split(line, comments=True)) > 5 or "--list-recipes" in line or "--resume" in line
        if re.match(r"python -m core (train|evaluate)\b", line) and "..." not in line and complete:
            out.append(" ".join(shlex.split(line, comments=True)))
    return out


def all_commands() -> list[tuple[str, str]]:
    return [(doc.name, cmd) for doc in DOCS for cmd in documented_commands(doc.read_text())]


def test_the_extraction_finds_the_documented_forms():
    cmds = all_commands()
    by_doc = {doc.name: [c for d, c in cmds if d == doc.name] for doc in DOCS}
    assert len(by_doc["README.md"]) >= 2 and len(by_doc["TRAINING.md"]) >= 10, by_doc
    assert "python -m core train --recipe cifar10_lscat_skip --data ROOT --model lscat_cifar10 --nonlinearity cst " \
           "--epochs 15 --seed 1 --set limit_train=10000 --out runs/lscat_cst" in by_doc["TRAINING.md"]
    assert "python -m core train --recipe imagenet_lscat_skip --data IMAGENET" in by_doc["TRAINING.md"]  # torchrun's
    assert any(c.startswith("python -m core evaluate") for c in by_doc["README.md"])
    assert documented_commands("```bash\nx\nnohup nice -n 10 .venv/bin/python -m core train --a \\\n"
                               "    --b c > runs/x.log 2>&1 &   # note\n```\n    python -m core train --d\n") == \
        ["python -m core train --a --b c"]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    base = tmp_path_factory.mktemp("docs_data")
    return {"cifar10": make_folder(base / "cifar", n_per_class=4, size=16),
            "imagenette": make_folder(base / "nette", n_per_class=2, size=64, classes=IMAGENETTE_WNIDS,
                                      splits=("train", "val")),
            "folder": make_folder(base / "imagenet", n_per_class=4, size=64, classes=("a", "b", "c"),
                                  splits=("train", "val"))}


def flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def tiny_overrides(argv: list[str]) -> list[str]:
    """``--set`` arguments that shrink the run this training command line describes."""
    cfg = train_cli.config_from_args(train_cli.parse_args(argv))
    over = {"epochs": 1, "batch_size": 8, "eval_batch_size": 20, "workers": 0, "compile": False, "bf16": False,
            "final_shifts": [1], "check_every": 2}
    if cfg["budget_s"] is not None:
        over["budget_s"] = 3
    scattering = cfg["model"].startswith(("lscat", "scat"))
    build = dict(cfg["build"])
    if cfg["dataset"] == "cifar10":
        over.update(store_size=16, test_size=16)
        if scattering:
            build.update(widths=[4] * 8, input_size=16)
    else:
        over.update(store_size=64, test_size=64, aug={**cfg["aug"], "size": 64}, eval_batch_size=10)
        if scattering:
            build.update(widths=[4] * 11, input_size=64)
    over["build"] = build
    return [x for k, v in over.items() for x in ("--set", f"{k}={json.dumps(v)}")]


def data_for(module: str, argv: list[str]) -> str:
    """Which tiny data set a documented line is about: the recipe's, or the evaluated entry's."""
    if module == "train":
        recipe = flag(argv, "--recipe")
        return make_config(recipe)["dataset"] if recipe else "cifar10"
    return flag(argv, "--dataset") or pretrained.ENTRIES[flag(argv, "--model")].dataset


def run_documented(cmd: str, datasets: dict, work: Path, cwd_of: dict, monkeypatch, capsys) -> tuple:
    module, argv = cmd.split()[3], shlex.split(cmd)[4:]
    kind = data_for(module, argv)
    argv = [str(datasets[kind]) if a in DATA_PLACEHOLDERS else a for a in argv]
    out = flag(argv, "--out") or (f"runs/{flag(argv, '--recipe')}" if flag(argv, "--recipe") else None)
    if "--resume" in argv:
        cwd = cwd_of[out]
    else:
        cwd = work / f"cmd{len(list(work.iterdir()))}"
        cwd.mkdir()
        if out:
            cwd_of[out] = cwd
    if module == "train" and "--recipe" in argv and "--list-recipes" not in argv:
        argv += tiny_overrides(argv)
    if "--weights" in argv:  # the file the line names: here, an untrained model of its architecture
        from safetensors.torch import save_file

        torch.manual_seed(0)
        model = pretrained.build_untrained(flag(argv, "--model"))
        target = cwd / flag(argv, "--weights")
        target.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(target))
    if module == "evaluate":
        argv += ["--workers", "0", "--no-progress"] if "--workers" not in argv else []
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    rc = MODULES[module](argv)
    captured = capsys.readouterr()
    return rc, captured.out.strip().splitlines() or [""], captured.err, cwd, out


def test_documented_commands_run_as_written(datasets, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path / "pretrained")
    work = tmp_path / "work"
    work.mkdir()
    cwd_of: dict = {}
    cmds = all_commands()
    # training first (its --export lines provide the weights that the evaluation lines read)
    ordered = [c for c in cmds if " core train " in c[1]] + [c for c in cmds if " core evaluate " in c[1]]
    seen = set()
    for doc, cmd in ordered:
        if cmd in seen:
            continue
        seen.add(cmd)
        rc, out, err, cwd, out_dir = run_documented(cmd, datasets, work, cwd_of, monkeypatch, capsys)
        assert rc == 0, f"{doc}: `{cmd}` exited with {rc}: {err.strip()[-500:]}"
        if "--list-recipes" in cmd:
            assert any(line.startswith("cifar10_lscat_skip ") for line in out), out
            continue
        res = json.loads(out[-1])
        assert 0 < res["top5"] and res["top1"] <= res["top5"] <= 1, (cmd, res)
        if " core train " in cmd:
            final = json.loads((cwd / out_dir / "final.json").read_text())
            assert res["top1"] == final["top1"] and res["epochs"] == final["epochs"], cmd
            if "--export" in cmd:  # the card records the run's command lines (a resume of a finished run adds none)
                where = flag(cmd.split(), "--export-dir")
                folder = cwd / where if where else tmp_path / "pretrained"
                card = json.loads((folder / f"{flag(cmd.split(), '--export')}.json").read_text())
                assert card["top1"] == final["top1"] and card["command"] == final["commands"]
                if "--recipe" in cmd:
                    assert card["command"][0].startswith(cmd.split(" --data ")[0]), card["command"]
        elif res["split"] == "holdout":  # the hold-out that the documented export's run evaluated on
            card = json.loads((tmp_path / "pretrained" / f"{res['entry']}.json").read_text())
            assert card["eval_split"] == "holdout" and res["n"] == card["n_test"] < 20, (res, card["n_test"])
            assert res["top1"] == card["top1"], cmd
        else:
            model = flag(cmd.split(), "--model")
            assert res["model"] == model and res["n"] == {"cifar10": 40, "imagenette": 20}[res["dataset"]], res
            if "--weights" not in cmd:  # shipped weights: the documented exports (or their stand-in)
                assert res["entry"] in pretrained.sources(model), res
    assert len(seen) >= 14


def test_one_documented_command_as_a_module():
    """`python -m core train --list-recipes` from the documentation, as a real process."""
    cmd = next(c for _, c in all_commands() if c.startswith("python -m core train --list-recipes"))
    done = subprocess.run([sys.executable, *shlex.split(cmd)[1:]], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert {line.split()[0] for line in done.stdout.splitlines()} == set(T.list_recipes())
