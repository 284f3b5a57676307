"""CPU training levers: img/s of a training step, eager or torch.compile, fp32 or bf16 autocast.

    .venv/bin/python bench/cpu_levers.py [--out docs/bench/cpu_levers.jsonl] [--compile-imagenette] [--recipes R ...]

Times the models this project trains on a CPU, at their recipes' batch and input sizes
(``core.training.recipes``): the eighth-width CIFAR-10 LScat+skip (batch 128, 32 px), the eighth-width
Imagenette LScat+skip (batch 32, 96 px crops) and ResNet-18 on CIFAR-10 (batch 128), each eager
and compiled, fp32 and bf16 (AMX-BF16 where the CPU has it). Median of --iters timed steps after
--warmup untimed ones (compilation happens in the warm-up; its time is reported). Compiling the
Imagenette model takes minutes and gains little, so it is timed only with --compile-imagenette;
--recipes times only the named recipes.
Header: CPU flags, threads, torch, date, commit, load average. Use an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from bench.bench_speed import header, train_step_throughput
from core.provenance import append_jsonl
from core.runtime import usable_cpus
from core.training.recipes import make_config

ROOT = Path(__file__).resolve().parents[1]

MODELS = [("cifar10_lscat_skip_small", "lscat_skip_cifar10 at 1/8 width, 32 px"),
          ("imagenette_lscat_skip_small", "lscat_skip_imagenet at 1/8 width, 96 px crops"),
          ("cifar10_resnet18", "resnet18_cifar10, 32 px")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=8)
    p.add_argument("--compile-imagenette", action="store_true")
    p.add_argument("--recipes", nargs="+", choices=[r for r, _ in MODELS], help="only these (default: all)")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    torch.set_num_threads(usable_cpus())
    flags = open("/proc/cpuinfo").read() if Path("/proc/cpuinfo").exists() else ""
    for recipe, what in MODELS:
        if args.recipes and recipe not in args.recipes:
            continue
        cfg = make_config(recipe)
        size = (cfg["aug"] or {}).get("size", cfg["store_size"])
        batch = cfg["batch_size"] if recipe != "cifar10_resnet18" else 128
        for compiled in (False, True):
            if compiled and recipe.startswith("imagenette") and not args.compile_imagenette:
                continue
            for amp in ("none", "bf16"):
                a = SimpleNamespace(device="cpu", amp=amp, channels_last=True, compile=compiled, warmup=args.warmup,
                                    iters=args.iters)
                head = header(a)
                t0 = time.perf_counter()
                img_s = train_step_throughput(cfg["model"], size, batch, a, **cfg["build"])
                row = {**head, "what": what, "recipe": recipe, "batch": batch, "size": size,
                       "img_per_s": round(img_s, 1), "wall_s": round(time.perf_counter() - t0, 1),
                       "amx_bf16": "amx_bf16" in flags}
                print(f"{what:48s} {'compile' if compiled else 'eager  '} {amp:4s}: {img_s:7.1f} img/s "
                      f"({row['wall_s']:.0f} s incl. warm-up, load {head['load_before']})", flush=True)
                append_jsonl(args.out, row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
