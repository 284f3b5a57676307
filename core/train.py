"""Training: ``python -m core.train --recipe NAME --data ROOT``, and the Python API ``train(config, out_dir)``.

    python -m core.train --recipe cifar10_lscat_skip --data ../shared/data/cifar10-jpeg --out runs/lscat
    python -m core.train --resume --out runs/lscat                 # continue an interrupted run
    torchrun --nproc_per_node=4 -m core.train --recipe ... --out ... # DDP, statistics synchronized
    python -m core.train --list-recipes

Recipes live in ``core/recipes.py`` (one readable dict each); any key can be overridden
(``--epochs``, ``--model``, ``--nonlinearity``, ``--set key=JSON``). ``--budget-s S`` sets the number of
epochs to what fits in S seconds of wall time, measured on a few real steps first.

Python API (for experiment runners)::

    from core.recipes import make_config
    from core.train import train, load_trained
    cfg = make_config("cifar10_lscat_skip", model="lscat_cifar10", nonlinearity="cst", epochs=15,
                      seed=1, data="../shared/data/cifar10-jpeg")
    final = train(cfg, "runs/lscat_cst_s1")   # -> dict: top1, top5, loss, shift_consistency, epochs, ...
    model, cfg = load_trained("runs/lscat_cst_s1")   # the checkpoint's weights, in eval mode

``train(config, out_dir)`` trains from scratch, or resumes from ``out_dir/checkpoint.pt`` when one
exists (the configuration must then be the same, apart from the ``RESUME_FREE`` keys: ``data``,
``download``, ``workers``, ``device``, ``check_every``, ``checkpoint_every_s``), or returns the stored
final metrics if that run already finished. ``config=None`` resumes whatever ``out_dir`` holds.
``stop_after=N`` ends the call after N epochs (a later call continues). A configuration with
``init_from`` (a pretrained entry or an exported .safetensors file) starts a fresh run from those
weights instead of a random initialization: a second training cycle (the file's sha256 and the
earlier run's card figures go to final.json and the card; a resume continues from the checkpoint).
It raises ``TrainError`` (bad configuration, data or checkpoint) and ``TrainingDiverged``
(non-finite loss or weights; the last good checkpoint is kept).

``train`` reads top to bottom as the steps of a run: ``resolve_run`` (fresh, resumed or finished),
``setup`` (data, model, optimizer, compilation, the checkpoint restored), ``plan`` (the budget probe,
config.json), then ``train_epoch`` / ``end_epoch`` (which saves) for each epoch, and ``finish_run``
(final evaluation, export). Every optimizer step, the budget probe's included, is ``train_step``.

``out_dir`` holds:

    config.json     the full configuration (the recipe with its overrides; ``epochs`` as resolved)
    log.jsonl       one line per epoch: epoch, loss, train_top1, test_top1, test_top5, test_loss,
                    img_s (training images per second of training steps, SPEC §7's unit), lr, epoch_s
    checkpoint.pt   model, optimizer, history and config; written atomically after every epoch and,
                    within an epoch, at the first finiteness check after ``checkpoint_every_s``
                    seconds (default 600) since the last one, with the position in the epoch and the
                    epoch's running sums; read with torch.load(weights_only=True)
    final.json      final metrics: the last epoch's weights (never the best epoch), evaluated in
                    fp32 after rounding to the exported precision, with shift consistency

Speed: the data set sits on the device as uint8 and is augmented there (``core.data.GpuLoader``);
bf16 autocast (CUDA, and CPU), channels_last and optional torch.compile; metrics accumulate on the
device and the host synchronizes only every ``check_every`` steps (finiteness check) and at the end
of an epoch.
Determinism: model init, shuffling and augmentation are seeded by ``seed`` (augmentation per epoch),
so a run resumed from any checkpoint, mid-epoch ones included, continues exactly as an
uninterrupted one (bitwise on one process with the gpu loader; tested on CPU).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed._functional_collectives as fc
import torch.nn.functional as F

from core import data as D
from core.cli import HelpFormatter, pick_device, save_checkpoint, write_atomic
from core.distributed import all_reduce_sum, init_from_env, is_dist, rank_world, sync_batchnorm
from core.evaluate import run_evaluation
from core.provenance import commit, cpu_name
from core.recipes import DEFAULTS, RecipeError, list_recipes, make_config

ROOT = Path(__file__).resolve().parents[1]
# Keys a resumed run may change: where the data is and how it is read, and how often the host checks.
RESUME_FREE = ("data", "download", "workers", "device", "check_every", "checkpoint_every_s")
# Every checkpoint has these (format 1, written at epoch ends only, and format 2).
CHECKPOINT_KEYS = ("config", "epoch", "step", "model", "optimizer", "history", "elapsed_s")
CHECKPOINT_FORMAT = 2

__all__ = ["train", "train_step", "load_trained", "TrainError", "TrainingDiverged", "main"]


class TrainError(RuntimeError):
    """Bad configuration, data root or checkpoint (one-line message)."""


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or Inf; the last good checkpoint is kept."""


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


# ============================================================================================
# train(): the steps of a run
# ============================================================================================


