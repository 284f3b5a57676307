"""Data: normalization constants, single-image preprocessing, and the data sets for training.

Every model takes images normalized with the ImageNet mean and standard deviation, for every data
set (CIFAR-10 included), as in the reference code (SPEC §3).
``preprocess`` (one PIL image -> model input) is what the demo uses.
"""

from __future__ import annotations

import torch
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


class ToUint8:
    """PIL image -> uint8 (3, H, W) (:func:`pil_to_uint8` as a transform)."""

    def __call__(self, img):
        return pil_to_uint8(img)


class CenterSquare:
    def __init__(self, size: int):
        self.size = size

    def __call__(self, img):
        return center_square(img, self.size)
