"""Pieces shared by the command-line modules (``core.train``, ``core.evaluate``, ``core.experiments``):
``--help`` formatting, the device choice, and atomic writes.

Nothing here knows about models or data, so every other module can import it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with defaults, shown only where there is one and the help text does not already say it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == [] or \
                "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def pick_device(want: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None): ``cuda:LOCAL_RANK`` when CUDA is available (LOCAL_RANK from torchrun, else 0),
    otherwise the CPU; anything else is passed to ``torch.device`` ("cpu", "cuda:1", ...)."""
    if want is None or want == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    return torch.device(want)


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
