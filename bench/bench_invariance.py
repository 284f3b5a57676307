"""How long the invariance view takes: the prediction-stability map over the grid of sub-pixel shifts and
its per-block curve (one batched pass, core.analysis.invariance.stability_map), per model, in process.

    .venv/bin/python bench/bench_invariance.py                       # appends to docs/bench/invariance_cpu.jsonl
    .venv/bin/python bench/bench_invariance.py --baselines --runs 5  # also untrained ResNet-18 baselines

For each model: the demo's own model (demo.models.ModelStore: shipped weights when there are, else
untrained) or a pretrained entry built untrained (``--entries``, e.g. the CPU-trained Imagenette model
before its weights land: its architecture and input size, hence its cost, are the same), the example
image cat.jpg prepared as the demo prepares it, then ``--runs`` timed calls (median reported, min and
max too) of

  * ``core``: core.analysis.invariance.stability_map on the default grid (17 x 17 shifts over [-2, 2] px, 290
    forward passes in chunks of core.analysis.invariance.chunk_size, the per-block errors included): the map +
    the curve;
  * ``view``: demo.invariance.stability_view with its cache emptied first: the same, plus the figures,
    the summary and the numbers the UI shows (what a click on "Compute the stability map" costs once
    the image has been analysed).

Threads: the app's default (demo.compute.lanes.default_threads: half the cores, 1 on this 2-core machine), or
``--threads``; chunks computed at once: core.analysis.invariance.default_workers (2 on this machine: one per
core), or ``--workers``. Each line also records the CPU seconds per run of this process, summed
over its threads (on a loaded machine the wall time includes waiting for a core; with one worker
the CPU time is what an idle machine would need), the load average before and after, the machine,
torch, the date and the commit. Goals (the issue):
CIFAR-10 <= 1 s, Imagenette <= 3 s on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "demo" / "examples" / "cat.jpg"
OUT = ROOT / "docs" / "bench" / "invariance_cpu.jsonl"
GOALS_S = {"cifar10": 1.0, "imagenette": 3.0}


def timed(fn, runs: int) -> dict:
    wall, cpu = [], []
    for _ in range(runs):
        c, t = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"median_s": round(statistics.median(wall), 3), "min_s": round(min(wall), 3), "max_s": round(max(wall), 3),
            "cpu_s_per_run": round(statistics.median(cpu), 3), "runs": runs}


class EntryStore:
    """A stand-in ModelStore holding one pretrained entry built untrained (for --entries)."""

    def __init__(self, name: str):
        import threading

        from core import weights as pretrained
        from demo.models.store import DemoModel, freeze

        self.name = name
        self.dm = DemoModel(name, freeze(pretrained.build_untrained(name)), pretrained.ENTRIES[name], False, None)
        self.run_locks = {name: threading.Lock()}

    def get(self, key):
        if key != self.name:
            raise KeyError(key)
        return self.dm

    def ready(self, key):
        return key == self.name


def bench_model(store, key: str, runs: int, boundary: str, workers: int | None = None) -> dict:
    from core.analysis.invariance import stability_map
    from demo.compute.pipeline import Pipeline
    from demo.invariance import figures, maps, text

    pipe = Pipeline(store)
    dm, _, orig, _ = pipe.original(str(EXAMPLE), key, boundary)  # the analysed image (cached by the demo)
    lock = store.run_locks[key]
    run = lambda: stability_map(dm.model, orig.x, mode=boundary, workers=workers, lock=lock)
    run()  # warm-up: allocator, FFT plans, folded P
    core = timed(run, runs)
    sm = run()

    def view():
        if isinstance(store, EntryStore):  # not a demo slot: the same figures, for this one model
            pairs = [(dm, run())]
            figures.stability_figure(pairs), figures.curve_figure(pairs), text.summary(pairs)
        else:
            pipe.maps.clear()
            maps.stability_view(store, pipe, str(EXAMPLE), key, boundary, workers=workers)

    full = timed(view, runs)
    dataset = dm.entry.dataset
    goal = GOALS_S.get(dataset)
    return {"model": key, "weights": dm.weights or "untrained", "input_size": dm.size, "dataset": dataset,
            "kind": "scattering" if dm.is_scattering else "resnet", "grid": f"{sm.steps}x{sm.steps} over "
            f"[-{sm.extent:g}, {sm.extent:g}] px", "images": sm.steps ** 2 + 1, "boundary": boundary,
            "core": core, "view": full, "goal_s": goal,
            "meets_goal": (full["median_s"] <= goal) if goal and dm.is_scattering else None,
            "stable_fraction": round(sm.stable_fraction, 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=["lscat_skip_cifar10", "lscat_skip_imagenette"],
                    help="demo model keys (ModelStore: shipped weights, else untrained)")
    ap.add_argument("--entries", nargs="*", default=["lscat_skip_imagenette_small"],
                    help="pretrained entries timed untrained (same cost as trained)")
    ap.add_argument("--baselines", action="store_true",
                    help="also time the ResNet-18 baselines (untrained entries resnet18_cifar10, resnet18_imagenette)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--boundary", default="circular", choices=["circular", "zero"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None,
                    help="chunks computed at once (default: core.analysis.invariance.default_workers, 2 on 2 cores)")
    ap.add_argument("--out", default=str(OUT), help="JSONL file to append to ('-': stdout only)")
    ap.add_argument("--note", default="", help="free text recorded with the line (e.g. what else was running)")
    args = ap.parse_args()

    import torch

    from core.analysis.invariance import default_workers
    from core.provenance import append_jsonl, load_average, measured_on
    from core.runtime import usable_cpus
    from demo.compute.lanes import default_threads
    from demo.models.store import ModelStore

    torch.set_num_threads(args.threads or default_threads(usable_cpus()))
    head = measured_on(paths=("core", "demo", "app.py", "bench"))
    store = ModelStore()
    results = [bench_model(store, key, args.runs, args.boundary, args.workers) for key in args.models]
    entries = list(args.entries) + (["resnet18_cifar10", "resnet18_imagenette"] if args.baselines else [])
    results += [bench_model(EntryStore(name), name, args.runs, args.boundary, args.workers) for name in entries]
    line = {"bench": "invariance", **head, "platform": platform.platform(),
            "workers": args.workers or default_workers(), "load_after": load_average(),
            "note": args.note, "results": results}
    print(json.dumps(line, ensure_ascii=False), flush=True)
    append_jsonl(None if args.out == "-" else args.out, line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
