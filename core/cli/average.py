"""``python -m core average NAME --data ROOT``: make a weight average (SWA) declared in the catalog.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys

from core.cli.common import HelpFormatter
from core.training.average import AverageError, make_average
from core.weights.catalog import ENTRIES


def averages() -> dict[str, tuple[str, ...]]:
    """The averages the catalog declares: name -> the weights it averages."""
    return {n: e.average_of for n, e in ENTRIES.items() if e.average_of}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core average", formatter_class=HelpFormatter,
                                description="Average the weights at the ends of a run's training cycles (SWA), "
                                            "recompute the normalization statistics, evaluate and export.")
    p.add_argument("name", nargs="?", help=f"the average to make: {', '.join(averages())}")
    p.add_argument("--data", help="data root of the recipe's data set (e.g. .data/nette)")
    p.add_argument("--out", help="folder for final.json (default runs/average_NAME)")
    p.add_argument("--export-dir", help="write NAME.safetensors and its card here (pretrained/ to ship it)")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--list", action="store_true", help="list the averages and their sources")
    return p.parse_args(argv)


def main(argv=None) -> int:
    """Errors (unknown average, missing weights or data, sources of different runs) print one
    ``error:`` line and return 2, as core.training and core.training.evaluate do."""
    from core.data import DataError
    from core.training.errors import TrainError
    from core.weights.store import PretrainedError

    args = parse_args(argv)
    if args.list:
        for n, a in averages().items():
            print(f"{n}: {' + '.join(a)} (statistics: {ENTRIES[n].recipe})")
        return 0
    if not args.name:
        print(f"error: name the average to make ({', '.join(averages())}), or pass --list", file=sys.stderr)
        return 2
    if not args.data:
        print("error: --data ROOT is needed (the training set recomputes the statistics)", file=sys.stderr)
        return 2
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        final = make_average(args.name, args.data, args.out or f"runs/average_{args.name}", args.export_dir,
                             args.device, not args.no_progress,
                             command=shlex.join(["python", "-m", "core", "average", *(argv or sys.argv[1:])]))
    except (AverageError, PretrainedError, TrainError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sc = final["shift_consistency"]["circular"]
    print(f"{args.name} (started {started}): top-1 {100 * final['top1']:.2f} % on {final['n_test']} "
          f"{final['eval_split']} images (with the averaged statistics "
          f"{100 * final['top1_with_averaged_statistics']:.2f} %), shift consistency "
          f"circular {', '.join(f'k={k}: {100 * v:.1f} %' for k, v in sc.items())}; {final['wall_s']:.0f} s")
    print(compare_with_last(final))
    return 0


def compare_with_last(final: dict) -> str:
    """The line that the shipping rule reads: the average against the last cycle, on the same split."""
    last = final["sources"][-1]
    if last["eval_split"] != final["eval_split"] or last["top1"] is None:
        return (f"the last cycle {last['source']} was measured on {last['eval_split']}, the average on "
                f"{final['eval_split']}: not comparable")
    better = "better" if final["top1"] > last["top1"] else "not better"
    caveat = "" if final["eval_split"] == "holdout" else "; no hold-out: this split is also the quoted one"
    return (f"against the last cycle {last['source']} ({100 * last['top1']:.2f} % on the same {final['eval_split']} "
            f"images) the average is {better}{caveat}; bench/paired_top1.py tests the difference image by image")


if __name__ == "__main__":
    sys.exit(main())
