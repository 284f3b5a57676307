"""What differs between a learned scattering network (complex wavelet coefficients per block) and a
network of real feature maps (the ResNet-18 baselines), in two small adapters, :class:`Scattering` and
:class:`Features`, each with ``forward`` / ``prepare`` / ``compare`` / ``select`` / ``map``; the rest of
the demo asks ``adapter(dm)`` instead of testing the model's type."""

from __future__ import annotations

import numpy as np
import torch

from core.analysis.explain import feature_change
from core.analysis.phases import block_spectra, compare_blocks, wavelet_padding
from demo.compute.branches import Original, Shown
from demo.models.store import DemoModel


class Scattering:
    """A learned scattering network: per block the complex coefficients x * psi_theta (1, C, L, H, W)."""

    complex = True
    ORIGINAL_KEYS = ("wavelet", "modulus", "input")  # "input" only for the spectra, then dropped

    def forward(self, dm: DemoModel, x: torch.Tensor, mode: str, original: bool):
        # the wavelets padded as the boundary mode says: on the torus for circular shifts (exact
        # equivariance), reflect (the reference) otherwise
        with wavelet_padding(dm.model, "circular" if mode == "circular" else "reflect"):
            return dm.model.forward_intermediates(x, keys=self.ORIGINAL_KEYS if original else ("wavelet",))

    def prepare(self, dm: DemoModel, orig: Original, bank) -> None:
        orig.spectra = block_spectra(orig.blocks)  # reads each block's "input" (batched)
        for b in orig.blocks:
            b.pop("input")
        orig.bank = bank(dm)
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

    def prepare(self, dm: DemoModel, orig: Original, bank) -> None:
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
    return SCATTERING if dm.is_scattering else FEATURES
