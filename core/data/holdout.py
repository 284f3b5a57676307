"""A fixed, seeded hold-out carved from a training split: the images on which choices are made
(epochs, cycles, learning rates, averaging, which weights ship), so that the split whose number is
quoted (Imagenette's val, CIFAR-10's test) is touched once, by the weights that ship.

The hold-out is stratified: every class gives ``holdout`` of its images (a fraction in (0, 1),
rounded, at least one), or exactly ``holdout`` images when it is a whole number. Which images: for
each class in label order, a ``torch.randperm`` of that class's indices (in the data set's own
order: sorted class folders and file names for image folders, the file order for CIFAR-10) from one
CPU generator seeded by ``seed``, of which the first k are held out. It depends on nothing else (not
on the run's seed, the process, the machine's global RNG state or ``limit_train``), so every cycle of
a run, every DDP rank and ``python -m core evaluate --split holdout`` carve the same images (on any
machine with the same torch version: torch's CPU generator draws them).
"""

from __future__ import annotations

import math

import torch

from core.data.datasets import DataError


def check_holdout(value) -> None:
    """Raise ValueError (with what is allowed) unless ``value`` is None, a fraction in (0, 1) or a
    whole number >= 1 of images per class."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"holdout must be None, a fraction in (0, 1) or a number of images per class, got {value!r}")
    if isinstance(value, float) and not 0 < value < 1:
        raise ValueError(f"holdout {value!r}: a fraction must lie strictly between 0 and 1 (0.1: a tenth of each "
                         "class); a number of images per class is a whole number")
    if isinstance(value, int) and value < 1:
        raise ValueError(f"holdout {value!r}: a number of images per class must be >= 1 (None: no hold-out)")


def labels_of(ds) -> torch.Tensor:
    """The labels of a torchvision data set in its order, read without decoding an image."""
    targets = getattr(ds, "targets", None)  # ImageFolder, CIFAR10
    if targets is None and hasattr(ds, "_samples"):  # torchvision's Imagenette keeps (path, label) pairs
        targets = [label for _, label in ds._samples]
    if targets is None:
        raise DataError(f"cannot read the labels of a {type(ds).__name__} without decoding it: no hold-out possible")
    return torch.as_tensor(targets, dtype=torch.int64)


def per_class(counts: torch.Tensor, holdout) -> torch.Tensor:
    """How many images each class holds out, given its number of training images ``counts``."""
    check_holdout(holdout)
    if isinstance(holdout, float):
        k = torch.tensor([max(1, math.floor(holdout * int(n) + 0.5)) for n in counts])
    else:
        k = torch.full_like(counts, holdout)
    short = [(c, int(n)) for c, n in enumerate(counts) if k[c] >= n]
    if short:
        c, n = short[0]
        raise DataError(f"holdout {holdout!r} holds out {int(k[c])} of the {n} training image(s) of class {c}, leaving "
                        f"none to train on ({len(short)} class(es) so); use a smaller hold-out")
    return k


def split_holdout(labels: torch.Tensor, holdout, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, hold-out indices) into a data set with these ``labels``, each ascending;
    together every index once. See the module docstring for which images are held out."""
    labels = torch.as_tensor(labels, dtype=torch.int64)
    classes = torch.unique(labels)  # ascending
    members = [torch.nonzero(labels == c).flatten() for c in classes]
    k = per_class(torch.tensor([len(m) for m in members]), holdout)
    g = torch.Generator().manual_seed(seed)
    held = torch.cat([m[torch.randperm(len(m), generator=g)[:kc]] for m, kc in zip(members, k.tolist())])
    mask = torch.zeros(len(labels), dtype=torch.bool)
    mask[held] = True
    return torch.nonzero(~mask).flatten(), torch.nonzero(mask).flatten()


def carve(ds, holdout, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, hold-out indices) of the torchvision data set ``ds`` (:func:`split_holdout`)."""
    return split_holdout(labels_of(ds), holdout, seed)


def holdout_spec(recipe: dict) -> dict | None:
    """Which hold-out a training configuration (or a card's recorded ``recipe``) carves: the split it
    is carved from (``of``), ``holdout`` and ``seed``; None when it has none (a recipe recorded before
    the hold-out existed has none)."""
    if (recipe or {}).get("holdout") is None:
        return None
    return {"of": recipe.get("train_split", "train"), "holdout": recipe["holdout"],
            "seed": recipe.get("holdout_seed", 0)}
