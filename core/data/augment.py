"""Augmentations on the device, batched: reflect-padded random crops and flips, random-resized crops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.data.transforms import MEAN, STD, normalize


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
