"""The demo's computations: one image -> predictions and per-block intermediates (cached per image),
one translation -> the translated branch and its comparison with the original (cached per tau).

The measurements themselves are ``core.analysis`` / ``core.explain``; this module only decides what
to compute, caches it, and keeps the memory bounded (LRU caches of a few entries). What differs
between a learned scattering network (complex wavelet coefficients per block) and a network of real
feature maps (the ResNet-18 baselines) lives in two small adapters, :class:`Scattering` and
:class:`Features`, each with ``forward`` / ``prepare`` / ``compare`` / ``select``; the rest of the
demo asks ``adapter(dm)`` instead of testing the model's type. Settings are checked by
``demo.inputs.parse`` before they reach this module."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from core import weights as pretrained
from core.analysis.explain import DilatedBank, channel_ranking, feature_change, network_filters
from core.analysis.phases import block_spectra, compare_blocks, wavelet_padding
from core.analysis.shifts import translate
from core.data import center_square, denormalize, normalize, to_tensor
from demo.images import ImageError, load_image
from demo.inputs import MAX_SHIFT, MODES  # noqa: F401  (re-exported: demo.invariance imports MODES here)
from demo.models import DemoModel


class LRU:
    """A small thread-safe LRU cache."""

    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value):
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value

    def get_or_make(self, key, make):
        hit = self.get(key)
        return hit if hit is not None else self.put(key, make())

    def __len__(self):
        return len(self._d)


@dataclass
class Branch:
    """What one forward pass leaves: the input (normalized, and as a picture), class probabilities,
    and per block what ``forward_intermediates`` returned for this batch of one image, as it
    returned it: the wavelet coefficients x * psi_theta (1, C, L, H, W) or the real feature maps
    (1, C, H, W)."""

    x: torch.Tensor
    picture: np.ndarray  # (S, S, 3) in [0, 1]
    probs: torch.Tensor
    blocks: list[dict]


@dataclass
class Original(Branch):
    notes: list[str] = field(default_factory=list)
    spectra: list[dict] | None = None  # core.analysis.block_spectra: sigma_rms and centroid per block
    bank: DilatedBank | None = None
    bank_ref: dict | None = None  # single dilated wavelets on the gray image (DilatedBank.reference)
    _rankings: dict = field(default_factory=dict)
    renders: LRU = field(default_factory=lambda: LRU(16))  # pictures of the original, per display choice

    def ranking(self, j: int, k: int) -> torch.Tensor:
        key = (j, k)
        if key not in self._rankings:
            b = self.blocks[j]
            self._rankings[key] = (channel_ranking(b["wavelet"][0], k) if "wavelet" in b
                                   else b["output"][0].square().sum(dim=(-2, -1)).argsort(descending=True))
        return self._rankings[key]

    def rendered(self, key, make):
        """A picture of this image for one display choice, made once (bounded: a few choices per image)."""
        return self.renders.get_or_make(key, make)


@dataclass
class Comparison:
    branch: Branch
    report: list[dict]  # core.analysis.compare_blocks, or {"block", "feature_change"} for a ResNet
    single: dict = field(default_factory=dict)  # orientation k -> DilatedBank.errors for it (the theory)


@dataclass(frozen=True)
class Shown:
    """One block's map as displayed: orientation k (-1: none), channel (of ``channels``), the original's map."""

    k: int
    channel: int
    channels: int
    original: np.ndarray  # complex (H, W) for a scattering block, real for a feature map


def picture(x: torch.Tensor) -> np.ndarray:
    """Normalized (1, 3, S, S) -> (S, S, 3) picture in [0, 1] (what the network sees)."""
    return denormalize(x[0].float()).clamp(0, 1).permute(1, 2, 0).numpy()


class Scattering:
    """A learned scattering network: per block the complex coefficients x * psi_theta (1, C, L, H, W)."""

    complex = True
    ORIGINAL_KEYS = ("wavelet", "modulus", "input")  # "input" only for the spectra, then dropped

    def forward(self, dm: DemoModel, x: torch.Tensor, mode: str, original: bool):
        # the wavelets padded as the boundary mode says: on the torus for circular shifts (exact
        # equivariance), reflect (the reference) otherwise
        with wavelet_padding(dm.model, "circular" if mode == "circular" else "reflect"):
            return dm.model.forward_intermediates(x, keys=self.ORIGINAL_KEYS if original else ("wavelet",))

    def prepare(self, pipeline: Pipeline, dm: DemoModel, orig: Original) -> None:
        orig.spectra = block_spectra(orig.blocks)  # reads each block's "input" (batched)
        for b in orig.blocks:
            b.pop("input")
        orig.bank = pipeline.bank(dm)
        orig.bank_ref = orig.bank.reference(orig.x[0].double().mean(0))

    def compare(self, orig: Original, blocks: list[dict], tau) -> list[dict]:
        return compare_blocks(orig.blocks, blocks, tau, spectra=orig.spectra)

    def select(self, orig: Original, j: int, k: int, rank: int) -> Shown:
        C, L = orig.blocks[j]["wavelet"].shape[1:3]
        kk = min(k, L - 1)
        ch = int(orig.ranking(j, kk)[min(rank, C - 1)])
        a = orig.blocks[j]["wavelet"][0, ch, kk].numpy()
        return Shown(kk, ch, C, a)

    def map(self, block: dict, s: Shown) -> np.ndarray:
        return block["wavelet"][0, s.channel, s.k].numpy()


class Features:
    """A network of real feature maps (the ResNet-18 baselines): per stage its output (1, C, H, W)."""

    complex = False

    def forward(self, dm: DemoModel, x: torch.Tensor, mode: str, original: bool):
        return dm.model.forward_intermediates(x)

    def prepare(self, pipeline: Pipeline, dm: DemoModel, orig: Original) -> None:
        pass

    def compare(self, orig: Original, blocks: list[dict], tau) -> list[dict]:
        changes = feature_change(orig.blocks, blocks)
        return [{"block": j, "feature_change": c} for j, c in enumerate(changes)]

    def select(self, orig: Original, j: int, k: int, rank: int) -> Shown:
        C = orig.blocks[j]["output"].shape[1]
        ch = int(orig.ranking(j, 0)[min(rank, C - 1)])
        a = orig.blocks[j]["output"][0, ch].numpy()
        return Shown(-1, ch, C, a)

    def map(self, block: dict, s: Shown) -> np.ndarray:
        return block["output"][0, s.channel].numpy()


SCATTERING, FEATURES = Scattering(), Features()


def adapter(dm: DemoModel) -> Scattering | Features:
    return SCATTERING if hasattr(dm.model, "block_info") else FEATURES


class Pipeline:
    def __init__(self, store, originals: int = 6, translated: int = 6):
        self.store = store
        self.originals = LRU(originals)
        self.translated = LRU(translated)
        self._banks: dict = {}
        self._digests = LRU(64)

    def digest(self, path: str) -> str:
        """The file's sha256 (the cache key of its original branch), hashed once per file version:
        a slider move on a 10 MB upload should not re-read it."""
        try:
            st = os.stat(path)
        except OSError:
            raise ImageError("This image is no longer on the server (uploads are deleted after an hour): "
                             "upload it again.") from None
        stamp = (path, st.st_size, st.st_mtime_ns)
        return self._digests.get_or_make(stamp, lambda: pretrained.sha256(path))

    def bank(self, dm: DemoModel) -> DilatedBank:
        key = (dm.model.config, dm.size)
        if key not in self._banks:
            self._banks[key] = DilatedBank(network_filters(dm.model.config), dm.size, dm.size)
        return self._banks[key]

    def _forward(self, dm: DemoModel, x: torch.Tensor, mode: str, original: bool):
        with self.store.run_locks[dm.key], torch.inference_mode():
            logits, blocks = adapter(dm).forward(dm, x, mode, original)
        return logits[0].float().softmax(-1), blocks

    def original(self, path: str, model_key: str, mode: str) -> tuple[DemoModel, tuple, Original, bool]:
        """The model, the cache key, the original branch, and whether it was computed now (not cached)."""
        dm = self.store.get(model_key)
        key = (model_key, mode, self.digest(path))
        hit = self.originals.get(key)
        if hit is not None:
            return dm, key, hit, False
        img, notes = load_image(path, target=dm.size)
        x = normalize(to_tensor(center_square(img, dm.size)))[None]
        probs, blocks = self._forward(dm, x, mode, original=True)
        orig = Original(x, picture(x), probs, blocks, notes)
        adapter(dm).prepare(self, dm, orig)
        return dm, key, self.originals.put(key, orig), True

    def shifted(self, dm: DemoModel, key: tuple, orig: Original, tau: tuple[float, float], mode: str) -> Comparison:
        """The translated branch and its comparison with the original (tau checked by demo.inputs.parse)."""
        def make():
            xs = translate(orig.x, tau, mode)
            probs, blocks = self._forward(dm, xs, mode, original=False)
            branch = Branch(xs, picture(xs), probs, blocks)
            return Comparison(branch, adapter(dm).compare(orig, blocks, tau))

        return self.translated.get_or_make((key, float(tau[0]), float(tau[1])), make)

    def single(self, orig: Original, comp: Comparison, tau: tuple[float, float], k: int) -> list[dict] | None:
        """The single-wavelet errors (each block's wavelet of orientation k, dilated to input pixels,
        on the image), computed for the displayed orientation only and cached with the comparison."""
        if orig.bank is None:
            return None
        if k not in comp.single:
            rows = orig.bank.rows(k)
            zs = orig.bank.coefficients(comp.branch.x[0].double().mean(0), rows)
            comp.single[k] = orig.bank.errors(orig.bank_ref, zs, tau, rows)
        return comp.single[k]


def top_k(probs: torch.Tensor, classes: tuple[str, ...], k: int = 5) -> list[tuple[str, float]]:
    p, i = probs.topk(min(k, len(classes)))
    return [(classes[int(j)], float(q)) for q, j in zip(p, i)]
