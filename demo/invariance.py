"""The invariance view: the prediction-stability map over a grid of sub-pixel shifts, LScat+skip beside
its ResNet-18 baseline when one is shipped, where (at which depth) each builds its invariance, and the
translation played as an animated GIF. The measurements are ``core.invariance``; this module draws
them (plotly figures as plain dicts, in the style of demo/figures.py), caches them per image, and
holds the functions the UI and its named endpoints call (``stability``, ``invariance_curve``,
``animation``), with the same input validation as ``analyze``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import weakref
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from core.analysis.invariance import StabilityMap, stability_map
from core.analysis.phases import measured_phase_shift, predicted_phase_shift, relative_error, wavelet_padding
from core.analysis.shifts import DEFAULT_EXTENT, DEFAULT_STEPS, shift_offsets, translate_batch
from demo import figures, render
from demo.figures import _r, layout, message
from demo.models import card_accuracy, offered
from demo.pipeline import LRU, MODES, picture
from demo.render import BLUE, GREEN, ORANGE, RED

# Each LScat+skip slot and the ResNet-18 baseline trained with the same recipe (shown when shipped).
PAIRS = {"lscat_skip_cifar10": "resnet18_cifar10", "lscat_skip_imagenette": "resnet18_imagenette"}
LSCAT_OF = {v: k for k, v in PAIRS.items()}
COLORS = {"scattering": BLUE, "features": GREEN}
MAX_ANIMATION_SHIFT = 8.0
ANIMATION_FRAMES = 24
GIF_DIR = Path(tempfile.gettempdir()) / "phase_collapse_gifs"
GIF_KEEP = 32  # files kept in GIF_DIR (oldest deleted first)

# Per model store (weakly held: a store's caches go with it): (model, weights, boundary, image digest,
# grid) -> StabilityMap, and the animations' (path, caption, numbers) per image and settings.
_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(store, name: str) -> LRU:
    c = _caches.setdefault(store, {"maps": LRU(8), "gifs": LRU(16)})
    return c[name]


class InputError(ValueError):
    """A request the invariance view cannot serve; the message is meant for the user."""


# --------------------------------------------------------------------------------------------
# Which models, and their maps
# --------------------------------------------------------------------------------------------


def models_for(model_key: str) -> list[str]:
    """The models drawn side by side for the selected one: its LScat+skip model first, then the
    matching ResNet-18 baseline when its weights are shipped (``demo.models.offered``)."""
    lscat = LSCAT_OF.get(model_key, model_key)
    keys = [lscat]
    if PAIRS.get(lscat) in offered():
        keys.append(PAIRS[lscat])
    return keys


def validate(image, boundary: str, model: str) -> str:
    """``analyze``'s checks: an image (its path), a known boundary and an offered model; raises
    :class:`InputError` with the message ``analyze`` gives."""
    if boundary not in MODES:
        raise InputError(f"boundary must be one of {', '.join(map(repr, MODES))}; got {boundary!r}.")
    if model not in offered():
        raise InputError(f"model must be one of {', '.join(map(repr, offered()))}; got {model!r}.")
    if image is None or (isinstance(image, str) and not image):
        raise InputError("No image: send an image file.")
    return image if isinstance(image, str) else getattr(image, "path", None) or str(image)


def _progress(progress, done: int, total: int, desc: str):
    if progress is not None:
        progress((done, total), desc=desc, unit="images")  # gr.Progress's signature


def compute_maps(store, pipeline, path: str, model_key: str, boundary: str, extent: float = DEFAULT_EXTENT,
                 steps: int = DEFAULT_STEPS, progress=None, workers: int | None = None) -> list[tuple]:
    """[(DemoModel, StabilityMap)] for :func:`models_for` ``model_key``, cached per image, model
    weights, boundary and grid. ``progress((done, total), desc=..., unit=...)`` as gr.Progress;
    ``workers``: chunks computed at once (default core.invariance.default_workers)."""
    offsets = shift_offsets(extent, steps)
    keys = models_for(model_key)
    todo, out = [], []
    for key in keys:
        dm, pkey, orig, _ = pipeline.original(path, key, boundary)
        ckey = (key, dm.weights, boundary, pkey[-1], tuple(offsets))
        out.append([dm, _cache(store, "maps").get(ckey)])
        if out[-1][1] is None:
            todo.append((len(out) - 1, dm, orig, ckey))
    per = len(offsets) ** 2
    for n, (i, dm, orig, ckey) in enumerate(todo):
        report = lambda done, total, n=n, dm=dm: _progress(progress, n * per + done, len(todo) * per,
                                                           f"{dm.label}: shifted images")
        sm = stability_map(dm.model, orig.x, offsets, boundary, workers=workers, progress=report,
                           lock=store.run_locks[dm.key])
        out[i][1] = _cache(store, "maps").put(ckey, sm)
    return [tuple(o) for o in out]


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:g}".replace("-", "−")


def _signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", "−")


def grid_text(sm: StabilityMap) -> str:
    """The grid as the caption states it (tests/test_invariance.py checks it against the map)."""
    o = sm.offsets
    mode = "circular Fourier shift" if sm.mode == "circular" else "zero-padded shift"
    return (f"{sm.steps} × {sm.steps} = {sm.steps ** 2} shifts: dx and dy each in {{{_fmt(o[0])}, {_fmt(o[1])}, …, "
            f"{_fmt(o[-1])}}} px (step {_fmt(sm.step)} px, sub-pixel), {mode}")


def accuracy_text(dm) -> str:
    if not dm.trained:
        return "untrained: chance-level accuracy"
    acc = card_accuracy(dm.card or {})
    return f"test accuracy {acc}" if acc else "test accuracy not recorded in its card"


def model_line(dm, sm: StabilityMap) -> str:
    lo, hi = sm.prob_range
    name = dm.classes[sm.reference_class]
    return (f"**{dm.label}** ({accuracy_text(dm)}): top class **{name}** kept at {int(sm.kept.sum())} of "
            f"{sm.kept.size} shifts (**{100 * sm.stable_fraction:.1f}%**); its probability "
            f"{lo:.2f}–{hi:.2f} over the grid ({sm.reference_prob:.2f} unshifted).")


def summary(pairs: list[tuple]) -> str:
    """The summary under the map: the grid, one line per model, and the accuracies' warning."""
    sizes = ", ".join(f"{dm.size} px" for dm, _ in pairs)
    lines = [f"**Grid**: {grid_text(pairs[0][1])}, in each model's input pixels ({sizes})."]
    lines += [f"- {model_line(dm, sm)}" for dm, sm in pairs]
    if len(pairs) > 1:
        accs = " and ".join(f"{dm.label.split(' · ')[0]} {accuracy_text(dm)}" for dm, _ in pairs)
        lines.append(f"\nTest accuracies from the model cards: {accs}. A gap in accuracy is not a gap in "
                     "invariance: compare the fractions of shifts kept and the ranges of probability.")
    else:
        base = PAIRS.get(pairs[0][0].key)
        lines.append(f"\nNo ResNet-18 baseline trained with the same recipe is shipped yet: when "
                     f"`pretrained/{base}` is, its map appears beside this one.")
    return "\n".join(lines)


