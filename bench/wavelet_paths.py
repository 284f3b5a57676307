"""Where a model's wavelet time goes, block by block: the FFT path against the spatial path.

    .venv/bin/python bench/wavelet_paths.py [--model lscat_skip_imagenette] [--batch 10] [--runs 5] \
        [--out docs/bench/wavelet_paths_cpu.jsonl]

For a pretrained scattering model (its shipped weights, or untrained when none is shipped: the cost
is the same), one forward pass on ``--batch`` random images at its input size records each block's
wavelet input; then, per block, the wavelet transform W is timed (median of ``--runs``, one torch
thread, as the demo's invariance view runs each chunk; a batch of 10 is its chunk at 112 px,
``core.analysis.invariance.chunk_size``) on the FFT path and on the spatial path, with the relative difference
of their outputs (the spatial path's window error, ``core.nn.wavelet``). Also printed: the padded grid
the FFT path transforms (the input size + 4) and its largest prime factor, since pocketfft is slow on
sizes with a large one. The model's own path is what ``impl="auto"`` chose.

Per-block times do not add up to the demo's: its invariance view runs chunks on two workers at
once (``core.analysis.invariance.default_workers``), which then share the memory bandwidth. So the end-to-end
check follows: ``core.analysis.invariance.stability_map`` on the demo's default grid (17 x 17 shifts of one
random image), median of ``--runs``, with the model's own paths and with the faster path of each
block as measured above, and the largest difference of the map's probabilities between the two.
One JSON line per run (the machine's header from core.provenance, the blocks, the map).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from core import weights as pretrained
from core.provenance import append_jsonl, measured_on

ROOT = Path(__file__).resolve().parents[1]


def largest_prime_factor(n: int) -> int:
    p, best = 2, 1
    while p * p <= n:
        while n % p == 0:
            best, n = p, n // p
        p += 1
    return max(best, n) if n > 1 else best


def median_ms(w, x, runs: int) -> float:
    """Median wall time of w(x), in ms, after a warm-up call (FFT plans, cached filters and indices)."""
    w(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        w(x)
        times.append(time.perf_counter() - t)
    return round(1000 * statistics.median(times), 2)


def map_check(model, size: int, wavelets, rows, runs: int) -> dict:
    """The stability map's wall time with the model's own paths and with each block's faster path."""
    from core.analysis.invariance import default_workers, stability_map

    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))

    def timed():
        stability_map(model, x)  # warm-up
        times, result = [], None
        for _ in range(runs):
            t = time.perf_counter()
            result = stability_map(model, x)
            times.append(time.perf_counter() - t)
        return round(statistics.median(times), 3), torch.as_tensor(result.probs)

    own = [w.impl for w in wavelets]
    own_s, own_p = timed()
    for w, r in zip(wavelets, rows):
        w.impl = "fft" if r["fft_ms"] <= r["spatial_ms"] else "spatial"
    fast_s, fast_p = timed()
    for w, impl in zip(wavelets, own):
        w.impl = impl
    return {"grid": "17 x 17", "workers": default_workers(), "own_s": own_s, "faster_per_block_s": fast_s,
            "max_prob_diff": float(f"{(own_p - fast_p).abs().max().item():.2e}")}


@torch.no_grad()
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="lscat_skip_imagenette", help="a scattering pretrained entry or demo slot")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=None, help="append the JSON line here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    head = measured_on(("core", "bench"))
    name = pretrained.resolve(args.model) or args.model
    model = (pretrained.load(name)[0] if name in pretrained.available() else pretrained.build_untrained(name)).eval()
    if not hasattr(model, "blocks"):
        print(f"error: {name} has no wavelet blocks (not a scattering model)", file=sys.stderr)
        return 2
    size = pretrained.ENTRIES[name].input_size
    inputs = []
    hooks = [b.wavelet.register_forward_pre_hook(lambda mod, a: inputs.append((mod, a[0].clone())))
             for b in model.blocks]
    model(torch.randn(args.batch, 3, size, size))
    for h in hooks:
        h.remove()
    rows = []
    for j, (w, x) in enumerate(inputs):
        own = w.impl
        timings, outs = {}, {}
        for impl in ("fft", "spatial"):
            w.impl = impl
            timings[impl] = median_ms(w, x, args.runs)
            outs[impl] = w(x)
        w.impl = own
        grid = x.shape[-1] + 4  # core.nn.wavelet's reflect padding: 2 pixels per side
        rel = ((outs["fft"] - outs["spatial"]).norm() / outs["fft"].norm()).item()
        rows.append({"block": j, "input": list(x.shape), "kernel": 2 * w.radius + 1, "stride": w.stride,
                     "path": own, "fft_grid": grid, "largest_prime_factor": largest_prime_factor(grid),
                     "fft_ms": timings["fft"], "spatial_ms": timings["spatial"],
                     "relative_difference": float(f"{rel:.2e}")})
        print(f"block {j}: {tuple(x.shape)} kernel {rows[-1]['kernel']} stride {w.stride} (runs {own}), grid {grid} "
              f"(largest prime factor {rows[-1]['largest_prime_factor']}): fft {timings['fft']} ms, "
              f"spatial {timings['spatial']} ms, relative difference {rel:.1e}")
    total = {k: round(sum(r[f"{k}_ms"] for r in rows), 1) for k in ("fft", "spatial")}
    best = round(sum(min(r["fft_ms"], r["spatial_ms"]) for r in rows), 1)
    print(f"all blocks: fft {total['fft']} ms, spatial {total['spatial']} ms, the faster path per block {best} ms")
    the_map = map_check(model, size, [w for w, _ in inputs], rows, args.runs)
    print(f"stability map (17 x 17, {the_map['workers']} workers): own paths {the_map['own_s']} s, the faster path "
          f"per block {the_map['faster_per_block_s']} s; largest probability difference {the_map['max_prob_diff']:.1e}")
    line = {"bench": "wavelet paths", **head, "model": name, "batch": args.batch, "runs": args.runs,
            "blocks": rows, "total_ms": total, "best_per_block_ms": best, "stability_map": the_map}
    append_jsonl(args.out, line)
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
