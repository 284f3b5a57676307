"""Evaluation: top-1 / top-5 and shift consistency.

    python -m core.evaluate --model NAME [--weights FILE] --data ROOT [--split test|val] [--limit N]

NAME is a pretrained entry (``core.pretrained.ENTRIES``: lscat_skip_cifar10, lscat_skip_imagenette,
...) or a registry model (``core.models.list_models()``). Without ``--weights`` the shipped weights
are loaded through ``core.pretrained.load`` (checksum verified); where NAME's own weights are not
shipped yet, its interim stand-in is (``core.pretrained.resolve``: lscat_skip_cifar10_small for
lscat_skip_cifar10), and a note on stderr says so. With ``--weights``, a safetensors file (its JSON
card beside it, if any, says which architecture to build and is checked against the file's sha256).

Images are preprocessed with the weights' transforms (``core.pretrained.Entry.transforms``: shorter
side to the input size, centre square, the entry's mean / std), as the demo does. Prints top-1 and
top-5, the shift-consistency table, and as its last line one JSON object.

Shift consistency: the fraction of images whose predicted class is unchanged when the image is
translated by a random integer shift tau = (dy, dx), |dy|, |dx| <= k, tau != 0 (one shift per image,
drawn from a seeded generator, the same shifts for both boundary modes), for k = 1, 2, 4 and for
circular shifts and zero-padded shifts (``core.analysis.translate``, applied to the [0, 1] image
before normalization, so "zero" brings in black pixels).

Python API: ``evaluate(name, data, ...)`` (what the CLI prints last, as a dict), and
``run_evaluation(model, batches, ...)`` on any iterable of (uint8 images, labels).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

from core.analysis import translate
from core.cli import HelpFormatter, pick_device
from core.data import MEAN, STD, Preprocess, normalize, tensor_batches

MODES = ("circular", "zero")
__all__ = ["run_evaluation", "evaluate", "load_model", "tensor_batches", "HelpFormatter", "main"]


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


def shift_images(x: torch.Tensor, taus: torch.Tensor, mode: str) -> torch.Tensor:
    """Translate image i of x (B, C, H, W) by taus[i] = (dy, dx) with core.analysis.translate."""
    out = torch.empty_like(x)
    uniq, inverse = torch.unique(taus, dim=0, return_inverse=True)
    for j, (dy, dx) in enumerate(uniq.tolist()):
        sel = (inverse == j).nonzero().squeeze(1).to(x.device)
        out[sel] = translate(x[sel], (float(dy), float(dx)), mode)
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
    ``python -m core.evaluate`` agree. ``per_image``: also ``correct``, one bool per image in order
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


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


class EvalError(RuntimeError):
    pass


def load_model(name: str, weights: str | None) -> tuple[torch.nn.Module, dict, str, Preprocess]:
    """(model in eval mode, card, where the weights came from, preprocessing) for a pretrained entry
    or a registry name, through ``core.pretrained.load``."""
    from core import pretrained

    if weights is None:
        if name not in pretrained.ENTRIES:
            raise EvalError(f"{name!r} has no shipped weights (pretrained entries: {', '.join(pretrained.ENTRIES)});"
                            " pass --weights FILE")
        chosen = pretrained.resolve(name)
        if chosen is None:
            have = pretrained.available()
            raise EvalError(f"no weights for {name} in {pretrained.PRETRAINED_DIR} (looked for "
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


def evaluate(model_name: str, data: str, weights: str | None = None, split: str | None = None,
             limit: int | None = None, dataset: str | None = None, batch_size: int = 250, device: str = "auto",
             shifts=(1, 2, 4), seed: int = 0, workers: int = 4, progress: bool = True,
             per_image: bool = False) -> dict:
    """What the CLI prints as its last line, as a dict (with ``correct`` per image if ``per_image``)."""
    from torch.utils.data import DataLoader, Subset

    from core.data import collate_uint8, open_dataset

    t0 = time.time()
    model, card, source, pre = load_model(model_name, weights)
    dataset = dataset or card.get("dataset")
    if dataset is None:
        raise EvalError("cannot tell the data set from the model; pass --dataset cifar10|imagenette|folder")
    split = split or ("val" if dataset in ("imagenette", "folder") else "test")
    device = pick_device(device)
    model = model.to(device)
    ds = open_dataset(dataset, data, split)
    n_classes = getattr(model, "num_classes", None) or getattr(getattr(model, "fc", None), "out_features", None)
    if n_classes is not None and len(getattr(ds, "classes", [])) not in (0, n_classes):
        raise EvalError(f"the data has {len(ds.classes)} classes but the model predicts {n_classes}")
    ds.transform = pre.to_uint8
    if limit is not None:
        if limit < 1:
            raise EvalError("--limit must be >= 1")
        ds = Subset(ds, torch.randperm(len(ds), generator=torch.Generator().manual_seed(0))[:limit].tolist())
    loader = DataLoader(ds, batch_size=batch_size, num_workers=workers, collate_fn=collate_uint8)
    res = run_evaluation(model, loader, device=device, shifts=shifts, seed=seed, progress=progress,
                         total=len(loader), mean=pre.mean, std=pre.std, per_image=per_image)
    return {"model": model_name, "weights": source, "entry": card.get("name"), "data": str(data), "dataset": dataset,
            "split": split, "input_size": pre.size, **res, "seconds": round(time.time() - t0, 2),
            "device": str(device), "torch": torch.__version__}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="pretrained entry or registry model (required)")
    p.add_argument("--weights", default=None, help="a .safetensors file; default: the shipped weights of --model")
    p.add_argument("--data", required=True, help="data root: CIFAR-10, Imagenette or an ImageFolder (required)")
    p.add_argument("--split", default=None, help="test or val (default: test for cifar10, val otherwise)")
    p.add_argument("--dataset", default=None, choices=["cifar10", "imagenette", "folder"],
                   help="data set kind (default: from the model card)")
    p.add_argument("--limit", type=int, default=None, help="evaluate a fixed random subset of N images (default: all)")
    p.add_argument("--batch-size", type=int, default=250, help="images per batch")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--shifts", type=int, nargs="*", default=[1, 2, 4], help="k values for shift consistency")
    p.add_argument("--seed", type=int, default=0, help="seed of the random shifts")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="DataLoader workers")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    from core.data import DataError
    from core.pretrained import PretrainedError

    try:
        if args.batch_size < 1:
            raise EvalError("--batch-size must be >= 1")
        if any(k < 1 for k in args.shifts):
            raise EvalError("--shifts values must be >= 1")
        res = evaluate(args.model, args.data, args.weights, args.split, args.limit, args.dataset, args.batch_size,
                       args.device, tuple(args.shifts), args.seed, args.workers, not args.no_progress)
    except (EvalError, DataError, PretrainedError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{res['model']} on {res['dataset']} {res['split']} ({res['n']} images, {res['input_size']} px, "
          f"{res['weights']})")
    print(f"top-1 {100 * res['top1']:.2f}%   top-5 {100 * res['top5']:.2f}%   loss {res['loss']:.4f}")
    for mode, row in res["shift_consistency"].items():
        print(f"shift consistency, {mode:8s} " + "  ".join(f"k={k}: {100 * v:.2f}%" for k, v in row.items()))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
