"""Small synthetic data for the training / evaluation tests: an ImageFolder of random JPEGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.data import CIFAR10_CLASSES


def make_folder(root: Path, n_per_class: int = 4, size: int = 16, splits=("train", "test"),
                classes=CIFAR10_CLASSES, seed: int = 0) -> Path:
    """root/<split>/<class>/<i>.jpg, each class with its own mean colour (so that it can be learned)."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 256, (len(classes), 3))
    for s, split in enumerate(splits):
        for name, base in zip(classes, bases):
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n_per_class):
                img = np.clip(base + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(d / f"{s}{i:03d}.jpg", quality=90)
    return root
