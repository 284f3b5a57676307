"""Weight averaging over the ends of warm-restarted cycles (SWA): ``python -m core.average NAME --data ROOT``.

Stochastic weight averaging (Izmailov, Podoprikhin, Garipov, Vetrov, Wilson, "Averaging Weights Leads
to Wider Optima and Better Generalization", UAI 2018) with a cyclical learning rate: the weights at
the end of each cycle, where the learning rate is low, are averaged, and the normalization
statistics are recomputed for the averaged weights. Our CPU photo model was trained in such cycles
(each warm-started from the previous one, docs/TRAINING.md), so the cycles' shipped weights are the
points to average, at no further training.

    python -m core.average lscat_skip_imagenette_small_swa --data .data/nette \\
        --out runs/average_lscat_skip_imagenette_small_swa --export-dir runs/export_lscat_skip_imagenette_small_swa

Steps (``make_average``): load the sources (pretrained entries, sha256 verified; each must be a cycle
of the same run, i.e. on the ``init_from`` lineage of the last one); average every floating-point
tensor of their state dicts (float64, then the model's dtype); recompute the running statistics of
every normalization layer (BatchNorm2d and the scattering blocks' Std) with one pass over the
training set in train mode, with the training augmentation, batch size, seed and precision of the
entry's recipe (the last cycle's), each batch weighted equally (torch.optim.swa_utils.update_bn does the same, but knows
only BatchNorm); evaluate the result as training's final evaluation does (fp32, after rounding to the
exported precision, whole test split, with shift consistency); write ``out/final.json`` and export
the weights with a model card.

Why recompute the statistics: the running means and variances of the sources describe the activations
of the sources, not those of the averaged weights (SWA, section 3.2). The averaged weights are
also evaluated once with the averaged statistics (``top1_with_averaged_statistics`` in final.json),
to show what the pass changes.

Integer buffers (BatchNorm's ``num_batches_tracked``) are taken from the last source: nothing reads
them (every BatchNorm here has a momentum).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from core.cli import HelpFormatter, pick_device, write_atomic
from core.layers import ComplexStandardization

STATISTICS = (nn.modules.batchnorm._BatchNorm, ComplexStandardization)  # layers with running statistics


@dataclass(frozen=True)
class Average:
    """An averaged model: which shipped weights are averaged. Its pretrained entry's recipe (the last
    cycle's) gives the data, training augmentation, batch size, seed and precision of the statistics
    pass, and the test split that evaluates it."""

    sources: tuple[str, ...]


# The photo model's cycles 2-5 (the cycles that restart from trained weights, SWA's "cyclical" phase;
# cycle 1, 24 epochs from a random initialization, plays the part of SWA's pre-training), averaged
# with equal weights. Chosen before any average was evaluated, after the fifth cycle had shown that
# further cycles no longer improve (docs/TRAINING.md). The ResNet-18 partner is averaged the same way.
AVERAGES: dict[str, Average] = {
    "lscat_skip_imagenette_small_swa": Average(
        ("lscat_skip_imagenette_small_long", "lscat_skip_imagenette_small_longer",
         "lscat_skip_imagenette_small_cycle4", "lscat_skip_imagenette_small_cycle5")),
    "resnet18_imagenette_small_swa": Average(
        ("resnet18_imagenette_small_long", "resnet18_imagenette_small_longer",
         "resnet18_imagenette_small_cycle4", "resnet18_imagenette_small_cycle5")),
}


class AverageError(RuntimeError):
    """Sources that cannot be averaged (missing, different architectures, not one run)."""


def lineage(name: str) -> list[str]:
    """The pretrained entries a shipped model was trained through, first cycle first, ending with
    ``name`` (each card's ``init_from.source``)."""
    from core import pretrained

    chain = [name]
    while True:
        start = (pretrained.read_card(chain[-1]).get("init_from") or {}).get("source")
        if not start:
            return chain[::-1]
        if start in chain:
            raise AverageError(f"the init_from chain of {name} loops at {start}")
        chain.append(start)


def average_state_dicts(states: list[dict]) -> dict:
    """The mean of every floating-point tensor (in float64, returned in the first state's dtypes);
    other tensors from the last state. The states must have the same keys and shapes."""
    keys = list(states[0])
    for s in states[1:]:
        if list(s) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise AverageError("the sources' state dicts differ in keys or shapes: not the same architecture")
    out = {}
    for k in keys:
        if states[0][k].is_floating_point():
            out[k] = (sum(s[k].double() for s in states) / len(states)).to(states[0][k].dtype)
        else:
            out[k] = states[-1][k].clone()
    return out


@torch.no_grad()
def recompute_statistics(model: nn.Module, batches, amp: bool, device) -> int:
    """Reset the running statistics of every normalization layer of ``model`` and recompute them over
    ``batches`` of normalized inputs in train mode, each batch weighted equally (momentum 1/(k+1) at
    batch k: a cumulative mean). Returns the number of images seen; ``model`` is left in eval mode."""
    layers = [m for m in model.modules() if isinstance(m, STATISTICS)]
    if not layers:
        return 0
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
    was_training = model.training
    model.train()
    seen = 0
    try:
        for k, (x, _) in enumerate(batches):
            for m in layers:
                m.momentum = 1.0 / (k + 1)
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=amp):
                model(x.to(device))
            seen += len(x)
    finally:
        for m, mom in zip(layers, momenta):
            m.momentum = mom
        model.train(was_training)
    if seen == 0:
        raise AverageError("no training batches to recompute the statistics with")
    return seen


