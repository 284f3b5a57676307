"""What bf16 autocast costs in accuracy: paired short training runs, fp32 against bf16.

    .venv/bin/python bench/bf16_accuracy.py --data .data/cifar10-jpeg [--seeds 0 1] \
        [--recipe cifar10_lscat_skip_cpu] [--out docs/bench/bf16_accuracy.jsonl]

For each seed the recipe is trained twice, identical but for ``bf16`` (the initialization, the data
order and the augmentation are all seeded, so the pair starts from the same weights and sees the same
batches), with ``core.training.train`` into ``runs/bf16_check/<recipe>_<fp32|bf16>_s<seed>`` (resumable:
a finished run is read back, an interrupted one continues). Both are evaluated the same way at the
end: fp32, on the fp16-rounded weights, on all 10,000 test images, so the paired difference is what
bf16 *training* costs. Prints and appends one line per run and a summary (mean and standard deviation
of the paired difference over seeds) with CPU, threads, torch, commit and load average.

The default recipe is the CPU smoke recipe (eighth-width LScat+skip, 10,000 training images, 2 epochs,
eager steps): short enough to run twice per seed in minutes on 2 cores, long enough to leave chance.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from core import training as T
from core.provenance import append_jsonl, load_average
from core.training.recipes import make_config

ROOT = Path(__file__).resolve().parents[1]

# Identical for both runs of a pair: the whole test split (not the recipe's 2,000-image slice, whose
# +-1 point of sampling noise would hide small effects) and one shift size for the final evaluation.
CHECK = {"limit_test": None, "final_shifts": [1]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CIFAR-10 root (e.g. .data/cifar10-jpeg)")
    p.add_argument("--recipe", default="cifar10_lscat_skip_cpu")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "bf16_check")
    p.add_argument("--out", type=Path, help="append the lines as JSON to this file")
    args = p.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"error: data folder {args.data} does not exist", file=sys.stderr)
        return 2
    rows = []
    for seed in args.seeds:
        for bf16 in (False, True):
            cfg = make_config(args.recipe, data=str(args.data), seed=seed, bf16=bf16, **CHECK)
            out = args.runs / f"{args.recipe}_{'bf16' if bf16 else 'fp32'}_s{seed}"
            t0 = time.time()
            final = T.train(cfg, out, progress=False, verbose=False)
            row = {"recipe": args.recipe, "seed": seed, "bf16": bf16, "top1": final["top1"],
                   "test_loss": final["loss"], "n_test": final["n_test"], "epochs": final["epochs"],
                   "train_img_s": round(final["train_img_s_median"], 1), "wall_s": final["wall_s"],
                   "cpu": final["env"]["cpu"], "threads": torch.get_num_threads(), "torch": torch.__version__,
                   "commit": final["env"]["commit"], "date": final["env"]["date"],
                   "load_at_end": load_average(), "this_call_s": round(time.time() - t0, 1)}
            rows.append(row)
            print(f"seed {seed} {'bf16' if bf16 else 'fp32'}: top-1 {100 * row['top1']:.2f}%  "
                  f"{row['train_img_s']:.0f} img/s  {row['wall_s']:.0f} s", flush=True)
    diffs = [100 * (b["top1"] - a["top1"]) for a, b in zip(rows[::2], rows[1::2])]
    summary = {"summary": True, "recipe": args.recipe, "seeds": args.seeds,
               "top1_fp32": [r["top1"] for r in rows[::2]], "top1_bf16": [r["top1"] for r in rows[1::2]],
               "bf16_minus_fp32_points": [round(d, 2) for d in diffs],
               "mean_points": round(statistics.mean(diffs), 2),
               "std_points": round(statistics.stdev(diffs), 2) if len(diffs) > 1 else None,
               "speedup": round(statistics.mean(b["train_img_s"] / a["train_img_s"]
                                                for a, b in zip(rows[::2], rows[1::2])), 2)}
    print(json.dumps(summary))
    for r in rows + [summary]:
        append_jsonl(args.out, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
