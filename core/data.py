"""Data: normalization constants and single-image preprocessing.

Every model takes images normalized with the ImageNet mean and standard deviation, for every data
set (CIFAR-10 included), as in the reference code (SPEC §3).
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
