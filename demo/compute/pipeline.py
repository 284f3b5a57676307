"""The demo's computations: one image -> predictions and per-block intermediates (cached per image),
one translation -> the translated branch and its comparison with the original (cached per tau).

The measurements themselves are ``core.analysis`` / ``core.analysis.explain``; this module only decides what
to compute, caches it, and keeps the memory bounded (LRU caches of a few entries). Settings are checked
by demo.inputs.checks before they reach this module."""

from __future__ import annotations

import os

import torch

from core import weights as pretrained
from core.analysis.explain import DilatedBank, network_filters
from core.analysis.shifts import translate
from core.data import center_square, normalize, to_tensor
from demo.compute import gpu
from demo.compute.adapters import adapter
from demo.compute.branches import Branch, Comparison, Original, picture
from demo.compute.cache import LRU
from demo.images import ImageError, load_image
from demo.models.store import DemoModel


class Pipeline:
    def __init__(self, store, originals: int = 6, translated: int = 6):
        self.store = store
        self.originals = LRU(originals)
        self.translated = LRU(translated)
        self._banks: dict = {}
        self._digests = LRU(64)
        self.maps = LRU(8)  # demo.invariance.maps: (model, weights, boundary, image digest, grid) -> StabilityMap
        self.gifs = LRU(16)  # demo.invariance.animation: (path, caption, numbers) per image and settings

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
        return gpu.forward(self.store, dm.key, x, mode, original)

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
        orig = Original(x, picture(x), probs, blocks, notes, size=img.size)
        adapter(dm).prepare(dm, orig, self.bank)
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
