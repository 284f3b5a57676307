"""Evaluation: top-1 / top-5 and shift consistency.

    python -m core evaluate --model NAME [--weights FILE] --data ROOT [--split test|val|holdout] [--limit N]

NAME is a pretrained entry (``core.weights.ENTRIES``: lscat_skip_cifar10, lscat_skip_imagenette,
...) or a registry model (``core.models.list_models()``). Without ``--weights`` the shipped weights
are loaded through ``core.weights.load`` (checksum verified); where NAME's own weights are not
shipped yet, its interim stand-in is (``core.weights.resolve``: lscat_skip_cifar10_small_long for
lscat_skip_cifar10), and a note on stderr says so. With ``--weights``, a safetensors file (its JSON
card beside it, if any, says which architecture to build and is checked against the file's sha256).

``--split holdout`` evaluates the hold-out that the weights' recipe (in their card) carved from its
training split (``core.data.holdout``): the images every choice about those weights was made on. It
reproduces the final numbers of a run with a hold-out; the test / val split is the quoted one.

Images are preprocessed with the weights' transforms (``core.weights.Entry.transforms``: shorter
side to the input size, centre square, the entry's mean / std), as the demo does. Prints top-1 and
top-5, the shift-consistency table, and as its last line one JSON object.

Shift consistency: the fraction of images whose predicted class is unchanged when the image is
translated by a random integer shift tau = (dy, dx), |dy|, |dx| <= k, tau != 0 (one shift per image,
drawn from a seeded generator, the same shifts for both boundary modes), for k = 1, 2, 4 and for
circular shifts and zero-padded shifts (``core.analysis.shifts.translate``, applied to the [0, 1] image
before normalization, so "zero" brings in black pixels).

Python API: ``evaluate(name, data, ...)`` (what the CLI prints last, as a dict), and
``run_evaluation(model, batches, ...)`` on any iterable of (uint8 images, labels).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from core.analysis.shifts import MODES, shift_images
from core.data import MEAN, STD, Preprocess, normalize
from core.files import write_atomic
from core.nn.distributed import is_dist
from core.provenance import commit
from core.runtime import pick_device
from core.weights.store import card_split


def random_shifts(n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) integer shifts, uniform over {-k..k}^2 minus (0, 0)."""
    side = 2 * k + 1
    code = torch.randint(0, side * side - 1, (n,), generator=generator)
    code = code + (code >= (side * side) // 2).long()  # skip the centre, (0, 0)
    return torch.stack([code // side - k, code % side - k], 1)


class ShiftStream:
    """Random shifts for one k, one per image in data order, the same whatever the batch sizes (drawn
    from a generator of its own, seeded by (seed, k), in fixed blocks)."""

    BLOCK = 1024

    def __init__(self, k: int, seed: int = 0):
        self.k, self.g = k, torch.Generator().manual_seed(seed * 1_000_003 + k)
        self.buffer = torch.empty(0, 2, dtype=torch.int64)

    def take(self, n: int) -> torch.Tensor:
        while len(self.buffer) < n:
            self.buffer = torch.cat([self.buffer, random_shifts(self.BLOCK, self.k, self.g)])
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out


def _logits(model, x01: torch.Tensor, amp: bool, mean=MEAN, std=STD) -> torch.Tensor:
    with torch.autocast(x01.device.type, dtype=torch.bfloat16, enabled=amp):
        return model(normalize(x01, mean, std)).float()


@torch.no_grad()
def run_evaluation(model, batches, *, device="cpu", shifts=(1, 2, 4), modes=MODES, seed: int = 0,
                   amp: bool = False, progress: bool = False, total: int | None = None, mean=MEAN,
                   std=STD, per_image: bool = False) -> dict:
    """Top-1 / top-5 / mean loss over ``batches`` of (uint8 (B, 3, H, W), int labels), normalized with
    ``mean`` / ``std`` (on the [0, 1] scale) after any shift, and shift
    consistency for each k in ``shifts`` and each mode. Labels < 0 are ignored (padding). Image i gets
    the same shifts whatever the batching (:class:`ShiftStream`), so training's final evaluation and
    ``python -m core evaluate`` agree. ``per_image``: also ``correct``, one bool per image in order
    (whether its top-1 is right), for paired comparisons of two models on the same images."""
    from tqdm import tqdm

    device = torch.device(device)
    streams = {k: ShiftStream(k, seed) for k in shifts}
    n = c1 = c5 = 0
    loss = 0.0
    agree = {m: {k: 0 for k in shifts} for m in modes}
    hits = []
    for xb, yb in tqdm(batches, total=total, disable=not progress, desc="evaluating", unit="batch", leave=False):
        keep = yb >= 0
        x = xb[keep].to(device).float() / 255
        y = yb[keep].to(device)
        if len(y) == 0:
            continue
        logits = _logits(model, x, amp, mean, std)
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        pred = top[:, 0]
        c1 += int((pred == y).sum())
        if per_image:
            hits += (pred == y).tolist()
        c5 += int((top == y[:, None]).any(1).sum())
        loss += float(F.cross_entropy(logits, y, reduction="sum"))
        n += len(y)
        for k in shifts:
            taus = streams[k].take(len(y))
            for m in modes:
                shifted = _logits(model, shift_images(x, taus, m), amp, mean, std)
                agree[m][k] += int((shifted.argmax(1) == pred).sum())
    if n == 0:
        raise ValueError("no images to evaluate")
    return {"n": n, "top1": c1 / n, "top5": c5 / n, "loss": loss / n,
            "shift_consistency": {m: {str(k): agree[m][k] / n for k in shifts} for m in modes},
            **({"correct": hits} if per_image else {})}


class EvalError(RuntimeError):
    pass


def load_model(name: str, weights: str | None) -> tuple[torch.nn.Module, dict, str, Preprocess]:
    """(model in eval mode, card, where the weights came from, preprocessing) for a pretrained entry
    or a registry name, through ``core.weights.load``."""
    from core import weights as pretrained

    if weights is None:
        if name not in pretrained.ENTRIES:
            raise EvalError(f"{name!r} has no shipped weights (pretrained entries: {', '.join(pretrained.ENTRIES)});"
                            " pass --weights FILE")
        chosen = pretrained.resolve(name)
        if chosen is None:
            have = pretrained.available()
            raise EvalError(f"no weights for {name} in {pretrained.store.PRETRAINED_DIR} (looked for "
                            f"{', '.join(pretrained.sources(name))}); weights present: {', '.join(have) or 'none'}; "
                            "pass --weights FILE or --model with one of those")
        if chosen != name:
            print(f"note: {name}'s own weights are not trained yet; evaluating its stand-in {chosen} "
                  f"({pretrained.ENTRIES[chosen].description})", file=sys.stderr)
        model, card = pretrained.load(chosen)
        source = f"shipped weights pretrained/{chosen}.safetensors"
    else:
        model, card = pretrained.load(name, weights=weights)
        source = str(weights)
        chosen = name
    entry = pretrained.ENTRIES.get(card.get("name") or chosen)
    if entry is not None:
        pre = entry.transforms(card)
    else:
        pre = Preprocess(int(card.get("input_size") or getattr(model, "input_size", 32)),
                         card.get("mean") or MEAN, card.get("std") or STD)
    return model, card, source, pre


def open_split(dataset: str, data: str, split: str, card: dict):
    """(data set, hold-out) for ``split``: the split itself and None, or for "holdout" the training
    split that the card's recipe carved its hold-out from and what that hold-out is (``of``,
    ``holdout``, ``seed``, and the ``indices`` of its images)."""
    from core.data import carve, holdout_spec, open_dataset

    if split != "holdout":
        return open_dataset(dataset, data, split), None
    spec = holdout_spec(card.get("recipe"))
    if spec is None:
        raise EvalError(f"--split holdout: the card of {card.get('name') or 'these weights'} records no hold-out "
                        "(they were trained on every image of their training split); evaluate --split test or val")
    ds = open_dataset(dataset, data, spec["of"])
    return ds, {**spec, "indices": carve(ds, spec["holdout"], spec["seed"])[1].tolist()}


def evaluate(model_name: str, data: str, weights: str | None = None, split: str | None = None,
             limit: int | None = None, dataset: str | None = None, batch_size: int = 250, device: str = "auto",
             shifts=(1, 2, 4), seed: int = 0, workers: int = 4, progress: bool = True,
             per_image: bool = False) -> dict:
    """What the CLI prints as its last line, as a dict (with ``correct`` per image if ``per_image``).
    ``split="holdout"``: the hold-out that the weights' recipe (their card) carves from its training split."""
    from torch.utils.data import DataLoader, Subset

    from core.data import collate_uint8, set_transform

    t0 = time.time()
    model, card, source, pre = load_model(model_name, weights)
    dataset = dataset or card.get("dataset")
    if dataset is None:
        raise EvalError("cannot tell the data set from the model; pass --dataset cifar10|imagenette|folder")
    split = split or ("val" if dataset in ("imagenette", "folder") else "test")
    device = pick_device(device)
    model = model.to(device)
    ds, holdout = open_split(dataset, data, split, card)
    n_classes = getattr(model, "num_classes", None) or getattr(getattr(model, "fc", None), "out_features", None)
    if n_classes is not None and len(getattr(ds, "classes", [])) not in (0, n_classes):
        raise EvalError(f"the data has {len(ds.classes)} classes but the model predicts {n_classes}")
    set_transform(ds, pre.to_uint8)
    if holdout is not None:
        ds = Subset(ds, holdout.pop("indices"))
    if limit is not None:
        if limit < 1:
            raise EvalError("--limit must be >= 1")
        ds = Subset(ds, torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))[:limit].tolist())
    loader = DataLoader(ds, batch_size=batch_size, num_workers=workers, collate_fn=collate_uint8)
    res = run_evaluation(model, loader, device=device, shifts=shifts, seed=seed, progress=progress,
                         total=len(loader), mean=pre.mean, std=pre.std, per_image=per_image)
    return {"model": model_name, "weights": source, "entry": card.get("name"), "data": str(data), "dataset": dataset,
            "split": split, "holdout": holdout, "input_size": pre.size, **res, "seconds": round(time.time() - t0, 2),
            "device": str(device), "torch": torch.__version__}
def card_file(name: str, weights: str | None) -> Path:
    """The card of the weights ``core evaluate`` measures: beside ``weights``, or the shipped one of ``name``."""
    from core import weights as pretrained

    if weights is not None:
        return Path(weights).with_suffix(".json")
    return pretrained.card_path(pretrained.resolve(name) or name)


QUOTED_KEYS = ("split", "top1", "top5", "loss", "n", "shift_consistency", "weights", "device", "torch")


def record_quoted(card_file: Path, res: dict) -> dict:
    """Write ``res`` (an evaluation of the whole quoted split) into the card at ``card_file`` as its
    ``quoted_result``, with the date and commit: the one measurement of val / test for weights whose
    choices were made on a hold-out (``core evaluate --record``). Refused for weights without a
    hold-out (their top1 already is the quoted split's), for another split, and a second time."""
    card = json.loads(Path(card_file).read_text())
    quoted = (card.get("selection") or {}).get("quoted")
    if card_split(card) != "holdout":
        raise EvalError(f"--record: {card_file} was evaluated on {card_split(card)} during training (no hold-out): "
                        "its top1 already is that split's number")
    if res["split"] != quoted:
        raise EvalError(f"--record: the quoted split of these weights is {quoted!r}, not {res['split']!r}")
    if "quoted_result" in card:
        done = card["quoted_result"]
        raise EvalError(f"--record: {quoted} was already measured for these weights ({done.get('date')}, commit "
                        f"{done.get('commit')}): the quoted split is measured once, on the weights that ship")
    card["quoted_result"] = {**{k: res[k] for k in QUOTED_KEYS}, "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                       time.gmtime()),
                             "commit": commit()}
    write_atomic(Path(card_file), json.dumps(card, indent=2) + "\n")
    return card


@torch.no_grad()
def eval_epoch(model, loader, amp: bool, prefix: str = "test") -> dict:
    """Top-1 / top-5 / loss on a padded loader (labels -1 ignored), summed over ranks, as
    ``{prefix}_top1``, ``{prefix}_top5``, ``{prefix}_loss`` (prefix: the split, "test" or "holdout")."""
    model.eval()
    dev_sums = None
    for x, y in loader:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x).float()
        valid = y >= 0
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        loss = F.cross_entropy(logits, y.clamp_min(0), reduction="none")
        s = torch.stack([((top[:, 0] == y) & valid).sum().float(), ((top == y[:, None]).any(1) & valid).sum().float(),
                         (loss * valid).sum(), valid.sum().float()])
        dev_sums = s if dev_sums is None else dev_sums + s
    if is_dist():
        torch.distributed.all_reduce(dev_sums)
    c1, c5, loss, n = dev_sums.tolist()
    return {f"{prefix}_top1": c1 / n, f"{prefix}_top5": c5 / n, f"{prefix}_loss": loss / n}
