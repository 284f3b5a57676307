"""Two shipped models on the same images, image by image: is one really better?

    .venv/bin/python bench/paired_top1.py lscat_skip_imagenette_small_swa lscat_skip_imagenette_small_cycle5 \
        --data .data/nette [--out docs/bench/paired_top1.jsonl]

Top-1 of a model on 3,925 images has a sampling error of about 0.64 points, but two models evaluated on
the *same* images differ by much less noise than that: only the images on which they disagree carry
information. This counts, image by image, the images both get right, only A gets right and only B
gets right, and gives the exact two-sided McNemar test (a binomial test of the discordant images at
1/2): the probability of a split at least this uneven if the two models were equally good. Both
models are evaluated by ``core.training.evaluate.evaluate`` (each with its card's preprocessing, fp32, no
shifts), which gives each image's result. A choice between two models (which ships) is made on the hold-out
when their recipes have one (the default then: ``--split holdout``), never on the quoted split. Prints one
line and appends it, with CPU, threads, torch, commit, date and load average, to ``--out``.
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


def correct(name: str, data: str, split: str | None, workers: int) -> tuple[torch.Tensor, str, dict | None]:
    """Per image of the split: did the model's top-1 match the label (core.training.evaluate.evaluate, no
    shifts); the split, and the hold-out it was (None for test / val)."""
    res = evaluate(name, data, split=split, shifts=(), workers=workers, progress=False, per_image=True)
    return torch.tensor(res["correct"]), res["split"], res["holdout"]


def default_split(a: str, b: str) -> str | None:
    """Where a choice between ``a`` and ``b`` is made: "holdout" when both recipes (their cards) hold out
    the same images, None (the data set's default, its quoted split) when neither has a hold-out. A
    ValueError when they differ: one was trained on images the other is judged on."""
    from core import weights as pretrained
    from core.data import holdout_spec

    specs = [holdout_spec(pretrained.read_card(pretrained.resolve(n) or n).get("recipe")) for n in (a, b)]
    if specs[0] != specs[1]:
        raise ValueError(f"{a} holds out {specs[0]} and {b} {specs[1]}: no shared hold-out to compare them on; "
                         "pass --split (a choice on test / val makes that split a selection split)")
    return "holdout" if specs[0] else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="a shipped pretrained entry")
    p.add_argument("b", help="another, for the same data")
    p.add_argument("--data", required=True, help="data root (as for core.training.evaluate)")
    p.add_argument("--split", default=None, help="default: the hold-out when both recipes have the same one, "
                                                 "else the data set's quoted split (test / val)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None, help="append the result as one JSON line here")
    args = p.parse_args(argv)
    header = measured_on(("core", "bench", "pretrained"))
    t0 = time.time()
    try:
        split = args.split or default_split(args.a, args.b)
        ca, split, hold_a = correct(args.a, args.data, split, args.workers)
        cb, _, hold_b = correct(args.b, args.data, split, args.workers)
    except (ValueError, RuntimeError) as e:  # EvalError, DataError, PretrainedError
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(ca) != len(cb) or hold_a != hold_b:
        print("error: the two models were evaluated on different images (sizes or hold-outs differ)", file=sys.stderr)
        return 2
    both, only_a, only_b = int((ca & cb).sum()), int((ca & ~cb).sum()), int((~ca & cb).sum())
    res = {"a": args.a, "b": args.b, "split": split, "holdout": hold_a, "n": len(ca), "top1_a": int(ca.sum()) / len(ca),
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