def make_average(name: str, data: str, out_dir, export_dir=None, device="auto", progress: bool = True,
                 command: str | None = None) -> dict:
    """Average ``AVERAGES[name]``'s sources, recompute the statistics, evaluate, write
    ``out_dir/final.json`` and export ``name`` (weights and card) to ``export_dir`` (None: no export).
    ``command`` is recorded as the command that made it (default: this Python call). Returns the final
    record."""
    from core import pretrained
    from core.evaluate import run_evaluation
    from core.models import count_parameters
    from core.recipes import make_config
    from core.train import Data, card_record, environment, rounded_copy

    if name not in AVERAGES:
        raise AverageError(f"unknown average {name!r}; defined: {', '.join(AVERAGES)}")
    spec = AVERAGES[name]
    t0 = time.time()
    dev = pick_device(device)
    entry = pretrained.ENTRIES[name]
    cfg = make_config(entry.recipe, data=data, device=str(dev))
    missing = [s for s in spec.sources if s not in pretrained.available()]
    if missing:
        raise AverageError(f"{name} averages {', '.join(spec.sources)}; not in {pretrained.PRETRAINED_DIR}: "
                           f"{', '.join(missing)}")
    chain = lineage(spec.sources[-1])
    if not set(spec.sources) <= set(chain):
        raise AverageError(f"{name}'s sources are not all cycles of one run: {spec.sources[-1]} was trained through "
                           f"{' -> '.join(chain)}")
    loaded = [pretrained.load(s) for s in spec.sources]
    for (_, card), s in zip(loaded, spec.sources):
        if card["model"] != entry.model or card.get("build") != loaded[-1][1].get("build"):
            raise AverageError(f"{s} is a {card['model']} {card.get('build')}, not the architecture of "
                               f"{spec.sources[-1]}")
    model = copy.deepcopy(loaded[-1][0]).float()
    model.load_state_dict(average_state_dicts([m.state_dict() for m, _ in loaded]))
    model = model.to(dev)
    if cfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)

    data_ = Data(cfg, dev, 0, 1, progress)
    half = cfg["export_half"]
    before = run_evaluation(rounded_copy(model, half), data_.final_batches(), device=dev, shifts=(), seed=0,
                            progress=progress, total=data_.n_final_batches)
    data_.train.set_epoch(0)
    n_stats = recompute_statistics(model, data_.train, cfg["bf16"], dev)
    res = run_evaluation(rounded_copy(model, half), data_.final_batches(), device=dev,
                         shifts=tuple(cfg["final_shifts"]), seed=0, progress=progress, total=data_.n_final_batches)
    env = environment(dev, 1)
    cards = {s: c for (_, c), s in zip(loaded, spec.sources)}
    history = {n: pretrained.read_card(n) for n in chain}
    final = {
        "name": name, "top1": res["top1"], "top5": res["top5"], "loss": res["loss"], "n_test": res["n"],
        "shift_consistency": res["shift_consistency"],
        "top1_with_averaged_statistics": before["top1"],
        "sources": [{"source": s, "sha256": c["sha256"], "recipe_name": c.get("recipe_name"),
                     "epochs": c.get("epochs"), "top1": c.get("top1")} for s, c in cards.items()],
        "statistics": {"images": n_stats, "passes": 1, "recipe": cfg["name"], "augmentation": cfg["aug"],
                       "batch_size": cfg["batch_size"], "seed": cfg["seed"], "epoch": 0,
                       "precision": "bf16 autocast" if cfg["bf16"] else "fp32"},
        "training_epochs": sum(history[n].get("epochs", 0) for n in chain),
        "training_wall_time_s": round(sum(history[n].get("wall_time_s", 0.0) for n in chain), 1),
        "lineage": chain, "wall_s": round(time.time() - t0, 1), "params": count_parameters(model),
        "weights_precision": "fp16" if half else "fp32", "data": data_.description, "env": env,
        "command": command or f"core.average.make_average({name!r}, {data!r}, {str(out_dir)!r}, "
                              f"{None if export_dir is None else str(export_dir)!r})",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "final.json", json.dumps(final, indent=2) + "\n")
    if export_dir is not None:
        card = {"description": entry.description, **card_record(cfg, final, env), "command": [final["command"]],
                "metric_note": "weights averaged over the ends of the training cycles, statistics recomputed on "
                               "the training set; fp32 evaluation of the weights as stored",
                "averaged_from": final["sources"], "statistics": final["statistics"],
                "top1_with_averaged_statistics": before["top1"],
                "epochs": final["training_epochs"], "training_wall_time_s": final["training_wall_time_s"],
                "wall_time_s": final["wall_s"], "lineage": chain}
        pretrained.save(rounded_copy(model, False).cpu(), name, card, half=half, directory=export_dir)
    return final


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.average", formatter_class=HelpFormatter,
                                description="Average the weights at the ends of a run's training cycles (SWA), "
                                            "recompute the normalization statistics, evaluate and export.")
    p.add_argument("name", nargs="?", help=f"the average to make: {', '.join(AVERAGES)}")
    p.add_argument("--data", help="data root of the recipe's data set (e.g. .data/nette)")
    p.add_argument("--out", help="folder for final.json (default runs/average_NAME)")
    p.add_argument("--export-dir", help="write NAME.safetensors and its card here (pretrained/ to ship it)")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--list", action="store_true", help="list the averages and their sources")
    return p.parse_args(argv)


