"""The CPU training recipes (ResNet-18 partners, the longer CIFAR-10 run) and the long-run
command lines that docs/TRAINING.md gives for them."""

import re
import shlex
from pathlib import Path

import pytest
import torch

from core import weights as pretrained
from core.cli import train as train_cli
from core.models import build_model, count_parameters
from core.training import model as training_model
from core.training.recipes import RECIPES, make_config

ROOT = Path(__file__).resolve().parents[1]
PARTNERS = {  # scattering recipe -> its ResNet-18 baseline
    "cifar10_lscat_skip_small": "cifar10_resnet18_small",
    "cifar10_lscat_skip_small_long": "cifar10_resnet18_small_long",
    "imagenette_lscat_skip_small": "imagenette_resnet18_small",
    "imagenette_lscat_skip_small_cycle2": "imagenette_resnet18_small_cycle2",
    "imagenette_lscat_skip_small_cycle3": "imagenette_resnet18_small_cycle3",
    "imagenette_lscat_skip_small_cycle4": "imagenette_resnet18_small_cycle4",
    "imagenette_lscat_skip_small_cycle5": "imagenette_resnet18_small_cycle5",
}


@pytest.mark.parametrize("lscat,resnet", PARTNERS.items())
def test_resnet_partners_differ_only_in_the_model(lscat, resnet):
    a, b = make_config(lscat), make_config(resnet)
    # a warm-started pair starts each model from its own earlier weights
    assert {k for k in a if a[k] != b[k]} == {"name", "model", "build"} | ({"init_from"} if a["init_from"] else set())
    assert b["model"].startswith("resnet18_") and a["build"].get("num_classes") == b["build"].get("num_classes")
    # matched parameter counts: within 4 % of each other
    n = {c["name"]: count_parameters(build_model(c["model"], **c["build"])) for c in (a, b)}
    assert abs(n[resnet] / n[lscat] - 1) < 0.04, n


def test_the_long_cifar_recipe():
    small, long = make_config("cifar10_lscat_skip_small"), make_config("cifar10_lscat_skip_small_long")
    assert {k for k in small if small[k] != long[k]} == {"name", "epochs", "warmup_epochs", "bf16", "compile",
                                                         "channels_last", "check_every"}
    assert long["limit_train"] is None and long["limit_test"] is None  # all 50,000 / all 10,000 images
    assert long["bf16"] and long["compile"] and 25 <= long["epochs"] <= 30
    assert long["build"] == {"widths": [8, 16, 32, 64, 64, 64, 64, 64]}


@pytest.mark.parametrize("long_name,short_name,start_epochs", [
    ("imagenette_lscat_skip_small_cycle2", "imagenette_lscat_skip_small", 24),
    ("imagenette_resnet18_small_cycle2", "imagenette_resnet18_small", 24),
    ("imagenette_lscat_skip_small_cycle3", "imagenette_lscat_skip_small_cycle2", 10),
    ("imagenette_resnet18_small_cycle3", "imagenette_resnet18_small_cycle2", 10),
    ("imagenette_lscat_skip_small_cycle4", "imagenette_lscat_skip_small_cycle3", 14),
    ("imagenette_resnet18_small_cycle4", "imagenette_resnet18_small_cycle3", 14),
    ("imagenette_lscat_skip_small_cycle5", "imagenette_lscat_skip_small_cycle4", 12),
    ("imagenette_resnet18_small_cycle5", "imagenette_resnet18_small_cycle4", 12)])
def test_the_longer_photo_recipes_continue_the_shipped_weights(long_name, short_name, start_epochs):
    """A further cycle: the first cycle's data, sizes and batch, warm-started from the weights the
    cycle before exported (a shipped entry), with a new seed and a lower peak lr."""
    short, long = make_config(short_name), make_config(long_name)
    first = make_config(re.sub(r"_small_.*", "_small", short_name))
    assert {k for k in first if first[k] != long[k]} == {"name", "init_from", "seed", "epochs", "lr", "warmup_epochs"}
    start = pretrained.ENTRIES[long["init_from"]]
    assert start.recipe == short_name and start.model == long["model"]
    assert long["lr"] < short["lr"] and long["seed"] != short["seed"]
    # the cycle is declared once: its entry is the one whose recipe it is, named by its cycle number
    cont = next(n for n, e in pretrained.ENTRIES.items() if e.recipe == long_name and not e.average_of)
    assert re.search(r"_cycle\d$", cont) and long_name.endswith(cont[-len("_cycle2"):])


def test_imagenette_resnet_runs_at_its_train_and_test_sizes():
    cfg = make_config("imagenette_resnet18_small")
    m = training_model.build(cfg, 10)
    assert m.width == 17 and count_parameters(m) == 793_655
    assert cfg["aug"]["size"] == 96 and cfg["test_size"] == cfg["store_size"] == 112
    with torch.no_grad():
        for size in (96, 112):
            assert m.eval()(torch.randn(2, 3, size, size)).shape == (2, 10)


