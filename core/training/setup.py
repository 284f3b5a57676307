"""Setting a run up: data, model, optimizer, DDP and torch.compile; a checkpoint restored into it.
"""

from __future__ import annotations

import json
import time

import torch
import torch.distributed._functional_collectives as fc

from core.nn.distributed import rank_world, sync_batchnorm
from core.runtime import pick_device
from core.training.checkpoint import Run
from core.training.errors import TrainError
from core.training.export import environment
from core.training.model import build, param_groups, warm_start
from core.training.rundata import Data
from core.training.state import Meter, Trainer


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
        # core.nn.distributed.all_reduce_sum then falls back to torch.distributed.nn.functional.all_reduce,
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
