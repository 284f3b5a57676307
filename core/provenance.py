"""Where and when a number was measured: the one place that says it, for training runs and benchmarks.

Every figure the project quotes comes with the machine (CPU model, cores, torch threads), the torch
version, the date (UTC), the commit and the machine's load. Training records it in each run's
final.json and card (``core.training.export.environment``); every script under bench/ starts its JSON lines
with :func:`measured_on` and writes them with :func:`append_jsonl`.

    from core.provenance import measured_on, append_jsonl
    row = {"what": "my benchmark", **measured_on(paths=("core", "bench")), "img_per_s": 123.4}
    append_jsonl("docs/bench/mine.jsonl", row)
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

import torch

from core.runtime import usable_cpus

ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    """The host CPU's model name (/proc/cpuinfo), else platform's: the machines lent to a session differ."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def commit(paths: tuple[str, ...] = ("core",), short: bool = False) -> str:
    """The checkout's commit, + "-dirty" if tracked files under ``paths`` differ from it (what the
    number depends on: core/ for a model, demo/ and app.py too for the app); outside a git checkout
    $PHASE_COLLAPSE_COMMIT (set by the GPU scripts, which copy the tree without .git), else "unknown"."""
    try:
        head = subprocess.run(["git", "rev-parse", *(["--short"] if short else []), "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain", "-uno", "--", *paths], cwd=ROOT,
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("PHASE_COLLAPSE_COMMIT", "unknown")


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the OS has none)."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def measured_on(paths: tuple[str, ...] = ("core",)) -> dict:
    """The header of a measurement: date (UTC), CPU model, cores, GPU (or None), torch threads,
    torch version, commit (dirty over ``paths``) and the load average when it starts."""
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"date": now_utc(), "cpu": cpu_name(), "cores": usable_cpus(), "gpu": gpu,
            "threads": torch.get_num_threads(), "torch": torch.__version__, "commit": commit(paths, short=True),
            "load_before": load_average()}


def append_jsonl(path: str | Path | None, row: dict) -> None:
    """Append ``row`` as one JSON line to ``path`` (nothing when path is None), creating its folder."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
