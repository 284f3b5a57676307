"""The translation played: the image moved by dx = 0 .. max_shift pixels and one block's wavelet
coefficients of the LScat+skip model, as an animated GIF: the phases turn while the moduli change less."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from core.analysis.phases import measured_phase_shift, predicted_phase_shift, relative_error
from core.analysis.shifts import translate_batch
from demo.compute import gpu
from demo.compute.branches import picture
from demo.compute.disk import prune
from demo.draw import render
from demo.inputs import checks
from demo.invariance.text import animation_caption
from demo.models.catalog import lscat_of

ANIMATION_FRAMES = 24
GIF_DIR = Path(tempfile.gettempdir()) / "phase_collapse_gifs"
GIF_KEEP = 32  # files kept in GIF_DIR (oldest deleted first)...
GIF_BYTES = 64 * 1024 * 1024  # ...and bytes (a GIF of 24 frames: about 0.3-1 MB)


def default_block(dm, max_shift: float) -> int:
    """The deepest block whose maps are at least 8 px wide, whose block pixel is at most
    ``max_shift`` input pixels (the shift moves its moduli by about a block pixel or less while its
    phases turn visibly, by -xi . tau) and whose input was not just subsampled (the block after a
    stride-2 block sees an aliased input: its measured phase turns stray from -xi . tau,
    docs/PHASES.md). CIFAR-10: block 3; ImageNet configuration: block 4."""
    infos = dm.model.block_info
    best = 0
    for info in infos:
        after_stride = info.index > 0 and infos[info.index - 1].filters.stride > 1
        if info.out_size[0] >= 8 and info.scale <= max(max_shift, 1) and not after_stride:
            best = info.index
    return best


def _font(size: int = 13):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _frame(tiles: list[np.ndarray], heads: list[str], lines: list[str], tile: int, gap: int = 6) -> Image.Image:
    font, small = _font(13), _font(12)
    top, bottom = 22, 40
    width = len(tiles) * tile + (len(tiles) + 1) * gap
    im = Image.new("RGB", (width, top + tile + bottom), "white")
    draw = ImageDraw.Draw(im)
    for i, (t, h) in enumerate(zip(tiles, heads)):
        x = gap + i * (tile + gap)
        im.paste(Image.fromarray(render.tile(t, tile)), (x, top))
        draw.text((x, 4), h, fill=(40, 40, 40), font=font)
    for i, line in enumerate(lines):
        draw.text((gap, top + tile + 4 + 17 * i), line, fill=(40, 40, 40), font=small)
    return im


def write_gif(frames: list[Image.Image], path: str | Path, duration_ms: int = 70, bounce: bool = True) -> Path:
    """Frames -> an animated GIF that loops forever (forth and back when ``bounce``); atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seq = frames + frames[-2:0:-1] if bounce and len(frames) > 2 else frames
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".gif.tmp")
    os.close(fd)
    seq[0].save(tmp, format="GIF", save_all=True, append_images=seq[1:], duration=duration_ms, loop=0,
                disposal=1, optimize=False)
    os.replace(tmp, path)
    return path