def train(config: dict | None, out_dir, *, resume: bool = True, stop_after: int | None = None,
          progress: bool = True, verbose: bool = True, device=None, command: str | None = None,
          export: str | None = None, export_dir=None) -> dict:
    """Train (or resume, or return the finished result of) the run in ``out_dir``; see the module docstring.

    ``progress``: tqdm bars; ``verbose``: one printed line per epoch (and the budget probe's).
    ``export``: a ``core.pretrained.ENTRIES`` name; at the end the final weights and their model card
    are written to ``export_dir`` (default pretrained/). Returns final.json's content (with
    ``"stopped": True`` and no test metrics beyond the log's if ``stop_after`` ended the call early).
    """
    t_start = time.time()
    run = resolve_run(config, out_dir, resume)
    if run.finished is not None:
        return run.finished
    if export:
        check_export(export, run.cfg)
    tr = setup(run, device=device, progress=progress, verbose=verbose, command=command, t_start=t_start)
    plan(tr, fresh=run.state is None)
    epochs_this_call = 0
    while tr.epoch < tr.cfg["epochs"] and (stop_after is None or epochs_this_call < stop_after):
        record = train_epoch(tr)
        end_epoch(tr, record)
        epochs_this_call += 1
    if tr.epoch < tr.cfg["epochs"]:
        return {"stopped": True, "epochs_done": tr.epoch, "epochs": tr.cfg["epochs"], "history": tr.history}
    return finish_run(tr, export, export_dir)


# --------------------------------------------------------------------------------------------
# 1. Resolve: a fresh run, a run to resume, or a finished one
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """A run before anything is built: its configuration, its checkpoint (None: a fresh run) and, for a
    finished run, its stored result."""

    cfg: dict
    out: Path
    state: dict | None = None
    finished: dict | None = None


def resolve_run(config: dict | None, out_dir, resume: bool = True) -> Run:
    out = Path(out_dir)
    ckpt = out / "checkpoint.pt"
    if not ckpt.exists():
        if config is None:
            raise TrainError(f"nothing to resume: {ckpt} does not exist")
        return Run(make_config(config), out)
    if not resume:
        raise TrainError(f"{ckpt} exists: resume it (--resume) or choose another --out")
    state = load_checkpoint(ckpt)
    cfg = resumed_config(config, json.loads(state["config"]), out)
    final_path = out / "final.json"
    if state["epoch"] >= cfg["epochs"] and final_path.exists():
        return Run(cfg, out, state, finished=json.loads(final_path.read_text()))
    return Run(cfg, out, state)


def resumed_config(config: dict | None, saved: dict, out: Path) -> dict:
    """The checkpoint's configuration. A given ``config`` must equal it apart from the RESUME_FREE keys
    (and the epochs a budget resolved), which it then sets; keys newer than the checkpoint get their
    defaults."""
    if config is not None:
        cfg = make_config(config)
        budget_keys = ("epochs", "epochs_from_budget") if saved.get("epochs_from_budget") else ()
        differ = [k for k in DEFAULTS if k not in RESUME_FREE + budget_keys and cfg.get(k) != saved.get(k)]
        if differ:
            raise TrainError(f"{out} holds a run with another configuration (differs in: {', '.join(differ)}); "
                             "choose another out_dir")
        for k in RESUME_FREE:
            saved[k] = cfg[k]
    for k in DEFAULTS:  # a key newer than the checkpoint: its default is what the run did
        saved.setdefault(k, copy.deepcopy(DEFAULTS[k]))
    return saved


