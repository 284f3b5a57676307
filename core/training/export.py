"""What leaves a run: the weights rounded as exported, and the model card that says how they were made
(recipe, data, final metrics, hardware, commit) and how they measure.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import torch

from core.data import holdout_spec
from core.provenance import commit, cpu_name
from core.runtime import usable_cpus
from core.training.errors import TrainError


def environment(device: torch.device, world: int) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({usable_cpus()} cores usable)"
    return {"device": name, "cpu": cpu_name(), "threads": torch.get_num_threads(), "world_size": world,
            "torch": torch.__version__, "commit": commit(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


def hardware(env: dict, cfg: dict) -> str:
    """One line for a card: where a run trained and on which step path, e.g. "AMD EPYC, CPU (2 cores
    visible), 2 torch threads, bf16 autocast, compiled"."""
    steps = ("bf16 autocast" if cfg["bf16"] else "fp32") + (", compiled" if cfg["compile"] else ", eager")
    where = env["device"] if env["device"].startswith("CPU") else f"{env['device']} x {env['world_size']}"
    threads = f", {env['threads']} torch threads" if "threads" in env else ""
    return f"{env.get('cpu', 'unknown CPU')}, {where}{threads}, {steps}"


def rounded_copy(model: torch.nn.Module, half: bool) -> torch.nn.Module:
    """A float32 copy in eval mode whose weights went through fp16 (what the exported file holds)."""
    m = copy.deepcopy(model).float().eval()
    if half:
        sd = {k: v.half().float() if v.is_floating_point() else v for k, v in m.state_dict().items()}
        m.load_state_dict(sd)
    return m.to(memory_format=torch.contiguous_format)


def check_export(name: str, cfg: dict):
    """The pretrained entry ``--export name`` writes, checked against the run's model. ``train`` calls it
    before the first step, so that a misspelt or mismatched name fails at once, not after hours."""
    from core import weights as pretrained

    if name not in pretrained.ENTRIES:
        raise TrainError(f"--export {name!r}: not a pretrained entry ({', '.join(pretrained.ENTRIES)})")
    entry = pretrained.ENTRIES[name]
    if entry.model != cfg["model"]:
        raise TrainError(f"--export {name}: the entry is a {entry.model}, this run trains a {cfg['model']}")
    return entry


def card_record(cfg: dict, final: dict, env: dict, averaged: bool = False) -> dict:
    """What every model card records of how its weights were made and how they measure: the recipe,
    the data, the final metrics (``final`` as ``finish`` writes it: top1, top5, loss, n_test, eval_split,
    shift_consistency, params, data), which split its choices used (:func:`selection`) and where it
    ran (``env`` from :func:`environment`). ``averaged``: the card of a weight average."""
    return {"recipe_name": cfg["name"], "recipe": cfg, "data": final["data"], "top1": final["top1"],
            "top5": final["top5"], "test_loss": final["loss"], "n_test": final["n_test"],
            "eval_split": final["eval_split"], "selection": selection(cfg, final["n_test"], averaged),
            "shift_consistency": final["shift_consistency"], "params": final["params"], "gpu": env["device"],
            "world_size": env["world_size"], "torch": env["torch"], "commit": env["commit"], "date": env["date"],
            "hardware": hardware(env, cfg)}


# The card field that says which split the choices about a set of weights used, in this order. The
# served cards made before the hold-out carry it too, written by hand (pretrained/*.json).
SELECTION_KEYS = ("split", "holdout", "quoted", "choices", "note")


def selection(cfg: dict, n_eval: int, averaged: bool = False) -> dict:
    """The card's ``selection`` field: ``split``, the split every choice from these weights' numbers
    used (the run evaluates on nothing else: with a hold-out, the test split is never opened);
    ``holdout``, which images (None: no hold-out); ``quoted``, the split whose number is quoted;
    ``choices``, what these numbers decide; ``note``, the same in a sentence."""
    quoted, hold = cfg["test_split"], holdout_spec(cfg)
    if hold is None:
        split = quoted
        note = (f"no hold-out: every evaluation of these weights was on the {quoted} split, the split their number "
                "is quoted on, so any choice taken from these numbers saw the quoted images")
    else:
        split, hold = "holdout", {**hold, "images": n_eval}
        note = (f"every evaluation of these weights was on {n_eval} images held out of {hold['of']} "
                f"(core.data.holdout); training never opened {quoted}, which is measured once, on the weights "
                f"that ship (python -m core evaluate --split {quoted})")
    choices = ["the averaging of the cycles"] if averaged else \
        ["this further cycle: its length and peak learning rate"] if cfg["init_from"] else []
    return {"split": split, "holdout": hold, "quoted": quoted,
            "choices": choices + ["whether these weights ship (better on this split)"], "note": note}


def export_model(model, cfg: dict, final: dict, meta: dict, name: str, directory, num_classes: int) -> Path:
    """Write the final weights and their model card (core.weights.save)."""
    from core import weights as pretrained

    entry = check_export(name, cfg)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    same = shapes == {k: tuple(v.shape) for k, v in pretrained.build_untrained(name).state_dict().items()}
    build = dict(entry.build)
    if not same or cfg["nonlinearity"] is not None:  # the card must describe the weights, whatever the entry says
        build = {**cfg["build"], "num_classes": num_classes}
        if cfg["nonlinearity"] is not None:
            build["nonlinearity"] = cfg["nonlinearity"]
        print(f"note: {name} is exported with build {build}, not the entry's {entry.build}", flush=True)
    card = {"build": build, "input_size": cfg["test_size"], "description": entry.description,
            **card_record(cfg, final, meta["env"]), "command": meta["commands"],
            "metric_note": "final epoch's weights (not the best epoch), fp32 evaluation of the weights as stored",
            "last_epoch": final["last_epoch"], "epochs": final["epochs"], "wall_time_s": final["wall_s"],
            "train_img_s": final["train_img_s_median"]}
    if meta.get("init_from"):
        card["init_from"] = meta["init_from"]
    pretrained.save(rounded_copy(model, False).cpu(), name, card, half=cfg["export_half"], directory=directory)
    return Path(directory or pretrained.store.PRETRAINED_DIR) / f"{name}.json"
