"""The demo's computations: one image -> predictions and per-block intermediates (cached per image),
one translation -> the translated branch and its comparison with the original (cached per tau).

The measurements themselves are ``core.analysis`` / ``core.explain``; this module only decides what
to compute, caches it, and keeps the memory bounded (LRU caches of a few entries)."""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from core import pretrained
from core.analysis import block_spectra, compare_blocks, translate, wavelet_padding
from core.data import center_square, denormalize, normalize, to_tensor
from core.explain import DilatedBank, channel_ranking, feature_change, network_filters
from demo.images import ImageError, load_image
from demo.models import DemoModel

MODES = ("circular", "zero")
MAX_SHIFT = 32.0  # pixels, either axis


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

    def __len__(self):
        return len(self._d)


@dataclass
class Branch:
    """What one forward pass leaves: the input (normalized, and as a picture), class probabilities,
    and per block the wavelet coefficients x * psi_theta (C, L, H, W) or the real feature maps."""

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
    renders: dict = field(default_factory=dict)  # pictures of the original, per display choice

    def ranking(self, j: int, k: int) -> torch.Tensor:
        key = (j, k)
        if key not in self._rankings:
            b = self.blocks[j]
            self._rankings[key] = (channel_ranking(b["wavelet"], k) if "wavelet" in b
                                   else b["output"].square().sum(dim=(-2, -1)).argsort(descending=True))
        return self._rankings[key]


@dataclass
class Comparison:
    branch: Branch
    report: list[dict]  # core.analysis.compare_blocks, or {"block", "feature_change"} for a ResNet
    single: dict = field(default_factory=dict)  # orientation k -> DilatedBank.errors for it (the theory)


def picture(x: torch.Tensor) -> np.ndarray:
    """Normalized (1, 3, S, S) -> (S, S, 3) picture in [0, 1] (what the network sees)."""
    return denormalize(x[0].float()).clamp(0, 1).permute(1, 2, 0).numpy()


ORIGINAL_KEYS = ("wavelet", "modulus", "input")  # the translated branch needs the wavelets only


def _forward(dm: DemoModel, x: torch.Tensor, mode: str, lock: threading.Lock,
             keys=ORIGINAL_KEYS) -> tuple[torch.Tensor, list[dict]]:
    """Logits and the per-block intermediates ``keys``, the wavelets padded as the boundary mode
    says: on the torus for circular shifts (exact equivariance), reflect (the reference) otherwise."""
    with lock, torch.inference_mode():
        if dm.is_scattering:
            with wavelet_padding(dm.model, "circular" if mode == "circular" else "reflect"):
                logits, inter = dm.model.forward_intermediates(x, keys=keys)
            blocks = [{k: (v[0] if k in ("wavelet", "modulus") else v) for k, v in d.items()} for d in inter]
        else:
            logits, inter = dm.model.forward_intermediates(x)
            blocks = [{"output": d["output"][0]} for d in inter]
    return logits[0].float().softmax(-1), blocks


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
        hit = self._digests.get(stamp)
        return hit if hit is not None else self._digests.put(stamp, pretrained.sha256(path))

    def bank(self, dm: DemoModel) -> DilatedBank:
        key = (dm.model.config, dm.size)
        if key not in self._banks:
            self._banks[key] = DilatedBank(network_filters(dm.model.config), dm.size, dm.size)
        return self._banks[key]

    def original(self, path: str, model_key: str, mode: str) -> tuple[DemoModel, tuple, Original, bool]:
        """The model, the cache key, the original branch, and whether it was computed now (not cached)."""
        if mode not in MODES:
            raise ValueError(f"boundary mode must be one of {MODES}, got {mode!r}")
        dm = self.store.get(model_key)
        key = (model_key, mode, self.digest(path))
        hit = self.originals.get(key)
        if hit is not None:
            return dm, key, hit, False
        img, notes = load_image(path, target=dm.size)
        x = normalize(to_tensor(center_square(img, dm.size)))[None]
        probs, blocks = _forward(dm, x, mode, self.store.run_locks[model_key])
        orig = Original(x, picture(x), probs, blocks, notes)
        if dm.is_scattering:
            orig.spectra = block_spectra([{"info": b["info"], "input": b["input"]} for b in blocks])
            for b in blocks:
                b.pop("input")  # only needed for the spectra
            orig.bank = self.bank(dm)
            gray = x[0].double().mean(0)
            orig.bank_ref = orig.bank.reference(gray)
        return dm, key, self.originals.put(key, orig), True

    def shifted(self, dm: DemoModel, key: tuple, orig: Original, tau: tuple[float, float], mode: str) -> Comparison:
        for t in tau:
            if not math.isfinite(t) or abs(t) > MAX_SHIFT:
                raise ValueError(f"shifts must be finite and at most {MAX_SHIFT:g} pixels, got {tau}")
        tkey = (key, float(tau[0]), float(tau[1]))
        hit = self.translated.get(tkey)
        if hit is not None:
            return hit
        xs = translate(orig.x, tau, mode)
        probs, blocks = _forward(dm, xs, mode, self.store.run_locks[dm.key], keys=("wavelet",))
        branch = Branch(xs, picture(xs), probs, blocks)
        if dm.is_scattering:
            report = compare_blocks([{"wavelet": b["wavelet"][None], "modulus": b["modulus"][None], "info": b["info"]}
                                     for b in orig.blocks],
                                    [{"wavelet": b["wavelet"][None]} for b in blocks], tau, spectra=orig.spectra)
        else:
            changes = feature_change([{"output": b["output"][None]} for b in orig.blocks],
                                     [{"output": b["output"][None]} for b in blocks])
            report = [{"block": j, "feature_change": c} for j, c in enumerate(changes)]
        return self.translated.put(tkey, Comparison(branch, report))

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
