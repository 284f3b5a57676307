"""Data: normalization constants, single-image preprocessing, and the data sets for training.

Every model takes images normalized with the ImageNet mean and standard deviation, for every data
set (CIFAR-10 included), as in the reference code (SPEC §3). ``preprocess`` (one PIL image -> model
input) is what the demo uses; the second half of this file (``open_dataset``, ``decode``,
``GpuLoader``, ``FolderLoader`` and the on-device augmentations) is what training and evaluation use.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Imagenette's wnids in sorted order (the ImageFolder label order) and their names.
IMAGENETTE_WNIDS = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916", "n03417042",
                    "n03425413", "n03445777", "n03888257")
IMAGENETTE_CLASSES = ("tench", "English springer", "cassette player", "chain saw", "church", "French horn",
                      "garbage truck", "gas pump", "golf ball", "parachute")


def normalize(x: torch.Tensor, mean=MEAN, std=STD) -> torch.Tensor:
    """(..., 3, H, W) in [0, 1] -> normalized."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    s = torch.tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    return (x - m) / s


def denormalize(x: torch.Tensor, mean=MEAN, std=STD) -> torch.Tensor:
    """Inverse of :func:`normalize`: normalized (..., 3, H, W) -> [0, 1] scale (not clamped)."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    s = torch.tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    return x * s + m


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB image -> float (3, H, W) in [0, 1]."""
    import numpy as np

    a = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float() / 255


