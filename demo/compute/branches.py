"""What one forward pass leaves (a :class:`Branch`; the original image's, with what is computed once per
image, an :class:`Original`), a translation's comparison with it, and one block's map as displayed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from core.analysis.explain import DilatedBank, channel_ranking
from core.data import denormalize
from demo.compute.cache import LRU


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
    size: tuple[int, int] = (0, 0)  # (width, height) of the image as decoded, before the model's resizing
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


def top_k(probs: torch.Tensor, classes: tuple[str, ...], k: int = 5) -> list[tuple[str, float]]:
    p, i = probs.topk(min(k, len(classes)))
    return [(classes[int(j)], float(q)) for q, j in zip(p, i)]
