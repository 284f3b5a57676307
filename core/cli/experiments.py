"""Reproduce the paper's comparisons in one command (SPEC §5-6): ``python -m core experiments TABLE``.

    python -m core experiments list                                   # the rows and their commands
    python -m core experiments table1 --cifar10 ROOT --seeds 0 1 2    # Scat, LScat, LScat+skip, ResNet-18
    python -m core experiments table2 --cifar10 ROOT                  # LScat+skip with mod, cst, ms, mc, tanh
    python -m core experiments table3 --imagenette ROOT               # bias-free ResNet-18, 5 non-linearities
    python -m core experiments layers --cifar10 ROOT                  # class-mean separation by block, mod vs cst
    python -m core experiments report                                 # rebuild docs/experiments from results

    # the laptop scale: Tables 1-2 and the per-block separation on a 2-core CPU (see SCALES), two
    # runs at a time on one core each
    python -m core experiments all --scale laptop --cifar10 ROOT --seeds 0 1 2 --jobs 2 --threads 1
    python -m core experiments probe --scale laptop --cifar10 ROOT --seeds 0 1 2 --threads 1   # the cost
    python -m core experiments probe --recipe cifar10_resnet18_small --cifar10 ROOT --threads 1  # a recipe's

Every row of a table is trained with one fixed short recipe, the same for all rows of that table
(the scale's recipe below: the table's recipe of ``core.training.recipes`` with a fixed number of epochs, so
that no row gets more steps than another). Each run lives in ``--out/<table>/<row>/seed<k>/``
(config, per-epoch log, checkpoint, final metrics: ``core.training``); a run whose ``final.json``
exists is skipped, and an interrupted one resumes from its checkpoint. Its log and final metrics
(not the checkpoint) are copied to ``docs/experiments/runs/`` so that they can be committed.
Table 1's LScat+skip row and Table 2's mod row are the same configuration: they share their runs
(those of table 2).

Scales (``--scale``): ``full`` trains the paper's widths (a GPU's work); ``laptop`` is a
reduced-scale test of the same claim on a CPU: the same code path and recipe, only the keys of
``SCALES["laptop"]`` differ (eighth-width scattering models, a ResNet-18 of matched parameter
count, a training subset, fewer epochs, compiled bf16 steps). Its runs go to
``runs/experiments/laptop`` and its report to ``docs/experiments/laptop``. It is not a
reproduction of the paper's numbers, which stay in their own column.

The report (``<docs>/<table>.md``, ``<table>.html`` and ``<table>.png``) puts the paper's errors
(SPEC §6) next to ours: final-epoch test error, mean ± standard deviation over the seeds that
have run. No epoch is picked on the test set.

The ``layers`` experiment loads the ``mod`` and ``cst`` LScat+skip runs of table 2 (every seed
asked for) and measures, for every block, the within/between-class variance and the
nearest-class-mean accuracy of its output (``core.analysis.separation``): the slides' claim that the
network "moves spatial information into channels and increases linear separation", and that phase
collapse is what separates means.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.experiments.layers import run_layers
from core.experiments.probe import probe, probe_recipe
from core.experiments.report import list_runs, report, scales_help
from core.experiments.runner import execute, plan_table
from core.experiments.tables import SCALES, TABLES, ExperimentError, scale_paths


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core experiments", description=__doc__, epilog=scales_help(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=[*TABLES, "layers", "all", "report", "list", "probe"],
                   help="what to run (probe: time a few steps of every configuration of --scale and estimate "
                        "the cost of the whole scale; writes <docs>/probe.json)")
    p.add_argument("--scale", choices=list(SCALES), default="full",
                   help="full: the paper's widths (GPU); laptop: a reduced-scale CPU test (default: %(default)s)")
    p.add_argument("--cifar10", help="CIFAR-10 root (torchvision format or the JPEG ImageFolder copy)")
    p.add_argument("--imagenette", help="Imagenette root (holding imagenette2-160/)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds per row (default: 0; use 0 1 2 for ±)")
    p.add_argument("--rows", nargs="+", help="only these rows (labels or their slugs, as in `list`)")
    p.add_argument("--epochs", type=int,
                   help="override the scale's epochs (default: " +
                        ", ".join(f"{n} {sc.recipe['cifar10']['epochs']}" for n, sc in SCALES.items()) + ")")
    p.add_argument("--out", type=Path, help="run folders (default: runs/experiments, runs/experiments/<scale> for "
                                            "another scale than full)")
    p.add_argument("--docs", type=Path, help="report folder (default: docs/experiments, docs/experiments/<scale>)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--fit-images", type=int, default=10_000,
                   help="layers: training images for class means (at most the scale's training subset)")
    p.add_argument("--steps", type=int, default=30, help="probe: timed training steps per configuration")
    p.add_argument("--jobs", type=int, default=1,
                   help="training runs at a time, in worker processes (default: 1, in this process). On a CPU, "
                        "--jobs 2 --threads 1 trains two runs at once on one core each: as fast as one run on two "
                        "cores when the machine is idle, and far faster when something else also runs")
    p.add_argument("--threads", type=int,
                   help="torch threads per worker with --jobs, and of probe (default: the cores shared out)")
    p.add_argument("--recipe", help="probe: time this core.training.recipes recipe instead of the scale's tables "
                                    "(data from --cifar10 or --imagenette)")
    p.add_argument("--smoke", action="store_true", help="tiny CPU-sized runs to check a setup (not results)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from core.training.errors import TrainError, TrainingDiverged

    try:
        if args.what == "list":
            print(list_runs(args.seeds, args.scale))
            return 0
        out, docs = scale_paths(args.scale, args.out, args.docs)
        if args.what == "probe":
            if args.threads:
                import torch

                torch.set_num_threads(args.threads)
            if args.recipe:
                probe_recipe(args.recipe, args.cifar10 or args.imagenette, docs, args.steps, args.device)
                return 0
            if not args.cifar10:
                raise ExperimentError("probe needs --cifar10 ROOT")
            probe(args.scale, args.cifar10, args.seeds, docs, args.steps, args.device, args.fit_images, args.rows)
            return 0
        tables = SCALES[args.scale].tables
        names = list(tables) if args.what == "all" else [args.what] if args.what in TABLES else []
        tasks = []
        for name in names:
            root = getattr(args, TABLES[name].dataset)
            if not root:
                raise ExperimentError(f"{name} needs --{TABLES[name].dataset} ROOT")
            tasks += plan_table(name, root, args.seeds, out, docs, args.epochs, args.rows, args.smoke, args.device,
                                args.scale)
        if tasks:
            execute(tasks, args.jobs, args.threads, quiet=args.smoke)
        if args.what in ("layers", "all"):
            if not args.cifar10:
                raise ExperimentError("layers needs --cifar10 ROOT")
            run_layers(args.cifar10, out, docs, args.fit_images, args.device, args.seeds, args.scale)
        for path in report(docs, names or None, args.scale):
            print(f"wrote {path}")
        return 0
    except (ExperimentError, TrainError, TrainingDiverged) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
