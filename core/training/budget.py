"""The budget probe: how many epochs fit in ``budget_s`` seconds, timed on a few real steps.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import torch

from core.nn.distributed import is_dist
from core.training.evaluate import eval_epoch
from core.training.state import Trainer, sync


def probe_epochs(tr: Trainer, step) -> int:
    """Epochs that fit in cfg['budget_s'] seconds of wall time (counted from the start of train()).

    Runs a few real training steps (``step``, the loop's ``train_step``, at lr 0; this also compiles) and evaluation
    batches, times them, then restores the initial model and optimizer exactly, so the run is the one
    ``--epochs N`` gives."""
    cfg, data, dev = tr.cfg, tr.data, tr.dev
    init_model = {k: v.clone() for k, v in tr.model.state_dict().items()}
    init_opt = copy.deepcopy(tr.opt.state_dict())
    data.train.set_epoch(10**6)  # a data order of its own
    it = iter(data.train)
    n_steps = len(data.train)
    warm, timed = min(3, n_steps), min(20, max(1, n_steps - 3))

    def steps(k):
        for _, (x, y) in zip(range(k), it):
            step(tr, x, y, 0.0)

    tr.model.train()
    steps(warm)
    sync(dev)
    t0 = time.perf_counter()
    steps(timed)
    sync(dev)
    t_step = (time.perf_counter() - t0) / timed
    eval_epoch(tr.evm, data.test, tr.amp)  # compiles the eval graph
    sync(dev)
    t0 = time.perf_counter()
    eval_epoch(tr.evm, data.test, tr.amp)
    t_eval = time.perf_counter() - t0
    t_ckpt = _time_checkpoint_write(tr)
    tr.model.load_state_dict(init_model)
    tr.opt.load_state_dict(init_opt)
    per_epoch = n_steps * t_step + t_eval + t_ckpt
    final_est = 10 * t_eval * (1 if not tr.amp else 2)  # fp32 evaluation, 1 + 6 shifted copies (k = 1, 2, 4)
    left = cfg["budget_s"] - (time.time() - tr.t_start) - final_est
    epochs = torch.tensor([max(1, int(left // per_epoch))], device=dev)
    if is_dist():
        torch.distributed.broadcast(epochs, 0)
    epochs = int(epochs.item())
    if tr.main and tr.verbose:
        print(f"budget {cfg['budget_s']:.0f} s: {t_step * 1000:.1f} ms/step, {n_steps} steps/epoch, eval "
              f"{t_eval:.1f} s, {left:.0f} s left -> {epochs} epochs", flush=True)
    return epochs


def _time_checkpoint_write(tr: Trainer) -> float:
    """Seconds to write a checkpoint-sized file (rank 0; 0 elsewhere)."""
    t0 = time.perf_counter()
    if tr.main:
        tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"phase_collapse_probe_{os.getpid()}.pt"
        torch.save({"model": tr.model.state_dict(), "optimizer": tr.opt.state_dict()}, tmp)
        tmp.unlink()
    return time.perf_counter() - t0
