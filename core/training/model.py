"""The run's model: built from the configuration, warm-started from earlier weights (``init_from``),
its parameter groups for weight decay, and a finished run's model loaded back from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from core import data as D
from core.experiments.tables import ROOT
from core.training.checkpoint import load_checkpoint
from core.training.errors import TrainError


def build(cfg: dict, num_classes: int) -> torch.nn.Module:
    """The run's model (``cfg["model"]`` with ``cfg["build"]`` and ``cfg["nonlinearity"]``), freshly initialized."""
    from core.models import build_model

    kw = dict(cfg["build"])
    kw.setdefault("num_classes", num_classes)
    if kw["num_classes"] != num_classes:
        raise TrainError(f"build.num_classes={kw['num_classes']} but the data has {num_classes} classes")
    try:
        return build_model(cfg["model"], nonlinearity=cfg["nonlinearity"], **kw)
    except (TypeError, ValueError) as e:
        raise TrainError(f"cannot build {cfg['model']} with {kw} / nonlinearity {cfg['nonlinearity']}: {e}") from None


def warm_start(model: torch.nn.Module, cfg: dict) -> dict:
    """Copy the weights named by ``cfg["init_from"]`` (a pretrained entry, sha256 verified, or a
    .safetensors export with its card) into the freshly built ``model``; the architectures must be the
    same. Returns what the run started from, for final.json and the card: the file, its sha256, and
    the earlier run's recipe, epochs, wall time and top-1 as its card records them."""
    from core import weights as pretrained

    source = cfg["init_from"]
    try:
        if source in pretrained.ENTRIES:
            start, card = pretrained.load(source)
            path = pretrained.weights_path(source)
        else:
            path = Path(source)
            start, card = pretrained.load(cfg["model"], weights=path)
    except pretrained.PretrainedError as e:
        raise TrainError(f"init_from {source!r}: {e}") from None
    if card.get("model", cfg["model"]) != cfg["model"]:
        raise TrainError(f"init_from {source!r} holds a {card['model']}, this run trains a {cfg['model']}")
    check_same_holdout(cfg, card.get("recipe") or {}, f"init_from {source!r}")
    try:
        model.load_state_dict(start.state_dict(), strict=True)
    except RuntimeError as e:
        raise TrainError(f"init_from {source!r} does not fit {cfg['model']} {cfg['build']}: "
                         f"{str(e).splitlines()[0]}") from None
    path = path.resolve()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path  # no machine's paths in the repository
    digest = card.get("sha256") or pretrained.sha256(path)  # a card's sha256 was just verified by load()
    return {"source": source, "file": str(shown), "sha256": digest,
            **{k: card[k] for k in ("recipe_name", "epochs", "wall_time_s", "top1", "commit") if k in card}}


def check_same_holdout(cfg: dict, start: dict, source: str) -> None:
    """A run with a hold-out may start from (or average) only weights whose recipe (``start``, from
    their card) held out the same images: weights trained on them would be judged on images they have
    seen. ``source`` names those weights in the error."""
    if cfg["holdout"] is None or not start:
        return
    theirs = {"dataset": start.get("dataset"), **(D.holdout_spec(start) or {"holdout": None})}
    ours = {"dataset": cfg["dataset"], **D.holdout_spec(cfg)}
    if theirs != ours:
        raise TrainError(f"{source} was trained with {theirs}, this run holds out {ours}: those weights have seen "
                         "images this run evaluates on; use weights of the same hold-out")


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on Conv2d, Linear and P (ComplexLinear) weights only."""
    from core.nn.blocks import ComplexLinear

    decay = set()
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, ComplexLinear)) and m.weight.requires_grad:
            decay.add(id(m.weight))
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if id(p) in decay], "weight_decay": weight_decay},
            {"params": [p for p in params if id(p) not in decay], "weight_decay": 0.0}]


def load_trained(out_dir, device="cpu") -> tuple[torch.nn.Module, dict]:
    """The model of the run in ``out_dir`` with the weights of its checkpoint (the last saved: the
    final weights of a finished run), in eval mode, and the run's configuration."""
    state = load_checkpoint(Path(out_dir) / "checkpoint.pt")
    cfg = json.loads(state["config"])
    heads = [v for k, v in state["model"].items() if k.endswith("fc.bias")]
    num_classes = cfg["build"].get("num_classes") or (len(heads[-1]) if heads else D.NUM_CLASSES[cfg["dataset"]])
    model = build(cfg, num_classes)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), cfg
