"""Checkpoints: which run ``out_dir`` holds (fresh, to resume, or finished), the configuration a
resumed run may change, and reading a checkpoint back (format 1: epoch ends; format 2: also mid-epoch).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from core.training.errors import TrainError
from core.training.recipes import DEFAULTS, make_config

# Keys a resumed run may change: where the data is and how it is read, and how often the host checks.
RESUME_FREE = ("data", "download", "workers", "device", "check_every", "checkpoint_every_s")


# Every checkpoint has these (format 1, written at epoch ends only, and format 2).
CHECKPOINT_KEYS = ("config", "epoch", "step", "model", "optimizer", "history", "elapsed_s")


CHECKPOINT_FORMAT = 2


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
