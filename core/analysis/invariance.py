"""Translation invariance of a whole network: how stable its prediction is over a grid of small
(sub-pixel) shifts, and at which depth the invariance is built. Computed here, tested in
tests/test_invariance.py; the demo only draws it (demo/invariance/).

* ``core.analysis.shifts.shift_offsets`` / ``shift_grid``: the grid, e.g. 17 x 17 shifts (dy, dx) with
  both coordinates in {-2, -1.75, ..., 2} input pixels (step 0.25 px: sub-pixel shifts).
* ``core.analysis.shifts.translate_batch``: the image translated by every shift of the grid at once,
  exactly as ``translate`` translates it by one ("circular": Fourier shift on the torus;
  "zero": zero-padded canvas).
* :func:`stability_map`: one batched pass of the network over the translates (in chunks of 4 to 64
  images, :func:`chunk_size`, under ``torch.inference_mode``). Per shift: the probability of the
  unshifted image's top class, and the top class itself. Per shift and per block: for a learned
  scattering network the relative modulus error || |(tau.x)*psi| - |x*psi| || / || x*psi || over
  all channels and orientations (as ``core.analysis.compare_blocks``' ``modulus_error_all``); for
  a network without wavelets (the ResNet-18 baseline) the relative change of each stage's output,
  ``core.analysis.explain.feature_change``'s || f(tau.x) - f(x) || / || f(x) ||, without shifting back.

Conventions follow ``core.analysis``: tau = (dy, dx) = (rows, cols) in input pixels, dy > 0 moves
the image down, dx > 0 to the right. The unshifted image is the reference: ``x`` itself, not its
Fourier shift by 0 (which equals it up to rounding).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch

from core.analysis.phases import wavelet_padding
from core.analysis.shifts import check_mode, shift_grid, shift_offsets, translate_batch
from core.models.registry import kind as model_kind
from core.runtime import usable_cpus

CHUNK_PIXELS = 2**17  # images per forward pass: about this many input pixels (4 to 64 images)


# --------------------------------------------------------------------------------------------
# One pass of the network over the translates
# --------------------------------------------------------------------------------------------


def _moduli_from(model, inter: list[dict]) -> list[torch.Tensor]:
    """Per block, |x * psi_theta| (B, C, L, H, W) real: rho itself for the modulus non-linearity
    (its output is exactly the modulus; LScat+skip's rho also holds |x * phi| first), else |wavelet|."""
    out = []
    for blk, d in zip(model.blocks, inter):
        if "rho" in d:
            r = d["rho"]
            out.append(r[:, :, 1:] if blk.skip else r)
        else:
            out.append(d["modulus"])
    return out


def _padding(model, kind: str, mode: str):
    """The wavelets' padding for a pass in ``mode``, as demo/pipeline.py runs it: on the torus for
    circular shifts, reflect (the reference) for zero-padded ones; nothing to switch without wavelets."""
    if kind != "scattering":
        return nullcontext()
    return wavelet_padding(model, "circular" if mode == "circular" else "reflect")


def _forward(model, kind: str, x: torch.Tensor, blocks: bool) -> tuple[torch.Tensor, list | None]:
    """Logits (B, classes) and, with ``blocks``, the per-block maps the curve compares (the
    wavelets' padding set by the caller, :func:`_padding`)."""
    if kind == "scattering":
        if not blocks:
            return model(x), None
        mod = all(getattr(b, "rho", None) is not None and b.rho.collapses_phase for b in model.blocks)
        logits, inter = model.forward_intermediates(x, keys=("rho",) if mod else ("modulus",))
        return logits, _moduli_from(model, inter)
    if kind == "features" and blocks:
        logits, inter = model.forward_intermediates(x)
        return logits, [d["output"] for d in inter]
    return model(x), None


def _relative_errors(maps: torch.Tensor, ref: torch.Tensor, ref_norm2: torch.Tensor) -> torch.Tensor:
    """Per image of ``maps`` (B, ...), ||maps[b] - ref|| / ||ref||, in float64: each map's last two
    axes summed in its own precision, the rest in float64 (as compare_blocks sums)."""
    d = (maps - ref[None]).square()
    num = (d.sum((-2, -1)) if d.dim() >= 3 else d).double().reshape(len(d), -1).sum(1)
    return (num / ref_norm2.clamp_min(1e-30)).sqrt()


def _norm2(ref: torch.Tensor) -> torch.Tensor:
    r = ref.square()
    return (r.sum((-2, -1)) if r.dim() >= 2 else r).double().sum()


@dataclass
class StabilityMap:
    """The prediction over a grid of shifts, and where the invariance is built.

    ``probs[i, j]`` is the probability of ``reference_class`` (the unshifted image's top class) for
    the shift (dy, dx) = (offsets[i], offsets[j]); ``top[i, j]`` the top class there.
    ``block_errors[i, j, b]`` is block b's relative error for that shift (``measure``: "modulus"
    for a scattering network, "feature" for a stage output, None when not computed)."""

    offsets: list[float]
    mode: str
    reference_class: int
    reference_prob: float
    probs: np.ndarray  # (n, n) float64
    top: np.ndarray  # (n, n) int64
    top_prob: np.ndarray  # (n, n) probability of the top class there
    measure: str | None = None
    block_errors: np.ndarray | None = None  # (n, n, blocks)
    block_scales: list[int] = field(default_factory=list)  # input pixels per block pixel (output grid)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.offsets)

    @property
    def step(self) -> float:
        return self.offsets[1] - self.offsets[0]

    @property
    def extent(self) -> float:
        return self.offsets[-1]

    @property
    def kept(self) -> np.ndarray:
        """(n, n) bool: the shift keeps the unshifted image's top class."""
        return self.top == self.reference_class

    @property
    def stable_fraction(self) -> float:
        return float(self.kept.mean())

    @property
    def prob_range(self) -> tuple[float, float]:
        return float(self.probs.min()), float(self.probs.max())

    def changes(self) -> list[dict]:
        """The shifts where the top class changes: dy, dx (px), the new top class and its probability."""
        i, j = np.nonzero(~self.kept)
        return [{"dy": self.offsets[a], "dx": self.offsets[b], "class": int(self.top[a, b]),
                 "prob": float(self.top_prob[a, b])} for a, b in zip(i, j)]

    @property
    def curve(self) -> list[float] | None:
        """Per block, the mean error over the grid's non-zero shifts."""
        if self.block_errors is None:
            return None
        o = np.asarray(self.offsets)
        nonzero = (o[:, None] != 0) | (o[None, :] != 0)
        return self.block_errors[nonzero].mean(0).tolist()

    def to_dict(self, classes: tuple[str, ...] | None = None) -> dict:
        """JSON-ready summary (what the API returns beside the figures)."""
        name = (lambda c: classes[c]) if classes else (lambda c: c)
        lo, hi = self.prob_range
        return {"grid": {"offsets": self.offsets, "steps": self.steps, "step": self.step, "extent": self.extent,
                         "axes": "probs[i][j]: dy = offsets[i] (down), dx = offsets[j] (right), input px"},
                "boundary": self.mode, "reference_class": name(self.reference_class),
                "reference_prob": self.reference_prob, "stable_fraction": self.stable_fraction,
                "kept": int(self.kept.sum()), "shifts": int(self.kept.size), "prob_min": lo, "prob_max": hi,
                "probs": np.round(self.probs, 5).tolist(),
                "changes": [{**c, "class": name(c["class"])} for c in self.changes()],
                "measure": self.measure, "curve": self.curve, "block_scales": self.block_scales,
                "seconds": round(self.seconds, 3)}


def block_scales(model: torch.nn.Module) -> list[int]:
    """Input pixels per pixel of each scattering block's compared map (its wavelet output grid);
    [] for other networks (:func:`stability_map` reads theirs off the stage outputs)."""
    if model_kind(model) == "scattering":
        return [info.scale * info.filters.stride for info in model.block_info]
    return []


def chunk_size(h: int, w: int) -> int:
    """Images per forward pass for h x w inputs: about CHUNK_PIXELS input pixels, 4 to 64 images.
    Small chunks keep the first blocks' coefficients (for 112 px: 9 filters x 3 channels of 112^2
    complex numbers per image before subsampling) in cache: on a 2-core CPU, 290 images at 112 px
    took 2.6 s of CPU in chunks of 8-12 against 4.5 s in chunks of 64 (32 px: the same 0.6 s for
    any chunk of 8 to 64)."""
    return max(4, min(64, CHUNK_PIXELS // max(1, h * w)))


def default_workers(threads: int | None = None, cores: int | None = None) -> int:
    """Chunks computed at once by :func:`stability_map`: the cores not used by torch's own threads,
    shared out (``cores`` // ``threads``, 1 to 4): 2 on a 2-core machine whose app runs one torch
    thread (demo.compute.lanes.default_threads), 1 where torch already has every core."""
    threads = threads or torch.get_num_threads()
    if cores is None:
        cores = usable_cpus()
    return max(1, min(4, cores // max(1, threads)))


@dataclass
class _Reference:
    """The unshifted image's prediction and per-block maps, which every translate is compared with."""

    cls: int
    prob: float
    maps: list | None
    norm2: list | None


def _chunk(model, kind: str, x: torch.Tensor, taus: torch.Tensor, mode: str, blocks: bool,
           ref: _Reference | None) -> tuple[_Reference, tuple]:
    """One forward pass over the translates of x by ``taus`` (with x itself first when ``ref`` is
    None: the pass that makes the reference). Returns the reference and, per translate, the
    probability of the reference class, the top class, its probability and the block errors."""
    with torch.inference_mode():  # thread-local: entered in the thread that computes
        batch = translate_batch(x, taus, mode)
        if ref is None:
            batch = torch.cat([x.to(batch.dtype), batch])
        logits, maps = _forward(model, kind, batch, blocks)
        p = logits.float().softmax(-1)
        if ref is None:
            cls = int(p[0].argmax())
            ref_maps = [m[0].clone() for m in maps] if maps is not None else None
            norms = [_norm2(m) for m in ref_maps] if maps is not None else None
            ref = _Reference(cls, float(p[0, cls]), ref_maps, norms)
            p = p[1:]
            maps = [m[1:] for m in maps] if maps is not None else None
        tp, tc = p.max(-1)
        errors = None
        if maps is not None:
            errors = torch.stack([_relative_errors(m, r, nr) for m, r, nr in zip(maps, ref.maps, ref.norm2)], 1)
        return ref, (p[:, ref.cls].double(), tc, tp.double(), errors)


def stability_map(model: torch.nn.Module, x: torch.Tensor, offsets: list[float] | None = None,
                  mode: str = "circular", *, blocks: bool = True, chunk: int | None = None,
                  workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                  lock=None) -> StabilityMap:
    """Run ``model`` (eval mode) on the unshifted image x (1, C, H, W) (normalized as the model
    expects) and on its translates by every shift of the grid ``offsets`` (default
    :func:`shift_offsets`), in chunks of ``chunk`` images under ``torch.inference_mode``.

    ``blocks``: also measure each block's relative error (see the module docstring).
    ``workers``: chunks computed at once, in as many threads (default :func:`default_workers`; each
    runs torch's ops with its own intra-op threads, torch.get_num_threads(), and releases the GIL
    while it does). The first chunk, which holds the unshifted image, runs alone: the others are
    compared with it. The result does not depend on ``workers`` or ``chunk`` (up to rounding).
    ``progress(done, total)``: called with the images done so far, after each group of chunks and at 0.
    ``lock``: held around each group's passes (the demo's per-model run lock: the wavelets'
    padding is switched for the pass, and other requests may run between groups)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    x, offsets, chunk, kind, blocks, workers = _prepare(model, x, offsets, mode, blocks, chunk, workers)
    taus = shift_grid(offsets)
    n, total = len(offsets), len(taus)
    lock = lock if lock is not None else nullcontext()
    bounds = [(0, min(total, chunk - 1))]  # the first pass also runs the unshifted image
    while bounds[-1][1] < total:
        bounds.append((bounds[-1][1], min(total, bounds[-1][1] + chunk)))
    if progress:
        progress(0, total)
    with lock, _padding(model, kind, mode):
        ref, part = _chunk(model, kind, x, taus[: bounds[0][1]], mode, blocks, None)
    parts = [part]
    if progress:
        progress(bounds[0][1], total)
    rest = bounds[1:]
    with ThreadPoolExecutor(workers) if workers > 1 and len(rest) > 1 else nullcontext() as pool:
        run = lambda b: _chunk(model, kind, x, taus[b[0]:b[1]], mode, blocks, ref)[1]
        for g in range(0, len(rest), workers):
            group = rest[g: g + workers]
            with lock, _padding(model, kind, mode):
                parts += list(pool.map(run, group)) if pool is not None else [run(b) for b in group]
            if progress:
                progress(group[-1][1], total)
    grid = lambda i, *tail: torch.cat([q[i] for q in parts]).reshape(n, n, *tail).cpu().numpy()
    res = StabilityMap(offsets, mode, ref.cls, ref.prob, grid(0), grid(1), grid(2),
                       measure=({"scattering": "modulus", "features": "feature"}[kind] if blocks else None),
                       block_errors=grid(3, -1) if blocks else None,
                       block_scales=block_scales(model) if blocks else [])
    if blocks and kind == "features":
        res.block_scales = [max(1, x.shape[-1] // r.shape[-1]) for r in ref.maps]
    res.seconds = time.perf_counter() - t0
    return res


def _prepare(model, x, offsets, mode, blocks, chunk, workers):
    """stability_map's arguments checked and resolved: (x as a batch, offsets, chunk, kind, blocks, workers)."""
    offsets = shift_offsets() if offsets is None else [float(o) for o in offsets]
    check_mode(mode)
    if x.dim() == 3:
        x = x[None]
    weight = next(model.parameters(), None)
    if weight is not None:  # the image goes where the model is (CUDA in the demo when a GPU is visible)
        x = x.to(weight.device)
    chunk = chunk_size(*x.shape[-2:]) if chunk is None else int(chunk)
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    kind = model_kind(model)
    return x, offsets, chunk, kind, blocks and kind != "logits", workers
