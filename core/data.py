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


def pil_to_uint8(img: Image.Image) -> torch.Tensor:
    """PIL image (any mode) -> uint8 (3, H, W) RGB tensor: the one PIL -> tensor conversion of this project."""
    import numpy as np

    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB image -> float (3, H, W) in [0, 1]."""
    return pil_to_uint8(img).float() / 255


def center_square(img: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` (bicubic, antialiased) and crop the centre square."""
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return img.crop((left, top, left + size, top + size))


class Preprocess:
    """Evaluation preprocessing, like torchvision's ``Weights.transforms()``: resize the shorter side to
    ``round(size / crop_fraction)`` (bicubic, antialiased), crop the centre ``size`` x ``size`` square,
    normalize with ``mean`` / ``std``.

    ``Preprocess(size)(img)`` gives the normalized float (3, size, size) model input;
    ``to_uint8(img)`` only the geometric part, uint8 (3, size, size), for batched evaluation that
    normalizes on the device (``normalize``), after shifting images in the [0, 1] range.
    """

    def __init__(self, size: int, mean=MEAN, std=STD, crop_fraction: float = 1.0):
        self.size, self.mean, self.std, self.crop_fraction = int(size), tuple(mean), tuple(std), crop_fraction

    def __repr__(self) -> str:
        return f"Preprocess(size={self.size}, crop_fraction={self.crop_fraction}, mean={self.mean}, std={self.std})"

    def to_uint8(self, img: Image.Image) -> torch.Tensor:
        resize = round(self.size / self.crop_fraction)
        if img.size != (resize, resize):
            img = center_square(img, resize)
        x = pil_to_uint8(img)
        top = int(round((x.shape[1] - self.size) / 2))  # as torchvision's CenterCrop
        left = int(round((x.shape[2] - self.size) / 2))
        return x[:, top:top + self.size, left:left + self.size]

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        """[0, 1] images (..., 3, H, W) -> model input."""
        return normalize(x01, self.mean, self.std)

    def __call__(self, img: Image.Image) -> torch.Tensor:
        return self.normalize(self.to_uint8(img).float() / 255)


def preprocess(img: Image.Image, size: int, mean=MEAN, std=STD) -> torch.Tensor:
    """PIL image -> normalized (1, 3, size, size) tensor, as the models expect at evaluation."""
    return Preprocess(size, mean, std)(img)[None]


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
            return Preprocess(size).to_uint8(img), label

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


def pad_batch(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a last, partial evaluation batch to ``batch_size`` (copies of its first image, label -1,
    which the counts ignore), so that a compiled model sees one shape."""
    n = len(y)
    if n >= batch_size:
        return x, y
    return (torch.cat([x, x[:1].expand(batch_size - n, *x.shape[1:])]),
            torch.cat([y, y.new_full((batch_size - n,), -1)]))


def tensor_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, pad: bool = False):
    """Consecutive (images, labels) slices of ``batch_size``; with ``pad`` the last one is padded
    (:func:`pad_batch`)."""
    for i in range(0, len(labels), batch_size):
        x, y = images[i:i + batch_size], labels[i:i + batch_size]
        yield pad_batch(x, y, batch_size) if pad else (x, y)


def epoch_generator(seed: int, epoch: int, device="cpu") -> torch.Generator:
    """The generator of one epoch's shuffling and augmentation."""
    return torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)


