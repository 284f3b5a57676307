"""Pretrained weights: ``load(name)`` returns the model in eval mode and its model card.

Weights live in ``pretrained/<name>.safetensors`` (safetensors only, fp16 or fp32) beside a JSON
model card ``pretrained/<name>.json``. Like torchvision's weight enums, each entry below says which
model to build, for which data, classes, input size and normalization, and carries its evaluation
transform (``Entry.transforms()``); the card written by training adds the recipe, the command, the
measured accuracy, the hardware and the checksum.

    from core import weights
    name = weights.resolve("lscat_skip_cifar10")   # the shipped weights for this public name
    model, card = weights.load(name)
    x = weights.ENTRIES[name].transforms(card)(pil_image)[None]   # resize, centre crop, normalize
    model, card = weights.load("lscat_skip_cifar10", weights="my.safetensors")   # any exported file

``load`` verifies the card's sha256 against the file and rebuilds the exact architecture recorded
in the card. Missing, corrupt or mismatched files raise :class:`PretrainedError` with a message
that says what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

from core.files import REPO_ROOT
from core.models import (  # noqa: F401  (the widths are also imported from here)
    CIFAR10_SMALL,
    IMAGENETTE_NARROW,
    IMAGENETTE_SMALL,
    RESNET18_WIDTH_CIFAR10_SMALL,
    RESNET18_WIDTH_IMAGENETTE_SMALL,
    build_model,
    list_models,
)
from core.weights.catalog import ENTRIES, Entry, sources

PRETRAINED_DIR = Path(os.environ.get("PHASE_COLLAPSE_PRETRAINED", REPO_ROOT / "pretrained"))


class PretrainedError(RuntimeError):
    """A weights file or model card is missing, corrupt or does not match the model."""


def resolve(name: str) -> str | None:
    """The first of ``name`` and its stand-ins (:data:`SOURCES`) whose weights and card are present,
    or None. ``load(resolve(name))`` then loads it (and verifies it)."""
    have = set(available())
    return next((n for n in sources(name) if n in have), None)


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


def card_split(card: dict) -> str:
    """The split a card's top1 / top5 / n_test were measured on: its ``eval_split``, or for a card
    written before that field, its recipe's test split (there was no hold-out then)."""
    return card.get("eval_split") or (card.get("recipe") or {}).get("test_split", "test")


def quoted_accuracy(card: dict) -> tuple[str, float] | None:
    """(split, top-1) that a model card quotes: its ``quoted_result`` (the one measurement of val / test of
    weights chosen on a hold-out, ``core evaluate --record``) when it has one, else its own ``top1`` and the
    split that was measured on ("holdout" for weights whose quoted split is not measured yet)."""
    q = card.get("quoted_result")
    if isinstance(q, dict) and isinstance(q.get("top1"), (int, float)):
        return q["split"], float(q["top1"])
    v = card.get("top1")
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return None
    return card_split(card), float(v)


def load(name: str, device: str | torch.device = "cpu", verify: bool = True,
         weights: str | Path | None = None) -> tuple[torch.nn.Module, dict]:
    """The pretrained model ``name`` in eval mode (float32) and its card. ``name`` is an entry of the
    catalog or a public name (``lscat_skip_cifar10``, ``resnet18_imagenette``, ...), which loads the
    weights shipped for it.

    Without ``weights``: the shipped ``pretrained/<name>.safetensors`` and its card (sha256 verified,
    architecture checked against the entry). With ``weights``, a .safetensors file (an export of
    ``core.training --export``, say): its card is the JSON file beside it when there is one (sha256
    checked if it records one), else the entry ``name`` says what to build; a registry model name
    without an entry builds that architecture with 10 classes."""
    if weights is not None:
        path, card = _file_and_card(name, Path(weights), verify)
    else:
        name = resolve(name) or name  # a public name: the weights shipped for it; none: says what is missing
        entry = _entry(name)
        card = read_card(name)
        if card["model"] != entry.model:
            raise PretrainedError(f"card {card_path(name)} describes a {card['model']}, but {name!r} is a "
                                  f"{entry.model}")
        if "classes" in card and len(card["classes"]) != len(entry.classes):
            raise PretrainedError(f"card {card_path(name)} lists {len(card['classes'])} classes, expected "
                                  f"{len(entry.classes)}")
        path = weights_path(name)
        if not path.is_file():
            raise PretrainedError(f"weights file {path} is missing (its card is present); re-download or re-export it")
        if verify:
            _check_sha(path, card["sha256"], card_path(name))
    return _build_with(card, path).to(device).eval(), card


def _file_and_card(name: str, path: Path, verify: bool) -> tuple[Path, dict]:
    """An explicit weights file and the card that describes it (see :func:`load`)."""
    if not path.is_file():
        raise PretrainedError(f"weights file {path} does not exist")
    if path.suffix != ".safetensors":
        raise PretrainedError(f"weights must be a .safetensors file (got {path.name}); training checkpoints are "
                              "exported with `python -m core train ... --export NAME`")
    card_file = path.with_suffix(".json")
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise PretrainedError(f"card {card_file} is not valid JSON: {e}") from None
        if not isinstance(card, dict) or "model" not in card:
            raise PretrainedError(f"card {card_file} lacks the 'model' field")
        if verify and "sha256" in card:
            _check_sha(path, card["sha256"], card_file)
        return path, card
    if name in ENTRIES:
        e = ENTRIES[name]
        return path, {"name": name, "model": e.model, "build": dict(e.build), "dataset": e.dataset,
                      "classes": list(e.classes), "input_size": e.input_size, "mean": list(e.mean), "std": list(e.std)}
    if name in list_models():
        return path, {"model": name, "build": {"num_classes": 10}}
    raise PretrainedError(f"unknown model {name!r} and no card beside {path}; pretrained entries: "
                          f"{', '.join(ENTRIES)}; registry: {', '.join(list_models())}")


def _check_sha(path: Path, expected: str, card_file: Path) -> None:
    digest = sha256(path)
    if digest != expected:
        raise PretrainedError(f"{path} is corrupt or was replaced: sha256 {digest} != {card_file.name}'s {expected}")


def _build_with(card: dict, path: Path) -> torch.nn.Module:
    """The card's architecture with the weights of ``path`` (fp16 files become float32)."""
    try:
        from safetensors.torch import load_file

        state = load_file(str(path), device="cpu")
    except Exception as e:  # safetensors raises its own error types for truncated/garbled files
        raise PretrainedError(f"{path} is not a readable safetensors file: {e}") from None
    try:
        model = build_model(card["model"], **card.get("build", {}))
    except (TypeError, ValueError) as e:
        raise PretrainedError(f"the card of {path.name} describes a model that cannot be built: {e}") from None
    expected = model.state_dict()
    state = {k: v.to(expected[k].dtype) if k in expected else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise PretrainedError(f"{path} does not match the architecture in its card ({card['model']} "
                              f"{card.get('build', {})}): {str(e).splitlines()[0]}") from None
    return model


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
