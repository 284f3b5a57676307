"""Evaluation: top-1 / top-5 and shift consistency.

    python -m core evaluate --model NAME [--weights FILE] --data ROOT [--split test|val|holdout] [--limit N]

See ``core.training.evaluate`` for what it measures.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.common import HelpFormatter
from core.runtime import usable_cpus
from core.training.evaluate import EvalError, card_file, evaluate, record_quoted


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m core evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="pretrained entry or registry model (required)")
    p.add_argument("--weights", default=None, help="a .safetensors file; default: the shipped weights of --model")
    p.add_argument("--data", required=True, help="data root: CIFAR-10, Imagenette or an ImageFolder (required)")
    p.add_argument("--split", default=None,
                   help="test, val, or holdout: the hold-out the weights' recipe carves from its training split "
                        "(default: test for cifar10, val otherwise)")
    p.add_argument("--dataset", default=None, choices=["cifar10", "imagenette", "folder"],
                   help="data set kind (default: from the model card)")
    p.add_argument("--limit", type=int, default=None, help="evaluate a fixed random subset of N images (default: all)")
    p.add_argument("--batch-size", type=int, default=250, help="images per batch")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--shifts", type=int, nargs="*", default=[1, 2, 4], help="k values for shift consistency")
    p.add_argument("--seed", type=int, default=0, help="seed of the random shifts")
    p.add_argument("--workers", type=int, default=min(4, usable_cpus()), help="DataLoader workers")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--record", action="store_true",
                   help="write the result into the weights' card as its quoted_result: the one measurement of "
                        "the quoted split (val / test) of weights whose choices were made on a hold-out")
    args = p.parse_args(argv)
    from core.data import DataError
    from core.weights.store import PretrainedError

    try:
        if args.batch_size < 1:
            raise EvalError("--batch-size must be >= 1")
        if any(k < 1 for k in args.shifts):
            raise EvalError("--shifts values must be >= 1")
        if args.record and args.limit is not None:
            raise EvalError("--record measures the whole quoted split: drop --limit")
        res = evaluate(args.model, args.data, args.weights, args.split, args.limit, args.dataset, args.batch_size,
                       args.device, tuple(args.shifts), args.seed, args.workers, not args.no_progress)
        if args.record:
            record_quoted(card_file(args.model, args.weights), res)
    except (EvalError, DataError, PretrainedError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{res['model']} on {res['dataset']} {res['split']} ({res['n']} images, {res['input_size']} px, "
          f"{res['weights']})")
    print(f"top-1 {100 * res['top1']:.2f}%   top-5 {100 * res['top5']:.2f}%   loss {res['loss']:.4f}")
    for mode, row in res["shift_consistency"].items():
        print(f"shift consistency, {mode:8s} " + "  ".join(f"k={k}: {100 * v:.2f}%" for k, v in row.items()))
    if args.record:
        print(f"recorded as quoted_result in {card_file(args.model, args.weights)}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
