"""Linear separation of class means, block by block (the mechanism behind SPEC §1).

The slides' claim: a CNN classifier "moves spatial information into channels and increases linear
separation". For each block's output (the full map, complex channels as (re, im) pairs,
flattened) this module measures, over a data set:

  * the within-class variance  W = E ||x - mu_y||^2  and the between-class variance
    B = E_y ||mu_y - mu||^2 (class-frequency weighted), and their ratio B / W;
  * the nearest-class-mean accuracy: class means from one split (train), each image of another
    split (test) assigned to the closest mean in Euclidean distance.

Everything streams over batches: memory is (classes x features) per block, never (images x features).
Phase-preserving non-linearities keep wavelet coefficients' class means near zero (translation-
invariant classes have circularly symmetric coefficients); the modulus gives non-zero,
class-dependent means. Comparing ``mod`` with ``cst`` block by block shows that.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def block_features(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Each block's output as real (B, D_j) features (complex channels as (re, im) pairs)."""
    _, inter = model.forward_intermediates(x)
    out = []
    for d in inter:
        f = d["output"]
        f = torch.view_as_real(f) if f.is_complex() else f
        out.append(f.reshape(f.shape[0], -1).double())
    return out


class ClassStatistics:
    """Streaming per-class sums for one feature space of dimension ``dim``."""

    def __init__(self, num_classes: int, dim: int, device=None):
        self.sums = torch.zeros(num_classes, dim, dtype=torch.float64, device=device)
        self.counts = torch.zeros(num_classes, dtype=torch.float64, device=device)
        self.sq_norms = torch.zeros((), dtype=torch.float64, device=device)

    def update(self, f: torch.Tensor, y: torch.Tensor) -> None:
        self.sums.index_add_(0, y, f)
        self.counts += torch.bincount(y, minlength=self.counts.numel()).double()
        self.sq_norms += f.square().sum()

    def means(self) -> torch.Tensor:
        return self.sums / self.counts.clamp_min(1)[:, None]

    def variances(self) -> dict:
        n = self.counts.sum()
        mu_y = self.means()
        p = self.counts / n
        mu = (p[:, None] * mu_y).sum(0)
        within = self.sq_norms / n - (p * mu_y.square().sum(1)).sum()
        between = (p * (mu_y - mu).square().sum(1)).sum()
        return {"within": float(within), "between": float(between),
                "ratio": float(between / within.clamp_min(1e-30))}


@torch.no_grad()
def separation_by_block(model: torch.nn.Module, fit: Iterable, test: Iterable, num_classes: int,
                        device="cpu") -> list[dict]:
    """Per block: within/between-class variance on ``fit`` and nearest-class-mean accuracy on ``test``.

    ``fit`` and ``test`` yield (images, labels) batches of normalized images."""
    model.eval()
    stats: list[ClassStatistics] | None = None
    for x, y in fit:
        feats = block_features(model, x.to(device))
        if stats is None:
            stats = [ClassStatistics(num_classes, f.shape[1], device) for f in feats]
        for s, f in zip(stats, feats):
            s.update(f, y.to(device))
    if stats is None:
        raise ValueError("the 'fit' data yielded no batch")
    means = [s.means() for s in stats]
    correct = torch.zeros(len(stats), dtype=torch.float64)
    total = 0
    for x, y in test:
        y = y.to(device)
        for j, f in enumerate(block_features(model, x.to(device))):
            pred = torch.cdist(f, means[j]).argmin(1)
            correct[j] += (pred == y).sum().double().cpu()
        total += y.numel()
    if total == 0:
        raise ValueError("the 'test' data yielded no batch")
    return [{"block": j, "dim": int(s.sums.shape[1]), **s.variances(), "ncm_accuracy": float(correct[j] / total)}
            for j, s in enumerate(stats)]