def load_checkpoint(path: Path) -> dict:
    """A checkpoint written by :func:`save` (format 2) or by an earlier version (format 1: epoch ends only)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key in CHECKPOINT_KEYS:
            state[key]
        json.loads(state["config"])
        if state.get("batch", 0):
            state["meter"], state["epoch_train_s"]
    except Exception as e:  # truncated zip, unpickling refused, missing keys
        raise TrainError(f"checkpoint {path} is corrupt or not ours ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200] if str(e) else ''}); delete it to start over") from None
    return state


# --------------------------------------------------------------------------------------------
# 2. Set up: data, model, optimizer, compilation; restore the checkpoint
# --------------------------------------------------------------------------------------------


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


def setup(run: Run, *, device=None, progress: bool = True, verbose: bool = True, command: str | None = None,
          t_start: float | None = None) -> Trainer:
    """Data, model, optimizer and compilation for ``run``; its checkpoint restored if it has one."""
    cfg = run.cfg
    rank, world = rank_world()
    dev = pick_device(device or cfg["device"])
    amp = cfg["bf16"] and dev.type in ("cuda", "cpu")
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    data = Data(cfg, dev, rank, world, progress and rank == 0)
    torch.manual_seed(cfg["seed"])
    model = build(cfg, data.num_classes)
    init = warm_start(model, cfg) if run.state is None and cfg["init_from"] else None
    model = model.to(dev)
    if cfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    if world > 1:
        sync_batchnorm(model)
    opt = torch.optim.SGD(param_groups(model, cfg["weight_decay"]), lr=cfg["lr"], momentum=cfg["momentum"],
                          nesterov=cfg["nesterov"], **({"fused": True} if dev.type == "cuda" else {"foreach": True}))
    fwd, evm = forwards(model, cfg, dev, world)
    meta = {"commands": [], "env": environment(dev, world), "data": data.description}
    if init is not None:
        meta["init_from"] = init
    tr = Trainer(cfg, run.out, dev, amp, rank, world, data, model, fwd, evm, opt, meta,
                 t_start if t_start is not None else time.time(), progress, verbose)
    if run.state is not None:
        restore(tr, run.state)
    if command:
        meta["commands"].append(command)
    tr.last_save = time.time()
    return tr


def forwards(model: torch.nn.Module, cfg: dict, dev: torch.device, world: int):
    """(training forward, evaluation forward): the model under DDP and torch.compile as configured."""
    fwd = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        fwd = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    if cfg["compile"] and world > 1 and not hasattr(fc, "all_reduce_backward"):
        # core.distributed.all_reduce_sum then falls back to torch.distributed.nn.functional.all_reduce,
        # which torch.compile refuses.
        raise TrainError(f"torch {torch.__version__} has no differentiable functional all-reduce for the Std layers "
                         "under torch.compile + DDP; pass --no-compile")
    if not cfg["compile"]:
        return fwd, model
    warm_caches(model, cfg, dev)
    return torch.compile(fwd), torch.compile(model)


def restore(tr: Trainer, state: dict) -> None:
    """Weights, optimizer, history and position from a checkpoint (format 1: an epoch end)."""
    tr.model.load_state_dict(state["model"])
    tr.opt.load_state_dict(state["optimizer"])
    tr.history, tr.step, tr.epoch = json.loads(state["history"]), state["step"], state["epoch"]
    tr.elapsed_before = state["elapsed_s"]
    saved_meta = json.loads(state.get("meta", "{}"))
    tr.meta["commands"] = saved_meta.get("commands", [])
    if "init_from" in saved_meta:  # what the run started from, as recorded when it started
        tr.meta["init_from"] = saved_meta["init_from"]
    tr.batch = state.get("batch", 0)
    if tr.batch:
        tr.meter = Meter.from_rows(state["meter"], tr.rank, tr.world, tr.dev)
        tr.epoch_train_s = state["epoch_train_s"]


def plan(tr: Trainer, fresh: bool) -> None:
    """The number of epochs (from the budget for a fresh run with ``budget_s``), written to config.json."""
    cfg = tr.cfg
    if fresh and cfg["budget_s"] is not None:
        cfg["epochs"] = probe_epochs(tr)
        cfg["epochs_from_budget"] = True
    if tr.main:
        tr.out.mkdir(parents=True, exist_ok=True)
        write_atomic(tr.out / "config.json", json.dumps(cfg, indent=2) + "\n")
        if fresh:  # a log from an earlier attempt without checkpoint is stale
            write_atomic(tr.out / "log.jsonl", "")


# --------------------------------------------------------------------------------------------
# 3. Train: one step, one epoch
# --------------------------------------------------------------------------------------------


def train_step(tr: Trainer, x: torch.Tensor, y: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step at learning rate ``lr`` (bf16 autocast, gradient clipping as configured);
    returns the detached loss and logits."""
    for g in tr.opt.param_groups:
        g["lr"] = lr
    with torch.autocast(tr.dev.type, dtype=torch.bfloat16, enabled=tr.amp):
        logits = tr.fwd(x)
    loss = compute_loss(logits, y, tr.cfg["label_smoothing"])
    tr.opt.zero_grad(set_to_none=True)
    loss.backward()
    if tr.cfg["grad_clip"]:
        torch.nn.utils.clip_grad_norm_(tr.model.parameters(), tr.cfg["grad_clip"])
    tr.opt.step()
    return loss.detach(), logits.detach()


def train_epoch(tr: Trainer) -> dict:
    """Train what is left of epoch ``tr.epoch`` (all of it unless a mid-epoch checkpoint left it part
    done), evaluate, and return the epoch's log record."""
    from tqdm import tqdm

    tr.data.train.set_epoch(tr.epoch, tr.batch)
    if tr.batch == 0:
        tr.meter, tr.epoch_train_s = Meter.zeros(tr.dev), 0.0
    tr.model.train()
    _sync(tr.dev)
    t0 = time.perf_counter()
    bar = tqdm(total=tr.steps_per_epoch, initial=tr.batch, desc=f"epoch {tr.epoch + 1}/{tr.cfg['epochs']}",
               unit="step", leave=False, disable=not (tr.progress and tr.main), mininterval=1.0)
    lr = tr.lr()
    try:
        for x, y in tr.data.train:
            lr = tr.lr()
            loss, logits = train_step(tr, x, y, lr)
            tr.meter.add(loss, logits, y)
            tr.step += 1
            tr.batch += 1
            bar.update()
            if tr.step % tr.cfg["check_every"] == 0:
                check(tr, t0)
                bar.set_postfix(loss=f"{tr.meter.loss_sum.item() / tr.meter.seen:.3f}", lr=f"{lr:.3g}", refresh=False)
    finally:
        bar.close()
    _sync(tr.dev)
    return epoch_record(tr, lr, tr.epoch_train_s + time.perf_counter() - t0, t0)


def check(tr: Trainer, t0: float) -> None:
    """The periodic host check: stop on a non-finite loss; write a mid-epoch checkpoint when one is due
    (``checkpoint_every_s`` since the last, and not at the last batch, whose epoch-end checkpoint follows).
    Rank 0 decides, and every rank learns it from the same all-reduce as the finiteness flag."""
    every = tr.cfg["checkpoint_every_s"]
    due = tr.main and every is not None and time.time() - tr.last_save >= every and tr.batch < tr.steps_per_epoch
    ok = tr.meter.finite & (_params_finite(tr.model) if due else True)
    ok, save_now = _agree(ok, due)
    if not ok:
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    if save_now:
        save(tr, epoch_train_s=tr.epoch_train_s + time.perf_counter() - t0)