def block_labels(dm, sm: StabilityMap) -> list[str]:
    if dm.is_scattering:
        return [f"block {j} (×{s})" for j, s in enumerate(sm.block_scales)]
    return [("stem" if j == 0 else f"stage {j}") + f" (×{s})" for j, s in enumerate(sm.block_scales)]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def stability_figure(pairs: list[tuple]) -> dict:
    """One heatmap per model: the probability of the unshifted image's top class at each shift
    (dx right, dy down, as the image moves), crosses where the top class changes, a ring at 0."""
    n = len(pairs)
    gap = 0.12
    w = (1 - gap * (n - 1)) / n
    scale = render.plotly_scale(render.SEQUENTIAL)
    data, lay = [], layout(height=470, showlegend=False, margin={"l": 60, "r": 20, "t": 80, "b": 60}, annotations=[])
    for i, (dm, sm) in enumerate(pairs):
        sx = "" if i == 0 else str(i + 1)
        xa, ya = f"x{sx}", f"y{sx}"
        o = _r(sm.offsets, 4)
        names = np.asarray(dm.classes)[sm.top]
        text = [[f"top class {names[a, b]} ({sm.top_prob[a, b]:.2f})" for b in range(sm.steps)]
                for a in range(sm.steps)]
        data.append({"type": "heatmap", "z": _r(sm.probs, 4), "x": o, "y": o, "zmin": 0, "zmax": 1,
                     "colorscale": scale, "xaxis": xa, "yaxis": ya, "text": text, "showscale": i == n - 1,
                     "colorbar": {"title": {"text": "p(top class<br>of x)"}, "len": 0.85},
                     "hovertemplate": "dx %{x} px, dy %{y} px<br>p(" + dm.classes[sm.reference_class]
                                      + ") %{z:.3f}<br>%{text}<extra>" + dm.label + "</extra>"})
        ch = sm.changes()
        data.append({"type": "scatter", "mode": "markers", "x": [c["dx"] for c in ch], "y": [c["dy"] for c in ch],
                     "xaxis": xa, "yaxis": ya, "name": "top class changes", "hoverinfo": "skip",
                     "marker": {"symbol": "x-thin", "size": 9, "color": RED, "line": {"width": 2, "color": RED}}})
        data.append({"type": "scatter", "mode": "markers", "x": [0], "y": [0], "xaxis": xa, "yaxis": ya,
                     "name": "no shift", "hoverinfo": "skip",
                     "marker": {"symbol": "circle-open", "size": 13, "color": ORANGE,
                                "line": {"width": 2, "color": ORANGE}}})
        dom = [i * (w + gap), i * (w + gap) + w]
        half = sm.step / 2
        rng = [sm.offsets[0] - half, sm.offsets[-1] + half]
        lay[f"xaxis{sx}"] = {"domain": dom, "anchor": ya, "range": rng, "title": {"text": "dx (px, right)"},
                             "showgrid": False, "zeroline": False, "constrain": "domain"}
        lay[f"yaxis{sx}"] = {"anchor": xa, "range": rng[::-1], "scaleanchor": xa, "constrain": "domain",
                             "title": {"text": "dy (px, down)"}, "showgrid": False, "zeroline": False}
        lay["annotations"].append({
            "text": f"<b>{dm.label}</b><br>{dm.classes[sm.reference_class]} kept at {int(sm.kept.sum())}/"
                    f"{sm.kept.size} shifts · p {sm.prob_range[0]:.2f}–{sm.prob_range[1]:.2f}",
            "x": (dom[0] + dom[1]) / 2, "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "center", "yanchor": "bottom", "font": {"size": 12}})
    return {"data": data, "layout": lay}


def curve_figure(pairs: list[tuple], floor: float = 1e-4) -> dict:
    """Per model, the mean relative error of each block over the grid's non-zero shifts, against
    relative depth (0 = first block, 1 = last): the scattering network's moduli
    || |(τx)∗ψ| − |x∗ψ| || / ||x∗ψ||, the ResNet's stage outputs || f(τx) − f(x) || / || f(x) ||."""
    data, peak = [], 0.0
    for dm, sm in pairs:
        curve = sm.curve
        if not curve:
            continue
        labels = block_labels(dm, sm)
        depth = [j / max(len(curve) - 1, 1) for j in range(len(curve))]
        kind = "scattering" if dm.is_scattering else "features"
        what = "moduli ‖|τx∗ψ| − |x∗ψ|‖ / ‖x∗ψ‖" if dm.is_scattering else "stage outputs ‖f(τx) − f(x)‖ / ‖f(x)‖"
        name = f"{dm.label.split(' · ')[0]}: {what}"
        peak = max(peak, *curve)
        data.append({"type": "scatter", "mode": "lines+markers", "x": _r(depth, 4),
                     "y": _r([max(c, floor) for c in curve], 5), "text": labels, "name": name,
                     "line": {"color": COLORS[kind], "width": 3}, "marker": {"size": 8},
                     "hovertemplate": "%{text}: %{y:.3f}<extra>" + dm.label + "</extra>"})
    if not data:
        return message("No per-block measurement for this model.", 380)
    lowest = min(min(d["y"]) for d in data)
    lay = layout(height=400, legend={"orientation": "h", "y": -0.3, "x": 0},
                 margin={"l": 70, "r": 20, "t": 30, "b": 120},
                 xaxis={"title": {"text": "relative depth (0 = first block or stem, 1 = last)"}, "range": [-0.03, 1.03],
                        "tickvals": [0, 0.25, 0.5, 0.75, 1], "gridcolor": "#eee", "zeroline": False},
                 yaxis={"title": {"text": "mean relative change"},
                        "type": "log", "gridcolor": "#eee", "exponentformat": "power",
                        "range": [math.log10(max(floor, lowest / 1.5)), math.log10(1.5 * max(peak, 1e-3))]})
    return {"data": data, "layout": lay}


def curve_caption(pairs: list[tuple]) -> str:
    sm = pairs[0][1]
    text = (f"Mean over the same grid ({grid_text(sm)}, the shift 0 left out). Blue: LScat+skip, per block the "
            f"relative change of the wavelet moduli |x∗ψ| over all channels and orientations (compare_blocks' "
            f"modulus error). ")
    if len(pairs) > 1:
        text += ("Green: ResNet-18, per stage the relative change of its output, without shifting back "
                 "(core.explain.feature_change); the two measures differ, their trends with depth compare. ")
    return text + "Lower = more invariant at that depth."


# --------------------------------------------------------------------------------------------
# The translation played: an animated GIF of one block's phases and moduli
# --------------------------------------------------------------------------------------------


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


def _prune(directory: Path, keep: int):
    files = sorted(directory.glob("*.gif"), key=lambda p: p.stat().st_mtime)
    for p in files[:-keep]:
        try:
            p.unlink()
        except OSError:
            pass


def _check_animation(max_shift, axis: str, frames, k, channel) -> float:
    """The animation's own settings checked (the image, boundary and model are checked as for analyze)."""
    max_shift = float(max_shift)
    if not math.isfinite(max_shift) or not 0 < max_shift <= MAX_ANIMATION_SHIFT:
        raise InputError(f"the animation's shift must be in (0, {MAX_ANIMATION_SHIFT:g}] pixels, got {max_shift}")
    if axis not in ("dx", "dy"):
        raise InputError(f"axis must be 'dx' or 'dy', got {axis!r}")
    if not 2 <= int(frames) <= 64:
        raise InputError(f"frames must be in 2..64, got {frames}")
    if int(k) < 0 or int(channel) < 0:
        raise InputError("orientation and channel must be >= 0.")
    return max_shift


def _animation_caption(label: str, j: int, info, ch: int, kk: int, axis: str, max_shift: float, n: int,
                       boundary: str, last: dict) -> str:
    return (f"{label}, block {j} (one block pixel = {info.scale} input px at its input, maps "
            f"{info.out_size[0]}×{info.out_size[1]}), channel {ch}, orientation θ{kk}: {axis} from 0 to "
            f"{_fmt(max_shift)} px in {n} frames ({boundary}). The phase turns by −ξ·τ = "
            f"{_signed(last['predicted_phase'])} rad (measured {_signed(last['measured_phase'])}) while the moduli "
            f"change by {100 * last['modulus_change']:.0f}% (the complex coefficients by "
            f"{100 * last['coefficient_change']:.0f}%).")


def animation(store, pipeline, path: str, model_key: str, boundary: str, block: int | None = None, k: int = 0,
              channel: int = 0, max_shift: float = 4.0, frames: int = ANIMATION_FRAMES, axis: str = "dx",
              directory: str | Path | None = None) -> tuple[Path, str, dict]:
    """The image translated by 0 -> ``max_shift`` input pixels along ``axis`` ("dx" or "dy") in
    ``frames`` steps, and one block's map x∗ψθ (channel of rank ``channel``, orientation ``k``) of
    the LScat+skip model: the picture, the modulus (shared colour scale: the unshifted one's) and the
    phase (hue, brightness = modulus), as demo/render.py colours them. Returns the GIF's path, a
    caption and the numbers per frame: the shift, the predicted phase turn −ξ·τ, the measured one,
    and the relative changes of the coefficients and of the moduli."""
    max_shift = _check_animation(max_shift, axis, frames, k, channel)
    key = LSCAT_OF.get(model_key, model_key)  # the ResNet has no phases: animate its LScat+skip pair
    dm, pkey, orig, _ = pipeline.original(path, key, boundary)
    n_blocks = len(dm.model.block_info)
    j = default_block(dm, max_shift) if block is None or int(block) < 0 else min(int(block), n_blocks - 1)
    info = dm.model.block_info[j]
    kk = min(int(k), info.filters.L - 1)
    C = orig.blocks[j]["wavelet"].shape[1]
    ch = int(orig.ranking(j, kk)[min(int(channel), C - 1)])
    ckey = (key, dm.weights, boundary, pkey[-1], j, kk, ch, max_shift, int(frames), axis, str(directory))
    hit = _cache(store, "gifs").get(ckey)
    if hit is not None and hit[0].is_file():
        return hit
    steps = torch.linspace(0, max_shift, int(frames), dtype=torch.float64)
    zero = torch.zeros_like(steps)
    taus = torch.stack([zero, steps] if axis == "dx" else [steps, zero], 1)
    with store.run_locks[dm.key], torch.inference_mode():
        xs = translate_batch(orig.x, taus, boundary)
        with wavelet_padding(dm.model, "circular" if boundary == "circular" else "reflect"):
            _, inter = dm.model.forward_intermediates(xs, indices=[j], stop_early=True, keys=("wavelet",))
    zs = inter[0]["wavelet"][:, ch, kk]  # (F, H, W) complex
    z0 = orig.blocks[j]["wavelet"][0, ch, kk]
    vmax = render.robust_max(z0.abs().numpy())
    xi = info.xi_block[kk]
    tile = 160
    # ASCII only in the frames: PIL's built-in font has no Greek letters
    heads = ["image", f"modulus |x*psi|, block {j}", "phase of x*psi (hue)"]
    rows, images = [], []
    for f in range(len(steps)):
        tau = (float(taus[f, 0]), float(taus[f, 1]))
        tau_b = (tau[0] / info.scale, tau[1] / info.scale)
        pred = float(predicted_phase_shift(xi, tau_b))
        meas = float(measured_phase_shift(zs[f], z0))
        lin = float(relative_error(zs[f], z0))
        mod = float(relative_error(zs[f].abs(), z0.abs()))
        rows.append({"dx": tau[1], "dy": tau[0], "predicted_phase": pred, "measured_phase": meas,
                     "coefficient_change": lin, "modulus_change": mod})
        z = zs[f].numpy()
        pic = picture(xs[f:f + 1]) * 255
        lines = [f"{axis} = {float(steps[f]):.2f} px = {float(steps[f]) / info.scale:.2f} block px | "
                 f"channel {ch}, theta{kk} | {info.out_size[0]}x{info.out_size[1]} map",
                 f"phase turn -xi.tau {pred:+.2f} rad (measured {meas:+.2f}) | change: x*psi {100 * lin:.0f}%, "
                 f"|x*psi| {100 * mod:.0f}%"]
        images.append(_frame([pic, render.modulus_rgb(np.abs(z), vmax), render.phase_rgb(z, vmax)], heads, lines, tile))
    directory = Path(directory) if directory is not None else GIF_DIR
    digest = hashlib.sha256(repr(ckey).encode()).hexdigest()[:16]
    gif = write_gif(images, directory / f"translation-{key}-block{j}-{digest}.gif")
    _prune(directory, GIF_KEEP)
    caption = _animation_caption(dm.label, j, info, ch, kk, axis, max_shift, len(steps), boundary, rows[-1])
    numbers = {"model": dm.key, "weights": dm.weights, "block": j, "orientation": kk, "channel": ch,
               "axis": axis, "boundary": boundary, "frames": rows, "gif": str(gif)}
    return _cache(store, "gifs").put(ckey, (gif, caption, numbers))


# --------------------------------------------------------------------------------------------
# What the UI and the named endpoints call
# --------------------------------------------------------------------------------------------


def stability_view(store, pipeline, path: str, model_key: str, boundary: str, extent: float = DEFAULT_EXTENT,
                   steps: int = DEFAULT_STEPS, progress=None,
                   workers: int | None = None) -> tuple[dict, str, dict, dict]:
    """(map figure, summary markdown, curve figure, numbers) for the image at ``path``."""
    pairs = compute_maps(store, pipeline, path, model_key, boundary, extent, steps, progress, workers)
    numbers = {"boundary": boundary, "grid": grid_text(pairs[0][1]),
               "models": [{"model": dm.key, "weights": dm.weights, "trained": dm.trained,
                           "test_accuracy": (dm.card or {}).get("top1") if dm.trained else None,
                           "input_size": dm.size, "blocks": block_labels(dm, sm), **sm.to_dict(dm.classes)}
                          for dm, sm in pairs]}
    return stability_figure(pairs), summary(pairs), curve_figure(pairs), numbers


def grid(extent, steps) -> tuple[float, int]:
    """The grid's half-width (px) and shifts per axis as the endpoints receive them (numbers from a
    slider or a client), checked: an odd integer count in 3..33, a half-width in (0, 8] px."""
    try:
        extent, count = float(extent), float(steps)
    except (TypeError, ValueError):
        raise InputError(f"the grid needs numbers, got extent={extent!r}, steps={steps!r}") from None
    if not count.is_integer():
        raise InputError(f"steps (shifts per axis) must be an odd integer, got {steps!r}")
    try:
        shift_offsets(extent, int(count))
    except (TypeError, ValueError) as e:
        raise InputError(str(e)) from None
    return extent, int(count)


def stability_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT,
                       steps=DEFAULT_STEPS, progress=None):
    """The named endpoint ``stability``: (map plot, summary markdown, numbers)."""
    path = validate(image, boundary, model)
    extent, steps = grid(extent, steps)
    fig, text, _, numbers = stability_view(store, pipeline, path, model, boundary, extent, steps, progress)
    return figures.plot(fig), text, numbers


def curve_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT, steps=DEFAULT_STEPS,
                   progress=None):
    """The named endpoint ``invariance_curve``: (curve plot, caption markdown, per-model curves)."""
    path = validate(image, boundary, model)
    extent, steps = grid(extent, steps)
    pairs = compute_maps(store, pipeline, path, model, boundary, extent, steps, progress)
    numbers = {"boundary": boundary, "grid": grid_text(pairs[0][1]),
               "models": [{"model": dm.key, "measure": sm.measure, "blocks": block_labels(dm, sm), "curve": sm.curve}
                          for dm, sm in pairs]}
    return figures.plot(curve_figure(pairs)), curve_caption(pairs), numbers