def main(argv=None) -> int:
    """Errors (unknown average, missing weights or data, sources of different runs) print one
    ``error:`` line and return 2, as core.train and core.evaluate do."""
    from core.data import DataError
    from core.pretrained import PretrainedError
    from core.train import TrainError

    args = parse_args(argv)
    if args.list:
        from core.pretrained import ENTRIES

        for n, a in AVERAGES.items():
            print(f"{n}: {' + '.join(a.sources)} (statistics: {ENTRIES[n].recipe})")
        return 0
    if not args.name:
        print(f"error: name the average to make ({', '.join(AVERAGES)}), or pass --list", file=sys.stderr)
        return 2
    if not args.data:
        print("error: --data ROOT is needed (the training set recomputes the statistics)", file=sys.stderr)
        return 2
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        final = make_average(args.name, args.data, args.out or f"runs/average_{args.name}", args.export_dir,
                             args.device, not args.no_progress,
                             command=shlex.join(["python", "-m", "core.average", *(argv or sys.argv[1:])]))
    except (AverageError, PretrainedError, TrainError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sc = final["shift_consistency"]["circular"]
    print(f"{args.name} (started {started}): top-1 {100 * final['top1']:.2f} % on {final['n_test']} images "
          f"(with the averaged statistics {100 * final['top1_with_averaged_statistics']:.2f} %), shift consistency "
          f"circular {', '.join(f'k={k}: {100 * v:.1f} %' for k, v in sc.items())}; {final['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