def epoch_record(tr: Trainer, lr: float, train_s: float, t0: float) -> dict:
    """After an epoch's steps: the finiteness check of loss and weights, the evaluation, the log record."""
    m = tr.meter
    if not _all_finite(m.finite & _params_finite(tr.model)):
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    sums = all_reduce_sum(torch.stack([m.loss_sum, m.correct.float(), torch.tensor(float(m.seen), device=tr.dev)]))
    ev = eval_epoch(tr.evm, tr.data.test, tr.amp)
    if not math.isfinite(ev["test_loss"]):
        raise diverged(tr.epoch, tr.step, tr.ckpt_path)
    n_seen = sums[2].item()
    return {"epoch": tr.epoch + 1, "loss": sums[0].item() / n_seen, "train_top1": sums[1].item() / n_seen, **ev,
            "img_s": n_seen / train_s, "lr": lr, "epoch_s": tr.epoch_train_s + time.perf_counter() - t0}


@torch.no_grad()
def eval_epoch(model, loader, amp: bool) -> dict:
    """Top-1 / top-5 / loss on a padded loader (labels -1 ignored), summed over ranks."""
    model.eval()
    dev_sums = None
    for x, y in loader:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x).float()
        valid = y >= 0
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        loss = F.cross_entropy(logits, y.clamp_min(0), reduction="none")
        s = torch.stack([((top[:, 0] == y) & valid).sum().float(), ((top == y[:, None]).any(1) & valid).sum().float(),
                         (loss * valid).sum(), valid.sum().float()])
        dev_sums = s if dev_sums is None else dev_sums + s
    if is_dist():
        torch.distributed.all_reduce(dev_sums)
    c1, c5, loss, n = dev_sums.tolist()
    return {"test_top1": c1 / n, "test_top5": c5 / n, "test_loss": loss / n}


# --------------------------------------------------------------------------------------------
# 4. Save: after every epoch, and within epochs every checkpoint_every_s
# --------------------------------------------------------------------------------------------


def end_epoch(tr: Trainer, record: dict) -> None:
    """Log the finished epoch, save the checkpoint, print its line."""
    tr.history.append(record)
    tr.epoch, tr.batch = tr.epoch + 1, 0
    save(tr)
    if tr.main:
        write_atomic(tr.out / "log.jsonl", "".join(json.dumps(r) + "\n" for r in tr.history))
        if tr.verbose:
            from tqdm import tqdm

            tqdm.write(f"epoch {tr.epoch}/{tr.cfg['epochs']}  loss {record['loss']:.4f}  "
                       f"train {record['train_top1']:.4f}  test {record['test_top1']:.4f}  "
                       f"{record['img_s']:.0f} img/s  lr {record['lr']:.4g}")
    if is_dist():
        torch.distributed.barrier()


def save(tr: Trainer, epoch_train_s: float = 0.0) -> None:
    """checkpoint.pt, atomically, by rank 0 (every rank calls it: a mid-epoch one gathers the ranks' sums).

    At an epoch end (``tr.batch == 0``): model, optimizer, epoch, step, history, configuration, meta,
    wall time. Mid-epoch also: ``batch`` (the position in the epoch), ``meter`` (every rank's running
    loss / correct / seen sums) and ``epoch_train_s``, from which a resumed run continues bitwise."""
    rows = tr.meter.rows(tr.world) if tr.batch else None
    tr.last_save = time.time()
    if not tr.main:
        return
    state = {"format": CHECKPOINT_FORMAT, "config": json.dumps(tr.cfg), "epoch": tr.epoch, "step": tr.step,
             "batch": tr.batch, "model": tr.model.state_dict(), "optimizer": tr.opt.state_dict(),
             "history": json.dumps(tr.history), "meta": json.dumps(tr.meta),
             "elapsed_s": tr.elapsed_before + time.time() - tr.t_start}
    if tr.batch:
        state.update(meter=rows.cpu(), epoch_train_s=epoch_train_s)
    save_checkpoint(tr.ckpt_path, state)


def diverged(epoch: int, step: int, ckpt_path: Path) -> TrainingDiverged:
    keep = f"the last good checkpoint {ckpt_path} is kept" if ckpt_path.exists() else "no checkpoint was written yet"
    return TrainingDiverged(f"non-finite loss or weights in epoch {epoch + 1} (by step {step}); stopped, {keep}. "
                            "Lower lr, add grad_clip or check the data")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _params_finite(model: torch.nn.Module) -> torch.Tensor:
    return torch.stack([p.detach().float().abs().sum() for p in model.parameters()]).isfinite().all()


def _agree(ok: torch.Tensor, flag: bool) -> tuple[bool, bool]:
    """(all ranks ok, some rank raised ``flag``) with one host sync and one all-reduce."""
    v = torch.stack([ok.float().reshape(()), torch.tensor(0.0 if flag else 1.0, device=ok.device)])
    if is_dist():
        torch.distributed.all_reduce(v, op=torch.distributed.ReduceOp.MIN)
    a, b = v.tolist()
    return a > 0, b < 0.5


