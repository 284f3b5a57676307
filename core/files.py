"""Atomic writes: a reader sees the old file or the new one, never a partial one (run records,
checkpoints, experiment tables). Nothing here knows about models or data."""

from __future__ import annotations

import os
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout: pretrained/, docs/, runs/


def _tmp_beside(path: Path) -> Path:
    return path.with_name(path.name + f".tmp{os.getpid()}")


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file in the same folder, then ``os.replace`` it onto ``path``:
    a reader sees the old file or the new one, never a partial one."""
    path = Path(path)
    tmp = _tmp_beside(path)
    tmp.write_text(text)
    os.replace(tmp, path)


def save_checkpoint(path: str | Path, state: dict) -> None:
    """``torch.save(state)`` atomically (temporary file in the same folder, then ``os.replace``)."""
    path = Path(path)
    tmp = _tmp_beside(path)
    torch.save(state, tmp)
    os.replace(tmp, path)
