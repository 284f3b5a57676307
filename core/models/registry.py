"""The one registry of architectures: ``register``, ``build_model(name, ...)``, ``list_models()``,
``count_parameters``, and ``kind(model)``: what the analysis can read from a model.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str):
    """Decorator: add a model builder to the registry under ``name`` (a name is registered once)."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered (by {_REGISTRY[name].__module__}."
                         f"{_REGISTRY[name].__qualname__}); choose another name")

    def deco(fn):
        _REGISTRY[name] = fn
        return fn

    return deco


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def build_model(name: str, num_classes: int | None = None, nonlinearity: str | None = None, **kwargs) -> nn.Module:
    """Build a registered model. ``num_classes`` defaults to the configuration's data set (10 or
    1000); ``nonlinearity`` to "mod" (scattering models) or "relu" (ResNets)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    if num_classes is not None:
        kwargs["num_classes"] = int(num_classes)
        if kwargs["num_classes"] < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if nonlinearity is not None:
        kwargs["nonlinearity"] = nonlinearity
    model = _REGISTRY[name](**kwargs)
    model.model_name = name
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Real parameters (a complex weight counts twice since it is stored as (re, im))."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


KINDS = ("scattering", "features", "logits")


def kind(model: nn.Module) -> str:
    """What the analysis can read from a model, as its class declares it (``KIND``): "scattering"
    (wavelet blocks whose phases and moduli it measures: ``LearnedScattering``), "features" (real
    stage outputs through ``forward_intermediates``: the ResNets) or "logits" (any other module:
    only its prediction)."""
    k = getattr(type(model), "KIND", "logits")
    if k not in KINDS:
        raise ValueError(f"{type(model).__name__}.KIND is {k!r}, not one of {KINDS}")
    return k
