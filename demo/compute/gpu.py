"""Every pass of a model that the demo makes goes through the three functions here: :func:`forward` (one
image or its translate: the page, ``analyze``, ``shift``), :func:`stability` (the grid of translates behind
the stability map and the invariance curve) and :func:`block_frames` (the GIF's frames). Everything else
(translations of the input, comparisons, drawing, caches) runs on the CPU in the server's process.

On Hugging Face's ZeroGPU (the ``spaces`` package installed and ``SPACES_ZERO_GPU`` set by the Space)
each of them runs inside a ``spaces.GPU`` function: ZeroGPU lends a GPU for the call, in a worker process
forked from the server, for at most the duration asked (:data:`SECONDS`, and for the maps
:func:`map_seconds`, which grows with the number of translates). The arguments and the result cross
the process boundary by pickle, so they are plain data: a model key, CPU tensors, numbers; the
``ModelStore`` travels as a reference to the worker's forked copy (``ModelStore.__reduce__``); progress
callbacks stay behind. Results come back on the CPU. Locally, on CPU hardware and in the tests the same
functions are called directly, and the decorator is never applied. ``torch.compile`` is not used.

Models are placed by ``demo.models.store`` on ``core.runtime.pick_device("auto")``: CUDA when a GPU is
visible (ZeroGPU makes ``torch.cuda.is_available()`` true in the server and moves the weights to the lent
GPU in the worker), else the CPU; inputs follow the model here.
"""

from __future__ import annotations

import importlib
import os

import torch

from core.analysis.invariance import StabilityMap, stability_map
from core.analysis.phases import wavelet_padding
from demo.compute.adapters import adapter

# Seconds of GPU asked per call. ZeroGPU's docs: the lower the duration, the sooner a visitor's call
# is scheduled; a call that outlives it is warned about. A page update is milliseconds of GPU work;
# the margin covers a fresh worker's start (CUDA initialisation, the weights moved to the GPU).
SECONDS = {"forward": 20, "frames": 30}
MAP_SECONDS_BASE, MAP_SECONDS_PER_100 = 20, 5  # a 33 x 33 grid of two models: 20 + 5 * 21.78 = 129 s asked


def map_seconds(shifts: int) -> int:
    """The GPU seconds asked for a stability map over ``shifts`` translates (one model)."""
    return int(MAP_SECONDS_BASE + MAP_SECONDS_PER_100 * shifts / 100)


def zero_gpu() -> bool:
    """True on a ZeroGPU Space: the ``spaces`` package is importable and its configuration says so
    (``SPACES_ZERO_GPU``). Never true where ``spaces`` is not installed (the local requirements)."""
    if os.environ.get("SPACES_ZERO_GPU", "").lower() not in ("1", "t", "true"):
        return False
    try:
        config = importlib.import_module("spaces.config")
    except ImportError:
        return False
    return bool(config.Config.zero_gpu)


_DECORATED: dict = {}  # fn -> its spaces.GPU version (built on first use, once per function)


def on_gpu(fn, duration):
    """``fn`` itself, or on ZeroGPU its ``spaces.GPU(duration=duration)`` version (``duration``: seconds,
    or a function of fn's arguments that returns them)."""
    if not zero_gpu():
        return fn
    if fn not in _DECORATED:
        spaces = importlib.import_module("spaces")
        _DECORATED[fn] = spaces.GPU(duration=duration)(fn)
    return _DECORATED[fn]


def to_cpu(value):
    """Tensors (in dicts, lists, tuples) moved to the CPU, for the drawing and for the trip back."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value


SERVER_PID = os.getpid()


def in_worker() -> None:
    """In a process forked from the server (ZeroGPU's worker): one CPU thread. The GPU does the work, and
    a CPU thread team the server had started does not survive a fork (OpenMP then hangs; DataLoader's
    workers set one thread for the same reason)."""
    if os.getpid() != SERVER_PID and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def forward_pass(store, key: str, x: torch.Tensor, mode: str, original: bool):
    """The model ``key`` on x (1, 3, H, W): (probabilities (classes,), per-block intermediates), on the CPU."""
    in_worker()
    dm = store.get(key)
    with store.run_locks[key], torch.inference_mode():
        logits, blocks = adapter(dm).forward(dm, x.to(dm.device), mode, original)
        return logits[0].float().softmax(-1).cpu(), to_cpu(blocks)


def stability_pass(store, key: str, x: torch.Tensor, offsets: list[float], mode: str, workers: int | None,
                   progress=None) -> StabilityMap:
    in_worker()
    dm = store.get(key)
    return stability_map(dm.model, x.to(dm.device), offsets, mode, workers=workers, progress=progress,
                         lock=store.run_locks[key])


def frames_pass(store, key: str, xs: torch.Tensor, j: int, mode: str) -> torch.Tensor:
    """Block ``j``'s wavelet coefficients (F, C, L, H, W) of the translates xs (F, 3, H, W), on the CPU."""
    in_worker()
    dm = store.get(key)
    with store.run_locks[key], torch.inference_mode():
        with wavelet_padding(dm.model, "circular" if mode == "circular" else "reflect"):
            _, inter = dm.model.forward_intermediates(xs.to(dm.device), indices=[j], stop_early=True,
                                                      keys=("wavelet",))
        return inter[0]["wavelet"].cpu()


def forward(store, key: str, x: torch.Tensor, mode: str, original: bool):
    return on_gpu(forward_pass, SECONDS["forward"])(store, key, x, mode, original)


def stability(store, key: str, x: torch.Tensor, offsets: list[float], mode: str, workers: int | None = None,
              progress=None) -> StabilityMap:
    """:func:`core.analysis.invariance.stability_map` of the model ``key``. On ZeroGPU without ``progress``
    (a callback cannot cross to the worker), and with the duration :func:`map_seconds` asks."""
    if not zero_gpu():
        return stability_pass(store, key, x, offsets, mode, workers, progress)
    return on_gpu(stability_pass, duration_of_map)(store, key, x, offsets, mode, workers)


def duration_of_map(store, key, x, offsets, *rest, **kw) -> int:
    """spaces.GPU's dynamic duration for :func:`stability_pass` (it is given the call's arguments)."""
    return map_seconds(len(offsets) ** 2)


def block_frames(store, key: str, xs: torch.Tensor, j: int, mode: str) -> torch.Tensor:
    return on_gpu(frames_pass, SECONDS["frames"])(store, key, xs, j, mode)