def _all_finite(flag: torch.Tensor) -> bool:
    """One host sync; under DDP every rank sees the same answer."""
    return _agree(flag, False)[0]


# --------------------------------------------------------------------------------------------
# 5. Finish: final evaluation, final.json, export
# --------------------------------------------------------------------------------------------


def finish_run(tr: Trainer, export: str | None, export_dir) -> dict:
    """Rank 0 evaluates the final weights (final.json) and exports them if asked; returns final.json."""
    final_path = tr.out / "final.json"
    final = None
    if tr.main:
        final = finish(tr.cfg, tr.model, tr.data, tr.dev, tr.history, tr.meta,
                       tr.elapsed_before + time.time() - tr.t_start, tr.out, tr.progress)
        if export:
            final["card"] = str(export_model(tr.model, tr.cfg, final, tr.meta, export, export_dir,
                                             tr.data.num_classes))
            write_atomic(final_path, json.dumps(final, indent=2) + "\n")
    if is_dist():
        torch.distributed.barrier()
    return final if final is not None else json.loads(final_path.read_text())


def finish(cfg, model, data, dev, history, meta, elapsed, out: Path, progress: bool) -> dict:
    """Final evaluation (fp32, exported precision, with shift consistency) -> final.json."""
    from core.models import count_parameters

    m = rounded_copy(model, cfg["export_half"])
    res = run_evaluation(m, data.final_batches(), device=dev, shifts=tuple(cfg["final_shifts"]), seed=0,
                         progress=progress, total=data.n_final_batches)
    img_s = [r["img_s"] for r in history]
    steady = sorted(img_s[1:] if len(img_s) > 1 else img_s)
    final = {"top1": res["top1"], "top5": res["top5"], "loss": res["loss"], "n_test": res["n"],
             "shift_consistency": res["shift_consistency"], "last_epoch": history[-1], "epochs": cfg["epochs"],
             "wall_s": round(elapsed, 1), "train_img_s_median": steady[len(steady) // 2],
             "params": count_parameters(model), "weights_precision": "fp16" if cfg["export_half"] else "fp32",
             "config": cfg, "data": meta["data"], "env": meta["env"], "commands": meta["commands"],
             "init_from": meta.get("init_from"),
             "wall_s_note": "data decoding, compilation, budget probe, all epochs with their evaluations, final "
                            "evaluation; summed over resumed calls"}
    write_atomic(out / "final.json", json.dumps(final, indent=2) + "\n")
    return final


# ============================================================================================
# The pieces: data, model, budget probe, export, environment
# ============================================================================================


class Data:
    """Train and test loaders plus what the final evaluation and the card need."""

    def __init__(self, cfg: dict, device, rank: int, world: int, progress: bool):
        if not cfg["data"]:
            raise TrainError("no data root: pass --data ROOT (or set config['data'])")
        try:
            train_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split"], cfg["download"])
            test_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["test_split"], cfg["download"])
        except D.DataError as e:
            raise TrainError(str(e)) from None
        self.num_classes = D.NUM_CLASSES.get(cfg["dataset"]) or len(train_ds.classes)
        self.description = describe_data(cfg, train_ds, test_ds)
        kw = dict(rank=rank, world_size=world, device=device, channels_last=cfg["channels_last"])
        if cfg["loader"] == "gpu":
            self._on_device(cfg, train_ds, test_ds, kw, progress)
        else:
            self._with_workers(cfg, train_ds, test_ds, kw)
        if len(self.train) == 0:
            raise TrainError(f"{self.n_train} training images is less than one batch of {cfg['batch_size']}")

    def _on_device(self, cfg: dict, train_ds, test_ds, kw: dict, progress: bool) -> None:
        """Decoded once into uint8 tensors on the device (core.data.GpuLoader)."""
        if cfg["test_size"] != cfg["store_size"]:
            raise TrainError("the gpu loader evaluates at store_size: set test_size = store_size")
        xtr, ytr = D.decode(train_ds, cfg["store_size"], cfg["limit_train"], cfg["workers"], progress)
        xte, yte = D.decode(test_ds, cfg["store_size"], cfg["limit_test"], cfg["workers"], progress)
        self.train = D.GpuLoader(xtr, ytr, cfg["batch_size"], train=True, aug=cfg["aug"], seed=cfg["seed"], **kw)
        self.test = D.GpuLoader(xte, yte, cfg["eval_batch_size"], train=False, **kw)
        self.n_train, self.n_test = len(ytr), len(yte)
        self.final_batches = lambda: D.tensor_batches(xte, yte, cfg["eval_batch_size"])
        self.n_final_batches = -(-len(yte) // cfg["eval_batch_size"])

    def _with_workers(self, cfg: dict, train_ds, test_ds, kw: dict) -> None:
        """DataLoaders with workers (core.data.FolderLoader); the final evaluation reads the whole test
        split with the same preprocessing."""
        from torch.utils.data import DataLoader

        if cfg["limit_train"] or cfg["limit_test"]:
            raise TrainError("limit_train / limit_test are implemented for the gpu loader only")
        self.train = D.FolderLoader(train_ds, cfg["batch_size"], train=True, size=cfg["aug"]["size"], aug=cfg["aug"],
                                    seed=cfg["seed"], workers=cfg["workers"], **kw)
        self.test = D.FolderLoader(test_ds, cfg["eval_batch_size"], train=False, size=cfg["test_size"],
                                   workers=cfg["workers"], crop_fraction=cfg["crop_fraction"], **kw)
        self.n_train, self.n_test = len(train_ds), len(test_ds)
        loader = DataLoader(test_ds, batch_size=cfg["eval_batch_size"], num_workers=cfg["workers"],
                            collate_fn=D.collate_uint8)  # test_ds.transform: the test loader's Preprocess
        self.final_batches = lambda: iter(loader)
        self.n_final_batches = len(loader)


def describe_data(cfg: dict, train_ds, test_ds) -> str:
    kind = type(train_ds).__name__
    counts = f"{len(train_ds):,} {cfg['train_split']} / {len(test_ds):,} {cfg['test_split']} images"
    if cfg["dataset"] == "cifar10" and kind == "ImageFolder":
        what = "CIFAR-10, JPEG copy (32x32, quality 75; an ImageFolder, e.g. shared/data/cifar10-jpeg)"
    elif cfg["dataset"] == "cifar10":
        what = "CIFAR-10 (torchvision's original binary batches)"
    elif cfg["dataset"] == "imagenette":
        what = f"Imagenette v2 at 160 px ({kind}; the shared/data copy is 160x160 JPEG quality 80)"
    else:
        what = f"image folder {cfg['data']}"
    subset = "" if not (cfg["limit_train"] or cfg["limit_test"]) else \
        f"; subsets used: {cfg['limit_train'] or 'all'} train / {cfg['limit_test'] or 'all'} test"
    return f"{what}: {counts}{subset}"


def build(cfg: dict, num_classes: int) -> torch.nn.Module:
    """The run's model (``cfg["model"]`` with ``cfg["build"]`` and ``cfg["nonlinearity"]``), freshly initialized."""
    from core.models import build_model

    kw = dict(cfg["build"])
    kw.setdefault("num_classes", num_classes)
    if kw["num_classes"] != num_classes:
        raise TrainError(f"build.num_classes={kw['num_classes']} but the data has {num_classes} classes")
    try:
        return build_model(cfg["model"], nonlinearity=cfg["nonlinearity"], **kw)
    except (TypeError, ValueError) as e:
        raise TrainError(f"cannot build {cfg['model']} with {kw} / nonlinearity {cfg['nonlinearity']}: {e}") from None


def warm_start(model: torch.nn.Module, cfg: dict) -> dict:
    """Copy the weights named by ``cfg["init_from"]`` (a pretrained entry, sha256 verified, or a
    .safetensors export with its card) into the freshly built ``model``; the architectures must be the
    same. Returns what the run started from, for final.json and the card: the file, its sha256, and
    the earlier run's recipe, epochs, wall time and top-1 as its card records them."""
    from core import pretrained

    source = cfg["init_from"]
    try:
        if source in pretrained.ENTRIES:
            start, card = pretrained.load(source)
            path = pretrained.weights_path(source)
        else:
            path = Path(source)
            start, card = pretrained.load(cfg["model"], weights=path)
    except pretrained.PretrainedError as e:
        raise TrainError(f"init_from {source!r}: {e}") from None
    if card.get("model", cfg["model"]) != cfg["model"]:
        raise TrainError(f"init_from {source!r} holds a {card['model']}, this run trains a {cfg['model']}")
    try:
        model.load_state_dict(start.state_dict(), strict=True)
    except RuntimeError as e:
        raise TrainError(f"init_from {source!r} does not fit {cfg['model']} {cfg['build']}: "
                         f"{str(e).splitlines()[0]}") from None
    path = path.resolve()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path  # no machine's paths in the repository
    digest = card.get("sha256") or pretrained.sha256(path)  # a card's sha256 was just verified by load()
    return {"source": source, "file": str(shown), "sha256": digest,
            **{k: card[k] for k in ("recipe_name", "epochs", "wall_time_s", "top1", "commit") if k in card}}


def load_trained(out_dir, device="cpu") -> tuple[torch.nn.Module, dict]:
    """The model of the run in ``out_dir`` with the weights of its checkpoint (the last saved: the
    final weights of a finished run), in eval mode, and the run's configuration."""
    state = load_checkpoint(Path(out_dir) / "checkpoint.pt")
    cfg = json.loads(state["config"])
    heads = [v for k, v in state["model"].items() if k.endswith("fc.bias")]
    num_classes = cfg["build"].get("num_classes") or (len(heads[-1]) if heads else D.NUM_CLASSES[cfg["dataset"]])
    model = build(cfg, num_classes)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), cfg


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on Conv2d, Linear and P (ComplexLinear) weights only."""
    from core.layers import ComplexLinear

    decay = set()
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, ComplexLinear)) and m.weight.requires_grad:
            decay.add(id(m.weight))
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if id(p) in decay], "weight_decay": weight_decay},
            {"params": [p for p in params if id(p) not in decay], "weight_decay": 0.0}]


@torch.no_grad()
def warm_caches(model: torch.nn.Module, cfg: dict, dev) -> None:
    """One eager forward per input size, in eval mode (running statistics untouched), so that the
    wavelet transforms' index and Fourier-filter caches are filled before torch.compile traces:
    a cache miss while tracing costs graph breaks (numpy) in the FFT path."""
    aug = cfg["aug"] or {}
    sizes = {cfg["test_size"], aug.get("size", cfg["store_size"])}
    model.eval()
    for s in sizes:
        model(torch.zeros(2, 3, s, s, device=dev))
    model.train()


def environment(device: torch.device, world: int) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores visible)"
    return {"device": name, "cpu": cpu_name(), "threads": torch.get_num_threads(), "world_size": world,
            "torch": torch.__version__, "commit": commit(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


def hardware(env: dict, cfg: dict) -> str:
    """One line for a card: where a run trained and on which step path, e.g. "AMD EPYC, CPU (2 cores
    visible), 2 torch threads, bf16 autocast, compiled"."""
    steps = ("bf16 autocast" if cfg["bf16"] else "fp32") + (", compiled" if cfg["compile"] else ", eager")
    where = env["device"] if env["device"].startswith("CPU") else f"{env['device']} x {env['world_size']}"
    threads = f", {env['threads']} torch threads" if "threads" in env else ""
    return f"{env.get('cpu', 'unknown CPU')}, {where}{threads}, {steps}"