def _frames(store, dm, orig, taus: torch.Tensor, boundary: str, j: int, kk: int, ch: int,
            axis: str) -> tuple[list[dict], list[Image.Image]]:
    """Block ``j``'s map (channel ``ch``, orientation ``kk``) at each shift ``taus`` (F, 2), drawn, and the
    numbers of each frame."""
    info = dm.model.block_info[j]
    xs = translate_batch(orig.x, taus, boundary)
    zs = gpu.block_frames(store, dm.key, xs, j, boundary)[:, ch, kk]  # (F, H, W) complex
    z0 = orig.blocks[j]["wavelet"][0, ch, kk]
    vmax = render.robust_max(z0.abs().numpy())
    xi = info.xi_block[kk]
    tile = 160
    # ASCII only in the frames: PIL's built-in font has no Greek letters
    heads = ["image", f"modulus |x*psi|, block {j}", "phase of x*psi (hue)"]
    rows, images = [], []
    for f in range(len(taus)):
        tau = (float(taus[f, 0]), float(taus[f, 1]))
        shift = tau[1] if axis == "dx" else tau[0]
        tau_b = (tau[0] / info.scale, tau[1] / info.scale)
        pred = float(predicted_phase_shift(xi, tau_b))
        meas = float(measured_phase_shift(zs[f], z0))
        lin = float(relative_error(zs[f], z0))
        mod = float(relative_error(zs[f].abs(), z0.abs()))
        rows.append({"dx": tau[1], "dy": tau[0], "predicted_phase": pred, "measured_phase": meas,
                     "coefficient_change": lin, "modulus_change": mod})
        z = zs[f].numpy()
        pic = picture(xs[f:f + 1]) * 255
        lines = [f"{axis} = {shift:.2f} px = {shift / info.scale:.2f} block px | "
                 f"channel {ch}, theta{kk} | {info.out_size[0]}x{info.out_size[1]} map",
                 f"phase turn -xi.tau {pred:+.2f} rad (measured {meas:+.2f}) | change: x*psi {100 * lin:.0f}%, "
                 f"|x*psi| {100 * mod:.0f}%"]
        images.append(_frame([pic, render.modulus_rgb(np.abs(z), vmax), render.phase_rgb(z, vmax)], heads, lines, tile))
    return rows, images


def animation(store, pipeline, path: str, model_key: str, boundary: str, block: int | None = None, k: int = 0,
              channel: int = 0, max_shift: float = 4.0, frames: int = ANIMATION_FRAMES, axis: str = "dx",
              directory: str | Path | None = None) -> tuple[Path, str, dict]:
    """The image translated by 0 -> ``max_shift`` input pixels along ``axis`` ("dx" or "dy") in
    ``frames`` steps, and one block's map x∗ψθ (channel of rank ``channel``, orientation ``k``) of
    the LScat+skip model: the picture, the modulus (shared colour scale: the unshifted one's) and the
    phase (hue, brightness = modulus), as demo/render.py colours them. Returns the GIF's path, a
    caption and the numbers per frame: the shift, the predicted phase turn −ξ·τ, the measured one,
    and the relative changes of the coefficients and of the moduli."""
    frames = checks.frames(frames, axis)
    block, k, channel, max_shift = checks.animation(-1 if block is None else block, k, channel, max_shift)
    key = lscat_of(model_key)  # the ResNet has no phases: animate its LScat+skip pair
    dm, pkey, orig, _ = pipeline.original(path, key, boundary)
    n_blocks = len(dm.model.block_info)
    j = default_block(dm, max_shift) if block < 0 else min(block, n_blocks - 1)
    info = dm.model.block_info[j]
    kk = min(int(k), info.filters.L - 1)
    C = orig.blocks[j]["wavelet"].shape[1]
    ch = int(orig.ranking(j, kk)[min(int(channel), C - 1)])
    ckey = (key, dm.weights, boundary, pkey[-1], j, kk, ch, max_shift, int(frames), axis, str(directory))
    hit = pipeline.gifs.get(ckey)
    if hit is not None and hit[0].is_file():
        return hit
    steps = torch.linspace(0, max_shift, int(frames), dtype=torch.float64)
    zero = torch.zeros_like(steps)
    taus = torch.stack([zero, steps] if axis == "dx" else [steps, zero], 1)
    rows, images = _frames(store, dm, orig, taus, boundary, j, kk, ch, axis)
    directory = Path(directory) if directory is not None else GIF_DIR
    digest = hashlib.sha256(repr(ckey).encode()).hexdigest()[:16]
    gif = write_gif(images, directory / f"translation-{key}-block{j}-{digest}.gif")
    prune(directory, GIF_KEEP, GIF_BYTES, "*.gif")
    caption = animation_caption(dm.label, j, info, ch, kk, axis, max_shift, len(rows), boundary, rows[-1])
    numbers = {"model": dm.key, "weights": dm.weights, "block": j, "orientation": kk, "channel": ch,
               "axis": axis, "boundary": boundary, "frames": rows, "gif": str(gif)}
    return pipeline.gifs.put(ckey, (gif, caption, numbers))


