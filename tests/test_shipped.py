"""The weights shipped in pretrained/: each loads (sha256 checked), its card says how it was made,
and, where ../shared holds the data, its recorded test accuracy is reproduced by core.evaluate."""

import subprocess
from pathlib import Path

import pytest
import torch

from core import pretrained

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


@pytest.mark.integration
@pytest.mark.parametrize("name", [n for n in SHIPPED if pretrained.ENTRIES[n].dataset == "cifar10"]
                         or [pytest.param(None, marks=pytest.mark.skip("no CIFAR-10 weights shipped"))])
def test_cifar10_accuracy_in_the_card_is_reproduced(name, tmp_path):
    tar = SHARED / "cifar10-jpeg.tar.gz"
    if not tar.is_file():
        pytest.skip("../shared/data is not here")
    from core.evaluate import evaluate

    card = pretrained.read_card(name)
    if "CIFAR-10, JPEG copy" not in card["data"]:
        pytest.skip("these weights were evaluated on torchvision's CIFAR-10, not on the JPEG copy")
    subprocess.run(["tar", "-xzf", str(tar), "-C", str(tmp_path), "cifar10-jpeg/test"], check=True)
    res = evaluate(name, str(tmp_path / "cifar10-jpeg"), shifts=(), workers=0, progress=False)
    assert res["n"] == 10_000
    assert res["top1"] == pytest.approx(card["top1"], abs=2e-4)  # the same images, the same stored weights


@pytest.mark.integration
@pytest.mark.parametrize("name", [n for n in SHIPPED if pretrained.ENTRIES[n].dataset == "imagenette"]
                         or [pytest.param(None, marks=pytest.mark.skip("no Imagenette weights shipped"))])
def test_imagenette_accuracy_in_the_card_is_reproduced(name, tmp_path):
    tar = SHARED / "imagenette2-160-val.tar"
    if not tar.is_file():
        pytest.skip("../shared/data is not here")
    from core.evaluate import evaluate

    card = pretrained.read_card(name)
    subprocess.run(["tar", "-xf", str(tar), "-C", str(tmp_path)], check=True)
    res = evaluate(name, str(tmp_path / "imagenette2-160"), shifts=(), workers=0, progress=False)
    assert res["n"] == card["n_test"] == 3925  # the whole val split
    assert res["top1"] == pytest.approx(card["top1"], abs=2e-4)