def rounded_copy(model: torch.nn.Module, half: bool) -> torch.nn.Module:
    """A float32 copy in eval mode whose weights went through fp16 (what the exported file holds)."""
    m = copy.deepcopy(model).float().eval()
    if half:
        sd = {k: v.half().float() if v.is_floating_point() else v for k, v in m.state_dict().items()}
        m.load_state_dict(sd)
    return m.to(memory_format=torch.contiguous_format)


def check_export(name: str, cfg: dict):
    """The pretrained entry ``--export name`` writes, checked against the run's model. ``train`` calls it
    before the first step, so that a misspelt or mismatched name fails at once, not after hours."""
    from core import pretrained

    if name not in pretrained.ENTRIES:
        raise TrainError(f"--export {name!r}: not a pretrained entry ({', '.join(pretrained.ENTRIES)})")
    entry = pretrained.ENTRIES[name]
    if entry.model != cfg["model"]:
        raise TrainError(f"--export {name}: the entry is a {entry.model}, this run trains a {cfg['model']}")
    return entry


def card_record(cfg: dict, final: dict, env: dict) -> dict:
    """What every model card records of how its weights were made and how they measure: the recipe,
    the data, the final metrics (``final`` as ``finish`` writes it: top1, top5, loss, n_test,
    shift_consistency, params, data) and where it ran (``env`` from :func:`environment`)."""
    return {"recipe_name": cfg["name"], "recipe": cfg, "data": final["data"], "top1": final["top1"],
            "top5": final["top5"], "test_loss": final["loss"], "n_test": final["n_test"],
            "shift_consistency": final["shift_consistency"], "params": final["params"], "gpu": env["device"],
            "world_size": env["world_size"], "torch": env["torch"], "commit": env["commit"], "date": env["date"],
            "hardware": hardware(env, cfg)}