def center_square(img: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` (bicubic, antialiased) and crop the centre square."""
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return img.crop((left, top, left + size, top + size))


def preprocess(img: Image.Image, size: int, mean=MEAN, std=STD) -> torch.Tensor:
    """PIL image -> normalized (1, 3, size, size) tensor, as the models expect at evaluation."""
    return normalize(to_tensor(center_square(img, size)), mean, std)[None]


# ============================================================================================
# Data sets for training and evaluation
# ============================================================================================
#
# Three sources, one interface (`open_dataset`): torchvision's CIFAR10 / Imagenette (with
# ``download=True`` for users with internet), and any ImageFolder root laid out like ImageNet
# (``ROOT/train/<class>/*``, ``ROOT/val/<class>/*`` or ``ROOT/test/...``), which covers the JPEG copy
# of CIFAR-10 in ../shared/data and an extracted Imagenette. Two paths feed the training loop:
#
# * ``GpuLoader``: small data sets are decoded once (``decode``) into a uint8 tensor on the device and
#   augmented there (``crop_flip``, ``resized_crop_flip``): no worker, no host-to-device copy per step.
# * ``folder_loader``: ImageNet-size folders go through a DataLoader with workers, and a
#   DistributedSampler under DDP.
#
# Both yield ``(x, y)`` with x normalized float (B, 3, S, S) on the device and y int64; evaluation
# batches are padded to the full batch size with label -1 (ignored by the counts), so that a
# compiled model sees one shape.

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


def _uint8_square(img, size: int) -> torch.Tensor:
    import numpy as np

    if img.size != (size, size):
        img = center_square(img, size)
    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)


_DECODED: dict = {}


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
    n = len(ds)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:limit] if limit else torch.arange(n)
    data = getattr(ds, "data", None)
    if data is not None and tuple(data.shape[1:]) == (size, size, 3):  # torchvision CIFAR10: numpy NHWC
        images = torch.from_numpy(data[order.numpy()]).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor(ds.targets)[order]
    else:
        from concurrent.futures import ThreadPoolExecutor

        from tqdm import tqdm

        def load(i):
            img, label = ds[int(i)]
            return _uint8_square(img, size), label

        workers = workers or min(16, os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding
            items = list(tqdm(pool.map(load, order.tolist(), chunksize=64), total=len(order), disable=not progress,
                              desc="decoding", unit="img", leave=False))
        images = torch.stack([im for im, _ in items])
        labels = torch.tensor([lab for _, lab in items], dtype=torch.int64)
    _DECODED[key] = (images, labels)
    return images, labels


# -- augmentation on the device (uint8 or float batches, any device) --------------------------


def pad_images(x: torch.Tensor, pad: int, mode: str = "reflect") -> torch.Tensor:
    """Pad (N, C, H, W) by ``pad`` pixels per side: "reflect" (no edge repeat) or "zero". Works on uint8."""
    if pad == 0:
        return x
    if mode == "zero":
        return F.pad(x, (pad, pad, pad, pad))
    if mode != "reflect":
        raise ValueError(f"pad mode must be 'reflect' or 'zero', got {mode!r}")

    def index(n):
        i = torch.arange(-pad, n + pad, device=x.device).abs()
        return torch.where(i > n - 1, 2 * (n - 1) - i, i)

    return x.index_select(2, index(x.shape[2])).index_select(3, index(x.shape[3]))


def crop_flip(xp: torch.Tensor, size: int, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Per-image crops ``xp[b, :, dy:dy+size, dx:dx+size]``, mirrored left-right where ``flip``, in one gather.

    xp: (B, C, H, W) (already padded); dy, dx: int (B,); flip: bool (B,). Returns (B, C, size, size)
    in channels_last memory layout."""
    ar = torch.arange(size, device=xp.device)
    rows = dy[:, None] + ar
    cols = dx[:, None] + torch.where(flip[:, None], size - 1 - ar, ar)
    b = torch.arange(xp.shape[0], device=xp.device)[:, None, None]
    return xp[b, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_crop_flip_params(n: int, pad: int, generator: torch.Generator, device) -> tuple[torch.Tensor, ...]:
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return dy, dx, flip


def resized_crop_flip(x: torch.Tensor, size: int, box: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Crop boxes resized to size x size (bilinear), mirrored where ``flip``.

    x: (B, C, H, W) uint8 or float; box: (B, 4) = (centre y, centre x, height, width) in units of
    the image (centre in [-1, 1], size in (0, 1]). Returns float (B, C, size, size) on x's scale."""
    B = x.shape[0]
    theta = torch.zeros(B, 2, 3, device=x.device, dtype=torch.float32)
    theta[:, 0, 0] = box[:, 3] * torch.where(flip, -1.0, 1.0)
    theta[:, 0, 2] = box[:, 1]
    theta[:, 1, 1] = box[:, 2]
    theta[:, 1, 2] = box[:, 0]
    grid = F.affine_grid(theta, [B, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_resized_crop_params(n: int, scale: tuple[float, float], ratio: tuple[float, float],
                               generator: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """RandomResizedCrop boxes for square images: area fraction ~ U(scale), log aspect ~ U(log ratio),
    sides clamped to the image (torchvision retries instead; the clamp keeps it one vectorized draw)."""
    u = torch.rand(n, 4, generator=generator, device=device)
    area = scale[0] + (scale[1] - scale[0]) * u[:, 0]
    logr = torch.log(torch.tensor(ratio, device=device))
    r = torch.exp(logr[0] + (logr[1] - logr[0]) * u[:, 1])
    w, h = (area * r).sqrt().clamp(max=1), (area / r).sqrt().clamp(max=1)
    cy, cx = (2 * u[:, 2] - 1) * (1 - h), (2 * u[:, 3] - 1) * (1 - w)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return torch.stack([cy, cx, h, w], 1), flip


def normalize_uint8(x: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """uint8 (or float on the 0..255 scale) (B, 3, H, W) -> normalized float32 with MEAN/STD."""
    y = normalize(x.float(), [255 * m for m in MEAN], [255 * s for s in STD])
    return y.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


class GpuLoader:
    """Batches from a data set decoded into one uint8 tensor on the device, augmented there.

    ``aug``: None (evaluation: images as they are), {"kind": "crop_flip", "pad": 4, "pad_mode": "reflect"}
    or {"kind": "resized_crop_flip", "size": 128, "scale": [0.25, 1], "ratio": [0.75, 1.333]}.
    Every rank draws the same permutation and augmentation parameters for the *global* batch
    (``batch_size``) from a generator seeded by (seed, epoch), and keeps its contiguous share, so
    that N ranks see exactly the batches of one process and an epoch is reproducible on resume.
    Training drops the last partial batch; evaluation pads it with label -1.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, train: bool,
                 aug: dict | None = None, seed: int = 0, rank: int = 0, world_size: int = 1,
                 device: str | torch.device = "cpu", channels_last: bool = False):
        if train and batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the {world_size} ranks")
        self.device = torch.device(device)
        self.train, self.aug, self.seed, self.epoch = train, aug, seed, 0
        self.batch_size, self.rank, self.world_size, self.channels_last = batch_size, rank, world_size, channels_last
        if not train and world_size > 1:  # evaluation: each rank takes every world_size-th image
            images, labels = images[rank::world_size], labels[rank::world_size]
        self.labels = labels.to(self.device)
        self.n = len(labels)
        if train and aug and aug["kind"] == "crop_flip":
            images = pad_images(images, aug["pad"], aug.get("pad_mode", "reflect"))
        self.images = images.to(self.device)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

    def __iter__(self):
        B, dev = self.batch_size, self.device
        if not self.train:
            for i in range(0, self.n, B):
                x, y = self.images[i:i + B], self.labels[i:i + B]
                if len(y) < B:
                    x = torch.cat([x, x[:1].expand(B - len(y), *x.shape[1:])])
                    y = torch.cat([y, y.new_full((B - len(y),), -1)])
                yield normalize_uint8(x, self.channels_last), y
            return
        g = torch.Generator(device=dev).manual_seed(self.seed * 1_000_003 + self.epoch)
        perm = torch.randperm(self.n, generator=g, device=dev)
        share = B // self.world_size
        lo, hi = self.rank * share, (self.rank + 1) * share
        for i in range(len(self)):
            idx = perm[i * B:(i + 1) * B]
            kind = self.aug["kind"] if self.aug else None
            if kind == "crop_flip":
                dy, dx, flip = random_crop_flip_params(B, self.aug["pad"], g, dev)
                size = self.images.shape[-1] - 2 * self.aug["pad"]
                x = crop_flip(self.images[idx[lo:hi]], size, dy[lo:hi], dx[lo:hi], flip[lo:hi])
            elif kind == "resized_crop_flip":
                box, flip = random_resized_crop_params(B, tuple(self.aug["scale"]), tuple(self.aug["ratio"]), g, dev)
                x = resized_crop_flip(self.images[idx[lo:hi]], self.aug["size"], box[lo:hi], flip[lo:hi])
            elif kind is None:
                x = self.images[idx[lo:hi]]
            else:
                raise ValueError(f"unknown augmentation {kind!r}")
            yield normalize_uint8(x, self.channels_last), self.labels[idx[lo:hi]]


# -- the DataLoader path (ImageNet-size folders) ----------------------------------------------


class ToUint8:
    def __call__(self, img):
        import numpy as np

        return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)


class CenterSquare:
    def __init__(self, size: int):
        self.size = size

    def __call__(self, img):
        return center_square(img, self.size)


def collate_uint8(batch):
    return torch.stack([b[0] for b in batch]), torch.tensor([b[1] for b in batch], dtype=torch.int64)


class FolderLoader:
    """A DataLoader with workers over a torchvision data set (DistributedSampler under DDP), yielding
    the same normalized (x, y) device batches as :class:`GpuLoader`.

    Training: RandomResizedCrop(size, scale, ratio) + flip. Evaluation: ``center_square`` (resize the
    shorter side to size / crop_fraction, centre crop), the single-image ``preprocess`` of the demo
    when crop_fraction is 1. Shuffling and augmentation are seeded by (seed, epoch).
    """

    def __init__(self, ds, batch_size: int, *, train: bool, size: int, aug: dict | None = None, seed: int = 0,
                 rank: int = 0, world_size: int = 1, workers: int = 8, device="cpu", channels_last: bool = False,
                 crop_fraction: float = 1.0):
        import torchvision.transforms as T
        from torch.utils.data import DistributedSampler, Subset

        if train and batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the {world_size} ranks")
        if train:
            aug = aug or {}
            tf = T.Compose([T.RandomResizedCrop(size, scale=tuple(aug.get("scale", (0.08, 1.0))),
                                                ratio=tuple(aug.get("ratio", (3 / 4, 4 / 3)))),
                            T.RandomHorizontalFlip(), ToUint8()])
        else:
            resize = round(size / crop_fraction)
            tf = T.Compose([CenterSquare(resize), T.CenterCrop(size), ToUint8()])
        ds.transform = tf
        self.sampler = None
        if world_size > 1 and train:
            self.sampler = DistributedSampler(ds, world_size, rank, shuffle=True, seed=seed, drop_last=True)
        elif world_size > 1:  # evaluation: every world_size-th image, no padding duplicates
            ds = Subset(ds, range(rank, len(ds), world_size))
        self.ds, self.train, self.seed, self.epoch = ds, train, seed, 0
        self.device, self.channels_last, self.batch_size = torch.device(device), channels_last, batch_size
        self.loader_kw = dict(batch_size=batch_size // world_size if train else batch_size, num_workers=workers,
                              collate_fn=collate_uint8, pin_memory=self.device.type == "cuda", drop_last=train,
                              persistent_workers=False)
        self.world_size = world_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.ds)
        b = self.loader_kw["batch_size"]
        return n // b if self.train else -(-n // b)

    def __iter__(self):
        from torch.utils.data import DataLoader

        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        loader = DataLoader(self.ds, sampler=self.sampler, shuffle=self.train and self.sampler is None, generator=g,
                            **self.loader_kw)
        B = self.loader_kw["batch_size"]
        for x, y in loader:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            if not self.train and len(y) < B:
                x = torch.cat([x, x[:1].expand(B - len(y), *x.shape[1:])])
                y = torch.cat([y, y.new_full((B - len(y),), -1)])
            yield normalize_uint8(x, self.channels_last), y