@pytest.mark.parametrize("name", ["resnet18_cifar10_small", "resnet18_cifar10_small_long", "resnet18_imagenette_small",
                                  "lscat_skip_cifar10_small_long", "lscat_skip_imagenette_small_cycle2",
                                  "resnet18_imagenette_small_cycle2", "lscat_skip_imagenette_small_cycle3",
                                  "resnet18_imagenette_small_cycle3", "lscat_skip_imagenette_small_cycle4",
                                  "resnet18_imagenette_small_cycle4", "lscat_skip_imagenette_small_cycle5",
                                  "resnet18_imagenette_small_cycle5"])
def test_new_entries_match_their_recipes(name):
    e = pretrained.ENTRIES[name]
    cfg = make_config(e.recipe)
    assert cfg["model"] == e.model and cfg["test_size"] == e.input_size
    as_json = {k: list(v) if isinstance(v, tuple) else v for k, v in e.build.items()}
    assert {**cfg["build"], "num_classes": 10} == {**as_json, "num_classes": 10}
    untrained = pretrained.build_untrained(name)
    assert [v.shape for v in untrained.state_dict().values()] == \
        [v.shape for v in training_model.build(cfg, 10).state_dict().values()]


# -- the long-run command lines of docs/TRAINING.md -------------------------------------------

LAUNCH = re.compile(r"^nohup nice -n (\d+) \.venv/bin/python -m (core\.train|core\.experiments|core\.average) (.*?) "
                    r"(>>?) (runs/\S+\.log) 2>&1 &$")


def launch_lines() -> list[re.Match]:
    text = (ROOT / "docs" / "TRAINING.md").read_text()
    lines, out = text.splitlines(), []
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i].strip()
        if line.strip().startswith("nohup "):
            m = LAUNCH.match(line.strip())
            assert m, f"a launch line of docs/TRAINING.md does not have the documented form: {line.strip()}"
            out.append(m)
        i += 1
    return out


def test_documented_long_runs_are_well_formed():
    """Each background line parses as its module's command line, exports its recipe's entry to a
    folder of its own (never straight into pretrained/), logs under runs/, and has a resume line
    with the same --out, --export and log; none touches the Imagenette LScat run's folder. Each
    average of core.training.average has its launch line, with its own folders and log."""
    found = launch_lines()
    starts = [m for m in found if m.group(2) == "core.training" and "--resume" not in m.group(3)]
    resumes = {shlex.split(m.group(3))[shlex.split(m.group(3)).index("--out") + 1]: m for m in found
               if "--resume" in m.group(3)}
    recipes = set()
    for m in starts:
        argv = shlex.split(m.group(3))
        args = train_cli.parse_args(argv)
        cfg = train_cli.config_from_args(args)
        assert int(m.group(1)) >= 5 and m.group(4) == ">" and args.no_progress
        assert args.out == f"runs/{args.recipe}" and args.out != "runs/imagenette_lscat_skip_small"
        entry = pretrained.ENTRIES[args.export]
        assert entry.recipe == args.recipe and entry.model == cfg["model"]
        assert args.export_dir and args.export_dir.startswith("runs/export_")
        assert m.group(5) == f"runs/{args.recipe}.log"
        r = resumes[args.out]
        rargs = train_cli.parse_args(shlex.split(r.group(3)))
        assert (rargs.export, rargs.export_dir, rargs.no_progress) == (args.export, args.export_dir, True)
        assert r.group(4) == ">>" and r.group(5) == m.group(5)
        recipes.add(args.recipe)
    assert {"imagenette_resnet18_small", "cifar10_lscat_skip_small_long", "cifar10_resnet18_small_long",
            "imagenette_lscat_skip_small_cycle2", "imagenette_resnet18_small_cycle2"} <= recipes
    assert recipes <= set(RECIPES)
    exp = [m for m in found if m.group(2) == "core.experiments"]
    assert exp, "the laptop tables' launch line"
    from core import experiments as E

    for m in exp:
        a = E.parse_args(shlex.split(m.group(3)))
        assert (a.what, a.scale, a.seeds) == ("all", "laptop", [0, 1, 2]) and a.cifar10
    from core.training import average as A

    averages = [(A.parse_args(shlex.split(m.group(3))), m) for m in found if m.group(2) == "core.training.average"]
    assert {a.name for a, _ in averages} == set(A.AVERAGES), "a launch line for each average"
    for a, m in averages:  # its own out, export folder and log; never straight into pretrained/
        assert a.out == f"runs/average_{a.name}" and a.export_dir == f"runs/export_{a.name}" and a.no_progress
        assert m.group(4) == ">" and m.group(5) == f"runs/average_{a.name}.log" and a.data == ".data/nette"


def test_documented_checks_evaluate_what_the_launch_lines_export():
    text = (ROOT / "docs" / "TRAINING.md").read_text().replace("\\\n", " ")
    exports = set()
    for m in launch_lines():
        if m.group(2) == "core.training" and "--resume" not in m.group(3):
            a = train_cli.parse_args(shlex.split(m.group(3)))
            exports.add(f"{a.export_dir}/{a.export}.safetensors")
    checks = re.findall(r"^\s*\.venv/bin/python -m core\.evaluate (.*)$", text, flags=re.M)
    assert len(checks) >= 2
    for line in checks:
        argv = shlex.split(line)
        model, weights = (argv[argv.index(k) + 1] for k in ("--model", "--weights"))
        assert weights in exports and weights.endswith(f"/{model}.safetensors") and model in pretrained.ENTRIES
        assert "--data" in argv
