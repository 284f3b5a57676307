"""The demo's models, loaded once each (trained weights when shipped, else untrained)."""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from dataclasses import dataclass

import torch

from core import weights as pretrained
from core.runtime import pick_device
from demo.models.catalog import BASELINES, LABELS, LSCAT, is_scattering

log = logging.getLogger("demo")

@dataclass
class DemoModel:
    key: str
    model: torch.nn.Module
    entry: pretrained.Entry
    trained: bool
    card: dict | None
    problem: str | None = None  # why shipped weights could not be used
    weights: str | None = None  # the pretrained entry loaded (None: untrained)

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def is_scattering(self) -> bool:
        return is_scattering(self.model)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.entry.classes

    @property
    def size(self) -> int:
        return self.entry.input_size

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def banner(self) -> str:
        if self.trained:
            acc = card_accuracy(self.card or {}) or "accuracy not recorded in its model card"
            if self.weights and self.weights != self.key:  # a stand-in for the paper's model
                return (f"**{self.label}**, interim weights `{self.weights}` "
                        f"({pretrained.ENTRIES[self.weights].description}; {acc}). The paper's full-width "
                        f"weights are not trained yet.")
            return f"**{self.label}**, trained weights ({acc})."
        why = f" Shipped weights could not be loaded: {self.problem}" if self.problem else ""
        return (f"**{self.label}**, *untrained* (random orthonormal P): its predictions are those of an "
                f"untrained network, i.e. chance. The wavelet and phase-shift analysis is exact: it needs no "
                f"learning.{why}")


SPLIT_NAMES = {"test": "test", "val": "val", "holdout": "hold-out"}


def card_accuracy(card: dict) -> str | None:
    """The top-1 a model card quotes, with its split ("test accuracy 92.3%", "val accuracy 80.7%"; for weights
    chosen on a hold-out whose val / test is not measured yet, "hold-out accuracy ..."): see
    core.weights.quoted_accuracy."""
    q = pretrained.quoted_accuracy(card)
    return None if q is None else f"{SPLIT_NAMES.get(q[0], q[0])} accuracy {100 * q[1]:.1f}%"


def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Inference only: eval mode and no gradients (P then assembles its real matrix once, see
    core.nn.blocks.ComplexLinear), on CUDA when a GPU is visible (demo.compute.gpu)."""
    return model.eval().requires_grad_(False).to(pick_device("auto"))


_STORES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # token -> live ModelStore
_TOKENS = itertools.count()


def live_store(token: int) -> ModelStore:
    """The store a pickled reference names (in a ZeroGPU worker: the server's store, as forked)."""
    try:
        return _STORES[token]
    except KeyError:
        raise RuntimeError(f"no model store {token} in this process") from None


class ModelStore:
    """Builds or loads each model once, on first use or in a background warm-up, thread-safely."""

    def __init__(self):
        self.token = next(_TOKENS)
        _STORES[self.token] = self
        self._models: dict[str, DemoModel] = {}
        self._locks = {k: threading.Lock() for k in LSCAT + BASELINES}
        self.run_locks = {k: threading.Lock() for k in LSCAT + BASELINES}  # one forward at a time per model

    def __reduce__(self):
        """Pickled as a reference (demo.compute.gpu sends the store to ZeroGPU's forked worker, which has
        its own copy of the models; locks and weights are not sent)."""
        return live_store, (self.token,)

    def ready(self, key: str) -> bool:
        return key in self._models

    def get(self, key: str) -> DemoModel:
        if key not in self._locks:
            raise KeyError(key)
        if key in self._models:
            return self._models[key]
        with self._locks[key]:
            if key not in self._models:
                self._models[key] = self._load(key)
        return self._models[key]

    def _load(self, key: str) -> DemoModel:
        problems = []
        have = set(pretrained.available())
        for name in pretrained.sources(key):
            if name not in have:
                continue
            try:
                model, card = pretrained.load(name)
                log.info("loaded trained weights %s for %s", name, key)
                return DemoModel(key, freeze(model), pretrained.ENTRIES[name], True, card, weights=name)
            except pretrained.PretrainedError as e:
                problems.append(str(e))
                log.warning("could not load %s: %s", name, e)
        if key not in LSCAT:
            raise KeyError(f"{key} has no usable weights")
        return DemoModel(key, freeze(pretrained.build_untrained(key)), pretrained.ENTRIES[key], False, None,
                         " ".join(problems) or None)

    def warm(self, keys: list[str]) -> threading.Thread:
        """Build ``keys`` in order in a daemon thread (the server answers meanwhile)."""

        def run():
            for k in keys:
                try:
                    self.get(k)
                except Exception:  # a failure here resurfaces, with its message, on first use
                    log.exception("warm-up of %s failed", k)

        t = threading.Thread(target=run, name="model-warmup", daemon=True)
        t.start()
        return t
