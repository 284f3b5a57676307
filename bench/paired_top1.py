"""Two shipped models on the same test images, image by image: is one really better?

    .venv/bin/python bench/paired_top1.py lscat_skip_imagenette_small_swa lscat_skip_imagenette_small_cycle5 \
        --data .data/nette [--out docs/bench/paired_top1.jsonl]

Top-1 of a model on 3,925 images has a sampling error of about 0.64 points, but two models evaluated on
the *same* images differ by much less noise than that: only the images on which they disagree carry
information. This counts, image by image, the images both get right, only A gets right and only B
gets right, and gives the exact two-sided McNemar test (a binomial test of the discordant images at
1/2): the probability of a split at least this uneven if the two models were equally good. Both
models are evaluated by ``core.training.evaluate.evaluate`` (each with its card's preprocessing, fp32, no
shifts), which gives each image's result. Prints one line and appends it, with CPU, threads, torch, commit,
date and load average, to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

from core.provenance import append_jsonl, measured_on
from core.training.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: P(a split of the discordant images at least this uneven | p = 1/2)."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def correct(name: str, data: str, split: str | None, workers: int) -> tuple[torch.Tensor, str]:
    """Per image of the split: did the model's top-1 match the label (core.training.evaluate.evaluate, no shifts)."""
    res = evaluate(name, data, split=split, shifts=(), workers=workers, progress=False, per_image=True)
    return torch.tensor(res["correct"]), res["split"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="a shipped pretrained entry")
    p.add_argument("b", help="another, for the same data")
    p.add_argument("--data", required=True, help="data root (as for core.training.evaluate)")
    p.add_argument("--split", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None, help="append the result as one JSON line here")
    args = p.parse_args(argv)
    header = measured_on(("core", "bench", "pretrained"))
    t0 = time.time()
    ca, split = correct(args.a, args.data, args.split, args.workers)
    cb, _ = correct(args.b, args.data, split, args.workers)
    if len(ca) != len(cb):
        print("error: the two models were evaluated on different numbers of images", file=sys.stderr)
        return 2
    both, only_a, only_b = int((ca & cb).sum()), int((ca & ~cb).sum()), int((~ca & cb).sum())
    res = {"a": args.a, "b": args.b, "split": split, "n": len(ca), "top1_a": int(ca.sum()) / len(ca),
           "top1_b": int(cb.sum()) / len(cb), "both_right": both, "only_a": only_a, "only_b": only_b,
           "neither": len(ca) - both - only_a - only_b, "mcnemar_p": mcnemar_exact(only_a, only_b),
           "seconds": round(time.time() - t0, 1), **header}
    print(f"{args.a} {100 * res['top1_a']:.2f} % vs {args.b} {100 * res['top1_b']:.2f} % on {res['n']} {split} "
          f"images: only A right {only_a}, only B right {only_b}, both {both}; "
          f"exact McNemar p = {res['mcnemar_p']:.3g}")
    if args.out:
        append_jsonl(args.out, res)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
