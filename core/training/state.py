"""A run's state while it trains (:class:`Trainer`), the epoch's running sums on the device
(:class:`Meter`), the learning-rate schedule, the loss, and the host checks (finiteness, agreement
between ranks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from core.nn.distributed import is_dist
from core.training.rundata import Data


def compute_loss(logits: torch.Tensor, y: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    return F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)


def lr_at(step: int, total: int, warmup: int, cfg: dict) -> float:
    """Linear warmup from 0 over ``warmup`` steps, then linear or cosine decay to lr * final_lr_fraction."""
    peak, low = cfg["lr"], cfg["lr"] * cfg["final_lr_fraction"]
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    if cfg["schedule"] == "cosine":
        return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * t))
    return low + (peak - low) * (1 - t)


@dataclass
class Meter:
    """The running sums of the current epoch, on the device: sum of loss x images, correct top-1
    predictions, whether every loss was finite; and the images seen (on the host)."""

    loss_sum: torch.Tensor
    correct: torch.Tensor
    finite: torch.Tensor
    seen: int = 0

    @classmethod
    def zeros(cls, dev) -> Meter:
        return cls(torch.zeros((), device=dev), torch.zeros((), device=dev),
                   torch.ones((), dtype=torch.bool, device=dev))

    @torch.no_grad()
    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.loss_sum += loss * len(y)
        self.correct += (logits.argmax(1) == y).sum()
        self.finite &= torch.isfinite(loss)
        self.seen += len(y)

    def rows(self, world: int) -> torch.Tensor:
        """(world, 3) float64 [loss_sum, correct, seen] of every rank (exact copies of the float32 sums);
        a collective under DDP."""
        row = torch.stack([self.loss_sum.double(), self.correct.double(),
                           torch.tensor(float(self.seen), dtype=torch.float64, device=self.loss_sum.device)])
        if not is_dist():
            return row[None]
        rows = [torch.empty_like(row) for _ in range(world)]
        torch.distributed.all_gather(rows, row)
        return torch.stack(rows)

    @classmethod
    def from_rows(cls, rows: torch.Tensor, rank: int, world: int, dev) -> Meter:
        """This rank's sums back from :meth:`rows`; with another number of ranks, rank 0 takes the total."""
        if len(rows) == world:
            row = rows[rank]
        else:
            row = rows.sum(0) if rank == 0 else torch.zeros(3, dtype=torch.float64)
        m = cls.zeros(dev)
        m.loss_sum.copy_(row[0].float())
        m.correct.copy_(row[1].float())
        m.seen = int(row[2])
        return m


@dataclass
class Trainer:
    """Everything a run needs once set up, and where it stands: ``epoch`` epochs done, ``batch``
    batches of the current one (non-zero only after resuming from a mid-epoch checkpoint), ``step``
    optimizer steps in all."""

    cfg: dict
    out: Path
    dev: torch.device
    amp: bool
    rank: int
    world: int
    data: Data
    model: torch.nn.Module
    fwd: torch.nn.Module  # the training forward: DDP and / or compiled
    evm: torch.nn.Module  # the evaluation forward: compiled or the model
    opt: torch.optim.Optimizer
    meta: dict
    t_start: float
    progress: bool = True
    verbose: bool = True
    history: list = field(default_factory=list)
    epoch: int = 0
    batch: int = 0
    step: int = 0
    meter: Meter | None = None
    epoch_train_s: float = 0.0  # training-step seconds of the current epoch spent in earlier calls
    elapsed_before: float = 0.0  # wall time of earlier calls
    last_save: float = 0.0  # time.time() of the last checkpoint, or of the start of this call

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def ckpt_path(self) -> Path:
        return self.out / "checkpoint.pt"

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data.train)

    def lr(self) -> float:
        """The learning rate of step ``self.step``."""
        spe = self.steps_per_epoch
        return lr_at(self.step, self.cfg["epochs"] * spe, round(self.cfg["warmup_epochs"] * spe), self.cfg)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def params_finite(model: torch.nn.Module) -> torch.Tensor:
    return torch.stack([p.detach().float().abs().sum() for p in model.parameters()]).isfinite().all()


def agree(ok: torch.Tensor, flag: bool) -> tuple[bool, bool]:
    """(all ranks ok, some rank raised ``flag``) with one host sync and one all-reduce."""
    v = torch.stack([ok.float().reshape(()), torch.tensor(0.0 if flag else 1.0, device=ok.device)])
    if is_dist():
        torch.distributed.all_reduce(v, op=torch.distributed.ReduceOp.MIN)
    a, b = v.tolist()
    return a > 0, b < 0.5


def all_finite(flag: torch.Tensor) -> bool:
    """One host sync; under DDP every rank sees the same answer."""
    return agree(flag, False)[0]
