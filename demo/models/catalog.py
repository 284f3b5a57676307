"""The demo's models, listed once: each LScat+skip model and the ResNet-18 baseline trained with the same
recipe. The LScat ones are always offered (untrained if need be), the ResNets only with weights."""

from __future__ import annotations

import torch

from core import weights as pretrained
from core.models import CIFAR10, IMAGENET
from core.models.registry import kind

# LScat+skip model -> its ResNet-18 baseline, in the order offered.
PAIRS = {"lscat_skip_cifar10": "resnet18_cifar10", "lscat_skip_imagenette": "resnet18_imagenette"}
LSCAT = tuple(PAIRS)
BASELINES = tuple(PAIRS.values())
# Short enough for the menu at 1024 px (tests/test_browser.py); the page says each model's classes and input
# size beside the upload box (demo.handlers.page.known_classes).
LABELS = {
    "lscat_skip_cifar10": "LScat+skip · CIFAR-10",
    "lscat_skip_imagenette": "LScat+skip · Imagenette",
    "resnet18_cifar10": "ResNet-18 baseline · CIFAR-10",
    "resnet18_imagenette": "ResNet-18 baseline · Imagenette",
}
DEFAULT = LSCAT[0]
# A model of small images -> the model of the same kind trained on photos (suggested for a larger upload).
PHOTO_MODELS = {"lscat_skip_cifar10": "lscat_skip_imagenette", "resnet18_cifar10": "resnet18_imagenette"}
# Weights tried for each offered model, in order (core.weights.SOURCES): the GPU-trained widths
# first, then the interim eighth-width models trained on a CPU. The API key stays the same whichever
# is loaded; the banner and the numbers say which, and the input size follows the weights.


def is_scattering(model: torch.nn.Module) -> bool:
    """A learned scattering network (complex wavelet coefficients per block), not a network of real
    feature maps: the one place the demo asks."""
    return kind(model) == "scattering"


def offered() -> list[str]:
    """Model keys to offer now: both LScat models, and each ResNet baseline whose weights (or a stand-in's,
    core.weights.SOURCES) are shipped."""
    return list(LSCAT) + [k for k in BASELINES if pretrained.resolve(k)]


def photo_model(model_key: str) -> str | None:
    """The photo model to suggest instead of ``model_key`` (a model of 32 px images), when it is offered."""
    key = PHOTO_MODELS.get(model_key)
    return key if key in offered() else None


def lscat_of(model_key: str) -> str:
    """The LScat+skip model of a key's pair (the key itself for an LScat+skip key)."""
    return next((k for k, v in PAIRS.items() if v == model_key), model_key)


def models_for(model_key: str) -> list[str]:
    """The models drawn side by side for the selected one: its LScat+skip model first, then the
    matching ResNet-18 baseline when its weights are shipped."""
    lscat = lscat_of(model_key)
    keys = [lscat]
    if PAIRS.get(lscat) in offered():
        keys.append(PAIRS[lscat])
    return keys


def config_for(model_key: str):
    """The network configuration (filters per block) of a key's data set."""
    return IMAGENET if "imagenet" in model_key else CIFAR10
