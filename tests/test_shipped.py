"""The weights shipped in pretrained/: each loads (sha256 checked), its card says how it was made,
and, where ../shared holds the data, its recorded test accuracy is reproduced by core.training.evaluate."""

import os
import subprocess
from pathlib import Path

import pytest
import torch

from core import weights as pretrained

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHIPPED = pretrained.available()
CARD_FIELDS = ("model", "build", "classes", "input_size", "sha256", "top1", "top5", "n_test", "epochs", "recipe",
               "command", "data", "gpu", "torch", "commit", "date")


@pytest.mark.parametrize("name", SHIPPED or [pytest.param(None, marks=pytest.mark.skip("no weights shipped"))])
def test_shipped_weights_load_and_say_how_they_were_made(name):
    model, card = pretrained.load(name)  # raises on a checksum or architecture mismatch
    missing = [k for k in CARD_FIELDS if k not in card]
    assert not missing, f"{name}'s card lacks {missing}"
    entry = pretrained.ENTRIES[name]
    assert card["model"] == entry.model and tuple(card["classes"]) == entry.classes
    assert card["recipe_name"] == entry.recipe and card["top1"] <= card["top5"]
    for key in ("top1", "top5"):  # fractions of the n_test images: whole counts
        count = card[key] * card["n_test"]
        assert abs(count - round(count)) < 1e-6 and 0 < round(count) <= card["n_test"], (key, count)
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, entry.input_size, entry.input_size))
    assert logits.shape == (1, len(entry.classes)) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name", SHIPPED or [pytest.param(None, marks=pytest.mark.skip("no weights shipped"))])
def test_shipped_cards_say_which_split_their_choices_used(name):
    """Every served card has the ``selection`` field, in the shape the export writes
    (core.training.export.SELECTION_KEYS), true to its recipe: with no hold-out, the choices were
    made on the split its number is quoted on, and the card says so."""
    from core.training.export import SELECTION_KEYS

    card = pretrained.read_card(name)
    sel = card.get("selection")
    assert isinstance(sel, dict) and tuple(sel) == SELECTION_KEYS, f"{name}: selection {sel!r}"
    assert isinstance(sel["choices"], list) and sel["choices"] and all(isinstance(c, str) and c for c in sel["choices"])
    assert isinstance(sel["note"], str) and sel["note"] and sel["quoted"] == card["recipe"]["test_split"]
    if card["recipe"].get("holdout") is None:
        assert sel["holdout"] is None and sel["split"] == sel["quoted"] == card["eval_split"]
    else:
        assert sel["split"] == card["eval_split"] == "holdout"
        assert sel["holdout"]["holdout"] == card["recipe"]["holdout"] and sel["holdout"]["images"] == card["n_test"]


# Per data set: its tar in ../shared/data, what to extract of it, and the data root it gives.
DATA = {"cifar10": ("cifar10-jpeg.tar.gz", ["cifar10-jpeg/test"], "cifar10-jpeg", 10_000),
        "imagenette": ("imagenette2-160-val.tar", [], "imagenette2-160", 3_925)}


@pytest.mark.integration
@pytest.mark.parametrize("name", [n for n in SHIPPED if pretrained.ENTRIES[n].dataset in DATA]
                         or [pytest.param(None, marks=pytest.mark.skip("no CIFAR-10 or Imagenette weights shipped"))])
def test_accuracy_in_the_card_is_reproduced(name, tmp_path):
    """core.training.evaluate on the whole test split (CIFAR-10) or val split (Imagenette) gives the card's top-1."""
    tar, members, root, n = DATA[pretrained.ENTRIES[name].dataset]
    if not (SHARED / tar).is_file():
        pytest.skip("../shared/data is not here")
    from core.training.evaluate import evaluate

    card = pretrained.read_card(name)
    if tar.startswith("cifar10") and "CIFAR-10, JPEG copy" not in card["data"]:
        pytest.skip("these weights were evaluated on torchvision's CIFAR-10, not on the JPEG copy")
    subprocess.run(["tar", "-xf", str(SHARED / tar), "-C", str(tmp_path), *members], check=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)  # whole test splits: every core (conftest sets 1 for small tensors)
    try:
        res = evaluate(name, str(tmp_path / root), shifts=(), workers=0, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert res["n"] == card["n_test"] == n
    assert res["top1"] == pytest.approx(card["top1"], abs=2e-4)  # the same images, the same stored weights
