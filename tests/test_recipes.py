"""The CPU training recipes (ResNet-18 partners, the longer CIFAR-10 run) and the long-run
command lines that docs/TRAINING.md gives for them."""

import json
import re
from pathlib import Path

import pytest
import torch

from core import weights as pretrained
from core.models import build_model, count_parameters
from core.training import model as training_model
from core.training.checkpoint import RESUME_FREE
from core.training.recipes import DEFAULTS, HOLDOUT, RECIPES, make_config

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


def recorded_configs() -> list[tuple[str, dict]]:
    """The configurations that made recorded or served weights: docs/runs/*/config.json and the served
    cards' recipes."""
    runs = sorted((ROOT / "docs" / "runs").glob("*/config.json"))
    cards = sorted((ROOT / "pretrained").glob("*.json"))
    return [(str(p.relative_to(ROOT)), json.loads(p.read_text())) for p in runs] + \
        [(str(p.relative_to(ROOT)), json.loads(p.read_text())["recipe"]) for p in cards]


@pytest.mark.parametrize("where,recorded", recorded_configs(), ids=[w for w, _ in recorded_configs()])
def test_recipes_of_recorded_weights_stay_as_they_ran(where, recorded):
    """A recipe that made recorded weights still gives the configuration that ran, key by key (a key
    newer than the record at its default: what the run did, e.g. no hold-out); only where the data were
    read, and the names of the recipe and of the weights a cycle starts from (renamed) may differ."""
    name = re.sub(r"^(imagenette_\w+_small)_long(er)?$", lambda m: f"{m[1]}_cycle{3 if m[2] else 2}", recorded["name"])
    now = make_config(name)  # cycles 2 and 3 were first named _long and _longer
    free = set(RESUME_FREE) | {"init_from", "name"}
    differ = {k: (recorded.get(k, DEFAULTS[k]), now[k]) for k in DEFAULTS if k not in free
              and recorded.get(k, DEFAULTS[k]) != now[k]}
    assert differ == {}, f"{where}: recorded -> now {differ}"
    assert now["holdout"] is None


def test_new_imagenette_runs_hold_out_part_of_train():
    for name in ("imagenette_lscat_skip", "imagenette_lscat_skip_full", "imagenette_resnet18"):
        cfg = make_config(name)
        assert cfg["holdout"] == HOLDOUT and 0 < HOLDOUT < 1 and cfg["holdout_seed"] == 0 and cfg["test_split"] == "val"
    # the recipes of weights already made keep theirs (none), and a further cycle keeps its first's
    for name in RECIPES:
        cfg = make_config(name)
        if name.startswith("imagenette_") and "_small" in name:
            assert cfg["holdout"] is None, name
