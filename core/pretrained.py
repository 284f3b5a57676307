"""Pretrained weights: ``load(name)`` returns the model in eval mode and its model card.

Weights live in ``pretrained/<name>.safetensors`` (safetensors only, fp16 or fp32) beside a JSON
model card ``pretrained/<name>.json``. Like torchvision's weight enums, each entry below says which
model to build, for which data, classes, input size and normalization; the card written by
training adds the recipe, the command, the measured accuracy, the hardware and the checksum.

    from core import pretrained
    model, card = pretrained.load("lscat_skip_cifar10")

``load`` verifies the card's sha256 against the file and rebuilds the exact architecture recorded
in the card. Missing, corrupt or mismatched files raise :class:`PretrainedError` with a message
that says what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.data import CIFAR10_CLASSES, IMAGENETTE_CLASSES, MEAN, STD
from core.models import CIFAR10_SMALL, IMAGENETTE_NARROW, IMAGENETTE_SMALL, build_model

PRETRAINED_DIR = Path(os.environ.get("PHASE_COLLAPSE_PRETRAINED", Path(__file__).resolve().parents[1] / "pretrained"))

class PretrainedError(RuntimeError):
    """A weights file or model card is missing, corrupt or does not match the model."""


@dataclass(frozen=True)
class Entry:
    """What a set of weights is for (the card adds how it was made and how well it does)."""

    model: str
    dataset: str
    classes: tuple[str, ...]
    input_size: int
    recipe: str
    build: dict = field(default_factory=dict)
    mean: tuple[float, ...] = MEAN
    std: tuple[float, ...] = STD
    description: str = ""


ENTRIES: dict[str, Entry] = {
    "lscat_skip_cifar10": Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_lscat_skip",
                                description="LScat+skip, the paper's CIFAR-10 architecture"),
    "lscat_skip_cifar10_small": Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_lscat_skip_small",
                                      build={"widths": CIFAR10_SMALL},
                                      description="the CIFAR-10 architecture at an eighth of the widths, "
                                                  "trained on a CPU"),
    "resnet18_cifar10": Entry("resnet18_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_resnet18",
                              description="ResNet-18 baseline, same recipe and budget"),
    "lscat_skip_imagenette": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 160,
                                   "imagenette_lscat_skip",
                                   build={"num_classes": 10, "input_size": 160, "widths": IMAGENETTE_NARROW},
                                   description="LScat+skip, ImageNet configuration at a quarter of the widths, 160 px"),
    "lscat_skip_imagenette_small": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 112,
                                         "imagenette_lscat_skip_small",
                                         build={"num_classes": 10, "input_size": 112, "widths": IMAGENETTE_SMALL},
                                         description="LScat+skip, ImageNet configuration at an eighth of the widths, "
                                                     "112 px, trained on a CPU"),
    "lscat_skip_imagenette_full": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 160,
                                        "imagenette_lscat_skip_full", build={"num_classes": 10, "input_size": 160},
                                        description="LScat+skip, full ImageNet widths, 160 px"),
    "resnet18_imagenette": Entry("resnet18_imagenet", "imagenette", IMAGENETTE_CLASSES, 160, "imagenette_resnet18",
                                 build={"num_classes": 10}, description="ResNet-18 baseline, same recipe and budget"),
}


def weights_path(name: str) -> Path:
    return PRETRAINED_DIR / f"{name}.safetensors"


def card_path(name: str) -> Path:
    return PRETRAINED_DIR / f"{name}.json"


def available() -> list[str]:
    """Names whose weights and card are both present (not yet verified)."""
    return [n for n in ENTRIES if weights_path(n).is_file() and card_path(n).is_file()]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_untrained(name: str, seed: int = 0) -> torch.nn.Module:
    """The entry's architecture with its deterministic random initialization, in eval mode
    (for the filters and phase-shift analysis, which need no learning)."""
    entry = _entry(name)
    torch.manual_seed(seed)
    return build_model(entry.model, **entry.build).eval()


def _entry(name: str) -> Entry:
    if name not in ENTRIES:
        raise PretrainedError(f"no pretrained entry {name!r}; known: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def read_card(name: str) -> dict:
    path = card_path(name)
    if not path.is_file():
        raise PretrainedError(f"model card {path} is missing; train the model first (see docs/TRAINING.md)")
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PretrainedError(f"model card {path} is not valid JSON: {e}") from None
    if not isinstance(card, dict) or "sha256" not in card or "model" not in card:
        raise PretrainedError(f"model card {path} lacks the 'model' and 'sha256' fields")
    return card


def load(name: str, device: str | torch.device = "cpu", verify: bool = True) -> tuple[torch.nn.Module, dict]:
    """The pretrained model ``name`` in eval mode (float32) and its card."""
    entry = _entry(name)
    card = read_card(name)
    if card["model"] != entry.model:
        raise PretrainedError(f"card {card_path(name)} describes a {card['model']}, but {name!r} is a {entry.model}")
    if "classes" in card and len(card["classes"]) != len(entry.classes):
        raise PretrainedError(f"card {card_path(name)} lists {len(card['classes'])} classes, expected "
                              f"{len(entry.classes)}")
    path = weights_path(name)
    if not path.is_file():
        raise PretrainedError(f"weights file {path} is missing (its card is present); re-download or re-export it")
    if verify:
        digest = sha256(path)
        if digest != card["sha256"]:
            raise PretrainedError(f"{path} is corrupt or was replaced: sha256 {digest} != card's {card['sha256']}")
    try:
        from safetensors.torch import load_file

        state = load_file(str(path), device="cpu")
    except Exception as e:  # safetensors raises its own error types for truncated/garbled files
        raise PretrainedError(f"{path} is not a readable safetensors file: {e}") from None
    try:
        model = build_model(card["model"], **card.get("build", {}))
    except (TypeError, ValueError) as e:
        raise PretrainedError(f"card {card_path(name)} describes a model that cannot be built: {e}") from None
    expected = model.state_dict()
    state = {k: v.to(expected[k].dtype) if k in expected else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise PretrainedError(f"{path} does not match the architecture in its card: {e}") from None
    return model.to(device).eval(), card


def save(model: torch.nn.Module, name: str, card: dict, half: bool = False,
         directory: str | Path | None = None) -> dict:
    """Write ``<directory>/<name>.safetensors`` (default directory: pretrained/) and its card atomically;
    returns the card with 'model', 'build', data fields (from the entry unless given), 'precision' and
    'sha256' filled in."""
    from safetensors.torch import save_file

    entry = _entry(name)
    directory = Path(directory) if directory is not None else PRETRAINED_DIR
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    path = directory / f"{name}.safetensors"
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    save_file(state, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    card = {"name": name, "model": entry.model, "build": entry.build, "dataset": entry.dataset,
            "classes": list(entry.classes), "input_size": entry.input_size, "mean": list(entry.mean),
            "std": list(entry.std), "precision": "fp16" if half else "fp32", **card, "sha256": sha256(path)}
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(card, f, indent=2, default=list)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, directory / f"{name}.json")
    return card