class GpuLoader:
    """Batches from a data set decoded into one uint8 tensor on the device, augmented there.

    ``aug``: None (evaluation: images as they are), {"kind": "crop_flip", "pad": 4, "pad_mode": "reflect"}
    or {"kind": "resized_crop_flip", "size": 128, "scale": [0.25, 1], "ratio": [0.75, 1.333]}.
    Every rank draws the same permutation and augmentation parameters for the *global* batch
    (``batch_size``) from a generator seeded by (seed, epoch), and keeps its contiguous share, so
    that N ranks see exactly the batches of one process and an epoch is reproducible on resume.
    ``set_epoch(epoch, start)`` makes the next iteration begin at batch ``start`` of that epoch: the
    parameters of the batches before it are drawn (and not used), so batches start, start+1, ... are
    exactly those of an uninterrupted epoch (a resumed run continues bitwise).
    Training drops the last partial batch; evaluation pads it with label -1.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, train: bool,
                 aug: dict | None = None, seed: int = 0, rank: int = 0, world_size: int = 1,
                 device: str | torch.device = "cpu", channels_last: bool = False):
        if train and batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the {world_size} ranks")
        kind = aug["kind"] if aug else None
        if kind not in (None, "crop_flip", "resized_crop_flip"):
            raise ValueError(f"unknown augmentation {kind!r}")
        self.device = torch.device(device)
        self.train, self.aug, self.kind, self.seed, self.epoch, self.start = train, aug, kind, seed, 0, 0
        self.batch_size, self.rank, self.world_size, self.channels_last = batch_size, rank, world_size, channels_last
        if not train and world_size > 1:  # evaluation: each rank takes every world_size-th image
            images, labels = images[rank::world_size], labels[rank::world_size]
        self.labels = labels.to(self.device)
        self.n = len(labels)
        if train and kind == "crop_flip":
            images = pad_images(images, aug["pad"], aug.get("pad_mode", "reflect"))
        self.images = images.to(self.device)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

    def _draw(self, g: torch.Generator) -> tuple:
        """The augmentation parameters of one global batch (drawn from ``g`` in a fixed order)."""
        B, dev = self.batch_size, self.device
        if self.kind == "crop_flip":
            return random_crop_flip_params(B, self.aug["pad"], g, dev)
        if self.kind == "resized_crop_flip":
            return random_resized_crop_params(B, tuple(self.aug["scale"]), tuple(self.aug["ratio"]), g, dev)
        return ()

    def _augment(self, x: torch.Tensor, params: tuple, lo: int, hi: int) -> torch.Tensor:
        if self.kind == "crop_flip":
            dy, dx, flip = params
            return crop_flip(x, self.images.shape[-1] - 2 * self.aug["pad"], dy[lo:hi], dx[lo:hi], flip[lo:hi])
        if self.kind == "resized_crop_flip":
            box, flip = params
            return resized_crop_flip(x, self.aug["size"], box[lo:hi], flip[lo:hi])
        return x

    def __iter__(self):
        B = self.batch_size
        if not self.train:
            for x, y in tensor_batches(self.images, self.labels, B, pad=True):
                yield normalize_uint8(x, self.channels_last), y
            return
        g = epoch_generator(self.seed, self.epoch, self.device)
        perm = torch.randperm(self.n, generator=g, device=self.device)
        share = B // self.world_size
        lo, hi = self.rank * share, (self.rank + 1) * share
        for i in range(len(self)):
            params = self._draw(g)
            if i < self.start:
                continue
            idx = perm[i * B:(i + 1) * B][lo:hi]
            yield normalize_uint8(self._augment(self.images[idx], params, lo, hi), self.channels_last), self.labels[idx]


# -- the DataLoader path (ImageNet-size folders) ----------------------------------------------


class ToUint8:
    """PIL image -> uint8 (3, H, W) (:func:`pil_to_uint8` as a transform)."""

    def __call__(self, img):
        return pil_to_uint8(img)


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

    Training: RandomResizedCrop(size, scale, ratio) + flip. Evaluation: :class:`Preprocess` (resize the
    shorter side to size / crop_fraction, centre crop), the single-image ``preprocess`` of the demo
    when crop_fraction is 1. Shuffling is seeded by (seed, epoch). ``set_epoch(epoch, start)``: the
    next iteration begins at batch ``start`` of that epoch's order (the same images as an
    uninterrupted epoch; their random crops come from the workers' generators and differ).
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
            ds.transform = T.Compose([T.RandomResizedCrop(size, scale=tuple(aug.get("scale", (0.08, 1.0))),
                                                          ratio=tuple(aug.get("ratio", (3 / 4, 4 / 3)))),
                                      T.RandomHorizontalFlip(), ToUint8()])
        else:
            ds.transform = Preprocess(size, crop_fraction=crop_fraction).to_uint8
        self.sampler = None
        if world_size > 1 and train:
            self.sampler = DistributedSampler(ds, world_size, rank, shuffle=True, seed=seed, drop_last=True)
        elif world_size > 1:  # evaluation: every world_size-th image, no padding duplicates
            ds = Subset(ds, range(rank, len(ds), world_size))
        self.ds, self.train, self.seed, self.epoch, self.start = ds, train, seed, 0, 0
        self.device, self.channels_last, self.batch_size = torch.device(device), channels_last, batch_size
        self.loader_kw = dict(batch_size=batch_size // world_size if train else batch_size, num_workers=workers,
                              collate_fn=collate_uint8, pin_memory=self.device.type == "cuda", drop_last=train,
                              persistent_workers=False)
        self.world_size = world_size

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.ds)
        b = self.loader_kw["batch_size"]
        return n // b if self.train else -(-n // b)

    def _order(self, g: torch.Generator) -> list[int]:
        if self.sampler is not None:
            return list(self.sampler)
        if self.train:
            return torch.randperm(len(self.ds), generator=g).tolist()
        return list(range(len(self.ds)))

    def __iter__(self):
        from torch.utils.data import DataLoader, Subset

        g = epoch_generator(self.seed, self.epoch)
        B = self.loader_kw["batch_size"]
        order = self._order(g)[self.start * B:]
        loader = DataLoader(Subset(self.ds, order), shuffle=False, generator=g, **self.loader_kw)
        for x, y in loader:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            if not self.train:
                x, y = pad_batch(x, y, B)
            yield normalize_uint8(x, self.channels_last), y
