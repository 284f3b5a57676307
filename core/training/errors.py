"""The two ways a run stops with an error: a bad configuration, data root or checkpoint
(:class:`TrainError`, one line), and divergence (:class:`TrainingDiverged`, the last good checkpoint kept).
"""

from __future__ import annotations

from pathlib import Path


class TrainError(RuntimeError):
    """Bad configuration, data root or checkpoint (one-line message)."""


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or Inf; the last good checkpoint is kept."""


def diverged(epoch: int, step: int, ckpt_path: Path) -> TrainingDiverged:
    keep = f"the last good checkpoint {ckpt_path} is kept" if ckpt_path.exists() else "no checkpoint was written yet"
    return TrainingDiverged(f"non-finite loss or weights in epoch {epoch + 1} (by step {step}); stopped, {keep}. "
                            "Lower lr, add grad_clip or check the data")
