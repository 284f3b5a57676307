"""Data sets for training and evaluation: CIFAR-10, Imagenette or an image folder, decoded once into
uint8 tensors.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.data.transforms import CIFAR10_CLASSES, IMAGENETTE_WNIDS, Preprocess
from core.runtime import usable_cpus

DATASETS = ("cifar10", "imagenette", "folder")


NUM_CLASSES = {"cifar10": 10, "imagenette": 10}


class DataError(RuntimeError):
    """A data root is missing or not laid out as expected (the message says what was looked for)."""


def _split_dir(root: Path, split: str) -> Path | None:
    """The ImageFolder directory for ``split`` under ``root``, accepting val <-> test as synonyms."""
    names = [split] + {"val": ["test"], "test": ["val"]}.get(split, [])
    for base in (root, root / "cifar10-jpeg", root / "imagenette2-160"):
        for name in names:
            if (base / name).is_dir():
                return base / name
    return None


def open_dataset(dataset: str, root: str | Path, split: str, download: bool = False):
    """A torchvision data set (items: PIL image, int label) for ``split`` ("train", "test" or "val").

    cifar10: ``ROOT/cifar-10-batches-py`` (torchvision's format; ``download=True`` fetches it), or an
    ImageFolder at ``ROOT/{train,test}``, ``ROOT/cifar10-jpeg/{train,test}`` (the JPEG copy).
    imagenette: ``ROOT/imagenette2-160/{train,val}`` through ``torchvision.datasets.Imagenette``
    (``download=True`` fetches the 160 px version), or an ImageFolder at ``ROOT/{train,val}``.
    folder: an ImageFolder at ``ROOT/<split>``.
    """
    import torchvision

    if dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    root = Path(root).expanduser()
    if not download and not root.is_dir():
        raise DataError(f"data root {root} does not exist")
    train = split == "train"
    if dataset == "cifar10" and (download or (root / "cifar-10-batches-py").is_dir()):
        try:
            return torchvision.datasets.CIFAR10(str(root), train=train, download=download)
        except Exception as e:  # network errors, bad archives
            raise DataError(f"could not open CIFAR-10 at {root}: {e}") from None
    if dataset == "imagenette" and (download or (root / "imagenette2-160").is_dir()):
        try:
            return torchvision.datasets.Imagenette(str(root), split="train" if train else "val", size="160px",
                                                   download=download and not (root / "imagenette2-160").is_dir())
        except Exception as e:
            raise DataError(f"could not open Imagenette (160px) at {root}: {e}") from None
    folder = _split_dir(root, split)
    if folder is None:
        raise DataError(f"no '{split}' folder under {root} (looked for {root}/{split}, {root}/cifar10-jpeg/{split}, "
                        f"{root}/imagenette2-160/{split}; 'val' and 'test' are interchangeable)")
    try:
        ds = torchvision.datasets.ImageFolder(str(folder))
    except (FileNotFoundError, OSError) as e:
        raise DataError(f"{folder} is not an image folder: {e}") from None
    expected = {"cifar10": list(CIFAR10_CLASSES), "imagenette": list(IMAGENETTE_WNIDS)}.get(dataset)
    if expected is not None and ds.classes != expected:
        raise DataError(f"{folder} has classes {ds.classes[:4]}...; expected the {dataset} classes {expected[:4]}...")
    return ds


_DECODED: dict = {}


def fixed_subset(n: int, limit: int | None) -> torch.Tensor:
    """Indices of a fixed random subset of ``limit`` of ``n`` items (all of them, in order, if ``limit``
    is None): the first ``limit`` of a permutation seeded by 0, so that a small subset has every class."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(0))[:limit] if limit else torch.arange(n)


def set_transform(ds, transform) -> None:
    """Set the transform of a torchvision data set, or of the one under a ``Subset`` (a hold-out)."""
    while hasattr(ds, "dataset") and hasattr(ds, "indices"):
        ds = ds.dataset
    ds.transform = transform


def decode(ds, size: int, limit: int | None = None, workers: int | None = None,
           progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode a data set once: (uint8 (N, 3, size, size), int64 (N,)) on the CPU.

    Images that are not size x size are resized (shorter side) and centre-cropped, exactly as
    ``preprocess`` does for one image. ``limit`` keeps the first N images of a fixed random
    permutation (so that a small subset still has every class). Results are cached per process.
    """
    key = (type(ds).__name__, str(getattr(ds, "root", "")), getattr(ds, "train", None), getattr(ds, "_split", None),
           len(ds), size, limit)
    if key in _DECODED:
        return _DECODED[key]
    order = fixed_subset(len(ds), limit)
    data = getattr(ds, "data", None)
    if data is not None and tuple(data.shape[1:]) == (size, size, 3):  # torchvision CIFAR10: numpy NHWC
        images = torch.from_numpy(data[order.numpy()]).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor(ds.targets)[order]
    else:
        from concurrent.futures import ThreadPoolExecutor

        from tqdm import tqdm

        def load(i):
            img, label = ds[int(i)]
            return Preprocess(size).to_uint8(img), label

        workers = workers or min(16, usable_cpus())
        with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding
            items = list(tqdm(pool.map(load, order.tolist(), chunksize=64), total=len(order), disable=not progress,
                              desc="decoding", unit="img", leave=False))
        images = torch.stack([im for im, _ in items])
        labels = torch.tensor([lab for _, lab in items], dtype=torch.int64)
    _DECODED[key] = (images, labels)
    return images, labels


def collate_uint8(batch):
    return torch.stack([b[0] for b in batch]), torch.tensor([b[1] for b in batch], dtype=torch.int64)