def export_model(model, cfg: dict, final: dict, meta: dict, name: str, directory, num_classes: int) -> Path:
    """Write the final weights and their model card (core.pretrained.save)."""
    from core import pretrained

    entry = check_export(name, cfg)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    same = shapes == {k: tuple(v.shape) for k, v in pretrained.build_untrained(name).state_dict().items()}
    build = dict(entry.build)
    if not same or cfg["nonlinearity"] is not None:  # the card must describe the weights, whatever the entry says
        build = {**cfg["build"], "num_classes": num_classes}
        if cfg["nonlinearity"] is not None:
            build["nonlinearity"] = cfg["nonlinearity"]
        print(f"note: {name} is exported with build {build}, not the entry's {entry.build}", flush=True)
    card = {"build": build, "input_size": cfg["test_size"], "description": entry.description,
            **card_record(cfg, final, meta["env"]), "command": meta["commands"],
            "metric_note": "final epoch's weights (not the best epoch), fp32 evaluation of the weights as stored",
            "last_epoch": final["last_epoch"], "epochs": final["epochs"], "wall_time_s": final["wall_s"],
            "train_img_s": final["train_img_s_median"]}
    if meta.get("init_from"):
        card["init_from"] = meta["init_from"]
    pretrained.save(rounded_copy(model, False).cpu(), name, card, half=cfg["export_half"], directory=directory)
    return Path(directory or pretrained.PRETRAINED_DIR) / f"{name}.json"