def animation_endpoint(store, pipeline, image, boundary: str, model: str, block=-1, orientation=0, channel=0,
                       max_shift=4.0):
    """The named endpoint ``animation``: (GIF path shown in the page, the same for the download
    button, caption). ``block`` -1 picks :func:`default_block`."""
    path = validate(image, boundary, model)
    try:
        b, k, c, shift = int(block), int(orientation), int(channel), float(max_shift)
    except (TypeError, ValueError):
        raise InputError("block, orientation and channel must be integers, the shift a number.") from None
    gif, caption, _ = animation(store, pipeline, path, model, boundary, None if b < 0 else b, k, c, shift)
    return str(gif), str(gif), caption


def gradio_errors(fn, *args, **kwargs):
    """Call ``fn`` and turn its failures into the gr.Error an API caller sees, as ``analyze`` does: an
    unusable image ("Cannot use this image"), an invalid input ("Invalid input"; this module's
    InputError, demo.inputs' and any ValueError, KeyError or TypeError), each with one log line; anything
    else is a bug: logged with its traceback, reported without details."""
    import gradio as gr

    from demo.images import ImageError

    log = logging.getLogger("demo")
    name = getattr(fn, "__name__", str(fn)).removesuffix("_endpoint")
    msg = lambda e: str(e.args[0]) if e.args else type(e).__name__
    try:
        return fn(*args, **kwargs)
    except gr.Error as e:
        log.warning("%s refused: %s", name, e.message)
        e.print_exception = False
        raise
    except ImageError as e:
        log.warning("%s refused: %s", name, msg(e))
        raise gr.Error(msg(e), title="Cannot use this image", print_exception=False) from None
    except (ValueError, KeyError, TypeError) as e:
        log.warning("%s refused: %s", name, msg(e))
        raise gr.Error(msg(e), title="Invalid input", print_exception=False) from None
    except Exception as e:
        log.error("%s failed", name, exc_info=e)
        raise gr.Error("Something went wrong while computing this view; the details are in the server log.",
                       print_exception=False) from None
