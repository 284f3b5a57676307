"""Training and test loaders: on the device (``GpuLoader``, augmentation there, seeded per epoch) or
with DataLoader workers (``FolderLoader``).
"""

from __future__ import annotations

import torch

from core.data.augment import (
    crop_flip,
    normalize_uint8,
    pad_images,
    random_crop_flip_params,
    random_resized_crop_params,
    resized_crop_flip,
)
from core.data.datasets import collate_uint8, set_transform
from core.data.transforms import Preprocess, ToUint8


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
            set_transform(ds, T.Compose([T.RandomResizedCrop(size, scale=tuple(aug.get("scale", (0.08, 1.0))),
                                                             ratio=tuple(aug.get("ratio", (3 / 4, 4 / 3)))),
                                         T.RandomHorizontalFlip(), ToUint8()]))
        else:
            set_transform(ds, Preprocess(size, crop_fraction=crop_fraction).to_uint8)
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
