"""Weight averaging over the ends of warm-restarted cycles (SWA): ``python -m core average NAME --data ROOT``.

Stochastic weight averaging (Izmailov, Podoprikhin, Garipov, Vetrov, Wilson, "Averaging Weights Leads
to Wider Optima and Better Generalization", UAI 2018) with a cyclical learning rate: the weights at
the end of each cycle, where the learning rate is low, are averaged, and the normalization
statistics are recomputed for the averaged weights. Our CPU photo model was trained in such cycles
(each warm-started from the previous one, docs/runs/), so the cycles' shipped weights are the
points to average, at no further training.

    python -m core average lscat_skip_imagenette_small_swa --data .data/nette \
        --out runs/average_lscat_skip_imagenette_small_swa --export-dir runs/export_lscat_skip_imagenette_small_swa

Steps (``make_average``): load the sources (pretrained entries, sha256 verified; each must be a cycle
of the same run, i.e. on the ``init_from`` lineage of the last one); average every floating-point
tensor of their state dicts (float64, then the model's dtype); recompute the running statistics of
every normalization layer (BatchNorm2d and the scattering blocks' Std) with one pass over the
training set in train mode, with the training augmentation, batch size, seed and precision of the
entry's recipe (the last cycle's), each batch weighted equally (torch.optim.swa_utils.update_bn does the same, but knows
only BatchNorm); evaluate the result as training's final evaluation does (fp32, after rounding to the
exported precision, with shift consistency, on the whole evaluation split: the recipe's hold-out
when it has one, never touching the test split then, else the test split); write ``out/final.json``
and export the weights with a model card.

Whether an average ships is decided by comparing it with the last cycle on the same split
(``final.json``'s ``sources`` carry each cycle's top-1 and the split it was measured on; the CLI prints
the comparison): on the hold-out when the recipe has one.

Why recompute the statistics: the running means and variances of the sources describe the activations
of the sources, not those of the averaged weights (SWA, section 3.2). The averaged weights are
also evaluated once with the averaged statistics (``top1_with_averaged_statistics`` in final.json),
to show what the pass changes.

Integer buffers (BatchNorm's ``num_batches_tracked``) are taken from the last source: nothing reads
them (every BatchNorm here has a momentum).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import torch
from torch import nn

from core.files import write_atomic
from core.nn.blocks import ComplexStandardization
from core.runtime import pick_device

STATISTICS = (nn.modules.batchnorm._BatchNorm, ComplexStandardization)  # layers with running statistics


class AverageError(RuntimeError):
    """Sources that cannot be averaged (missing, different architectures, not one run)."""


def lineage(name: str) -> list[str]:
    """The catalog entries a model was trained through, first cycle first, ending with ``name``: each
    card records the weights its run started from (``init_from.source``), so this is what happened,
    not only what the recipes declare."""
    from core import weights as pretrained

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


def load_sources(name: str, sources: tuple[str, ...], entry, cfg: dict) -> tuple[list, list[str]]:
    """The weights ``sources`` (what ``name`` averages), loaded and checked: present, cycles of one run (their
    cards' ``init_from`` lineage), of one architecture, and with the hold-out of the average's recipe ``cfg``
    (when it has one). Returns them and that lineage."""
    from core import weights as pretrained
    from core.training.model import check_same_holdout

    missing = [s for s in sources if s not in pretrained.available()]
    if missing:
        raise AverageError(f"{name} averages {', '.join(sources)}; not in {pretrained.store.PRETRAINED_DIR}: "
                           f"{', '.join(missing)}")
    chain = lineage(sources[-1])
    if not set(sources) <= set(chain):
        raise AverageError(f"{name}'s sources are not all cycles of one run: {sources[-1]} was trained through "
                           f"{' -> '.join(chain)}")
    loaded = [pretrained.load(s) for s in sources]
    for (_, card), s in zip(loaded, sources):
        if card["model"] != entry.model or card.get("build") != loaded[-1][1].get("build"):
            raise AverageError(f"{s} is a {card['model']} {card.get('build')}, not the architecture of "
                               f"{sources[-1]}")
        check_same_holdout(cfg, card.get("recipe") or {}, s)
    return loaded, chain


def source_records(cards: dict[str, dict]) -> list[dict]:
    """What the average's final.json and card say of each source (name -> card): its file, recipe,
    epochs, and top-1 with the split it was measured on (to compare the average with on that split)."""
    from core.weights.store import card_split

    return [{"source": s, "sha256": c["sha256"], "recipe_name": c.get("recipe_name"), "epochs": c.get("epochs"),
             "top1": c.get("top1"), "eval_split": card_split(c)} for s, c in cards.items()]


def make_average(name: str, data: str, out_dir, export_dir=None, device="auto", progress: bool = True,
                 command: str | None = None) -> dict:
    """Average the weights that entry ``name`` averages (``average_of``), recompute the statistics, evaluate, write
    ``out_dir/final.json`` and export ``name`` (weights and card) to ``export_dir`` (None: no export).
    ``command`` is recorded as the command that made it (default: this Python call). Returns the final
    record."""
    from core import weights as pretrained
    from core.models import count_parameters
    from core.training.evaluate import run_evaluation
    from core.training.export import environment, rounded_copy
    from core.training.recipes import make_config
    from core.training.rundata import Data

    averages = [n for n, e in pretrained.ENTRIES.items() if e.average_of]
    if name not in averages:
        raise AverageError(f"unknown average {name!r}; defined: {', '.join(averages)}")
    t0 = time.time()
    dev = pick_device(device)
    entry = pretrained.ENTRIES[name]
    cfg = make_config(entry.recipe, data=data, device=str(dev))
    loaded, chain = load_sources(name, entry.average_of, entry, cfg)
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
    cards = {s: c for (_, c), s in zip(loaded, entry.average_of)}
    history = {n: pretrained.read_card(n) for n in chain}
    final = {
        "name": name, "top1": res["top1"], "top5": res["top5"], "loss": res["loss"], "n_test": res["n"],
        "eval_split": data_.eval_split,
        "shift_consistency": res["shift_consistency"],
        "top1_with_averaged_statistics": before["top1"],
        "sources": source_records(cards),
        "statistics": {"images": n_stats, "passes": 1, "recipe": cfg["name"], "augmentation": cfg["aug"],
                       "batch_size": cfg["batch_size"], "seed": cfg["seed"], "epoch": 0,
                       "precision": "bf16 autocast" if cfg["bf16"] else "fp32"},
        "training_epochs": sum(history[n].get("epochs", 0) for n in chain),
        "training_wall_time_s": round(sum(history[n].get("wall_time_s", 0.0) for n in chain), 1),
        "lineage": chain, "wall_s": round(time.time() - t0, 1), "params": count_parameters(model),
        "weights_precision": "fp16" if half else "fp32", "data": data_.description, "env": env,
        "command": command or f"core.training.average.make_average({name!r}, {data!r}, {str(out_dir)!r}, "
                              f"{None if export_dir is None else str(export_dir)!r})",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "final.json", json.dumps(final, indent=2) + "\n")
    if export_dir is not None:
        export_average(model, name, entry, cfg, final, env, before["top1"], chain, export_dir)
    return final


def export_average(model, name: str, entry, cfg: dict, final: dict, env: dict, top1_before: float,
                   chain: list[str], export_dir) -> None:
    """Write the averaged weights and their model card (what was averaged, the statistics pass)."""
    from core import weights as pretrained
    from core.training.export import card_record, rounded_copy

    half = cfg["export_half"]
    card = {"description": entry.description, **card_record(cfg, final, env, averaged=True),
            "command": [final["command"]],
            "metric_note": "weights averaged over the ends of the training cycles, statistics recomputed on "
                           "the training set; fp32 evaluation of the weights as stored",
            "averaged_from": final["sources"], "statistics": final["statistics"],
            "top1_with_averaged_statistics": top1_before,
            "epochs": final["training_epochs"], "training_wall_time_s": final["training_wall_time_s"],
            "wall_time_s": final["wall_s"], "lineage": chain}
    pretrained.save(rounded_copy(model, False).cpu(), name, card, half=half, directory=export_dir)
