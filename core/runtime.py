"""Where the code runs: the device to use and how many CPUs this process may really use.

``os.cpu_count()`` reports the host's cores, also inside a container limited to fewer (a 2-vCPU
Hugging Face Space can report 16). ``usable_cpus`` takes the smallest of what limits the process:
its CPU affinity, the cgroup v2 quota (``cpu.max``, or cgroup v1's ``cpu.cfs_quota_us`` /
``cpu.cfs_period_us``), and ``CPU_CORES``, which Hugging Face Spaces set to the CPUs of the
Space's hardware. Every place in the project that counts cores asks this function.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quota_v2(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def _quota_v1(root: Path) -> float | None:
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpus(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup, in CPUs (fractional), or None when unlimited/unknown."""
    q = _quota_v2(root)
    return q if q is not None else _quota_v1(root)


def usable_cpus(root: Path = CGROUP_ROOT, environ: dict | None = None) -> int:
    """How many CPUs this process may use: min(affinity, cgroup quota rounded up, $CPU_CORES), at least 1."""
    environ = os.environ if environ is None else environ
    limits = [len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)]
    quota = cgroup_cpus(root)
    if quota is not None:
        limits.append(math.ceil(quota))
    stated = environ.get("CPU_CORES", "").strip()
    if stated.isdigit() and int(stated) > 0:
        limits.append(int(stated))
    return max(1, min(limits))


def pick_device(want: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None): ``cuda:LOCAL_RANK`` when CUDA is available (LOCAL_RANK from torchrun, else 0),
    otherwise the CPU; anything else is passed to ``torch.device`` ("cpu", "cuda:1", ...)."""
    if want is None or want == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    return torch.device(want)