def probe_epochs(tr: Trainer) -> int:
    """Epochs that fit in cfg['budget_s'] seconds of wall time (counted from the start of train()).

    Runs a few real training steps (``train_step`` at lr 0; this also compiles) and evaluation
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
            train_step(tr, x, y, 0.0)

    tr.model.train()
    steps(warm)
    _sync(dev)
    t0 = time.perf_counter()
    steps(timed)
    _sync(dev)
    t_step = (time.perf_counter() - t0) / timed
    eval_epoch(tr.evm, data.test, tr.amp)  # compiles the eval graph
    _sync(dev)
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


# ============================================================================================
# CLI
# ============================================================================================


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.train", formatter_class=HelpFormatter,
                                description="Train a model of the registry with a named recipe (core/recipes.py); "
                                            "writes config.json, log.jsonl, checkpoint.pt and final.json to --out.")
    add = p.add_argument
    add("--recipe", help="recipe name (see --list-recipes); not needed with --resume")
    add("--data", help="data root: CIFAR-10, Imagenette or an ImageFolder with train/ and test/ or val/ "
                       "(required unless --resume)")
    add("--out", help="output folder (default: runs/<recipe>)")
    add("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    add("--epochs", type=int, help="epochs (default: the recipe's)")
    add("--budget-s", type=float, help="fit the epochs to this many seconds of wall time "
                                       "(default: the recipe's budget_s, None in every recipe)")
    add("--batch-size", type=int, help="global batch size, split over DDP ranks (default: the recipe's)")
    add("--lr", type=float, help="peak learning rate (default: the recipe's)")
    add("--model", help="a core.models registry name (default: the recipe's)")
    add("--nonlinearity", help="mod, cst, ms, mc, tanh (scattering); relu, abs, thresh, tanh, pow (ResNets) "
                               "(default: the model's)")
    add("--seed", type=int, help="seed (default: the recipe's, 0)")
    add("--compile", action=argparse.BooleanOptionalAction, default=None,
        help="torch.compile the model (default: the recipe's; on in the GPU recipes)")
    add("--device", help="auto, cpu, cuda, cuda:1, ... (default: auto: cuda if available)")
    add("--download", action="store_true", help="let torchvision download CIFAR-10 / Imagenette")
    add("--set", action="append", default=[], metavar="KEY=JSON",
        help='any other config key, e.g. --set limit_train=5000 --set \'build={"widths": [8, 16]}\'')
    add("--stop-after", type=int, help="end this call after N epochs (resume later)")
    add("--export", metavar="NAME", help="write the final weights + card as pretrained entry NAME")
    add("--export-dir", help="folder for --export (default: pretrained/)")
    add("--no-progress", action="store_true", help="no progress bars (the per-epoch lines stay)")
    add("--list-recipes", action="store_true", help="print the recipes and exit")
    add("--show", action="store_true", help="print the resolved configuration and exit")
    return p.parse_args(argv)


def config_from_args(args) -> dict | None:
    over = {}
    for key, attr in (("data", "data"), ("epochs", "epochs"), ("budget_s", "budget_s"), ("batch_size", "batch_size"),
                      ("lr", "lr"), ("model", "model"), ("nonlinearity", "nonlinearity"), ("seed", "seed"),
                      ("compile", "compile"), ("device", "device")):
        if getattr(args, attr) is not None:
            over[key] = getattr(args, attr)
    if args.download:
        over["download"] = True
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise RecipeError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            over[key] = json.loads(value)
        except json.JSONDecodeError:
            over[key] = value  # a bare string
    if args.recipe is None:
        if not args.resume:
            raise RecipeError("--recipe is required (or --resume with --out); see --list-recipes")
        if over:
            raise RecipeError("with --resume and no --recipe, the configuration comes from the checkpoint: "
                              "drop the overrides " + ", ".join(over))
        return None
    return make_config(args.recipe, **over)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_recipes:
        for name in list_recipes():
            cfg = make_config(name)
            print(f"{name:30s} {cfg['model']:22s} {cfg['dataset']:10s} {cfg['epochs']:4d} epochs, batch "
                  f"{cfg['batch_size']}, lr {cfg['lr']}")
        return 0
    started, rank = False, 0
    try:
        cfg = config_from_args(args)
        if args.show:
            print(json.dumps(cfg, indent=2))
            return 0
        out = args.out or (f"runs/{args.recipe}" if args.recipe else None)
        if out is None:
            raise RecipeError("--resume needs --out")
        if args.stop_after is not None and args.stop_after < 1:
            raise RecipeError("--stop-after must be >= 1")
        started = init_from_env()
        rank = rank_world()[0]
        args_text = shlex.join(argv if argv is not None else sys.argv[1:])
        world = int(os.environ.get("WORLD_SIZE", "1"))
        launcher = f"torchrun --nproc_per_node={world} -m core.train" if world > 1 else "python -m core.train"
        command = f"{launcher} {args_text}"
        final = train(cfg, out, resume=args.resume, stop_after=args.stop_after, progress=not args.no_progress,
                      command=command, export=args.export, export_dir=args.export_dir)
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except torch.OutOfMemoryError:
        print("error: out of GPU memory; lower --batch-size (the lr scales with it) or use a narrower model",
              file=sys.stderr)
        return 2
    except (TrainError, RecipeError, D.DataError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with --resume --out <dir> (from its last checkpoint: an epoch end, or at "
              "most checkpoint_every_s seconds back)", file=sys.stderr)
        return 130
    finally:
        if started:
            torch.distributed.destroy_process_group()
    if rank == 0 and final is not None:
        if final.get("stopped"):
            print(f"stopped after {final['epochs_done']}/{final['epochs']} epochs; continue with --resume --out {out}")
        else:
            print(f"final: top-1 {100 * final['top1']:.2f}%  top-5 {100 * final['top5']:.2f}%  "
                  f"{final['epochs']} epochs  {final['wall_s']:.0f} s  {final['train_img_s_median']:.0f} img/s")
            print(json.dumps({k: final[k] for k in ("top1", "top5", "epochs", "wall_s", "train_img_s_median",
                                                    "shift_consistency")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
