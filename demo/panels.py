"""From pipeline results to the figures and texts the UI shows (no measurements are made here)."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core import explain
from core.data import to_tensor
from core.models import CIFAR10, IMAGENET
from demo import figures, render
from demo.models import DemoModel
from demo.pipeline import Comparison, Original, top_k

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
# (file, caption) in gallery order; sources and licences in examples/LICENSES.md.
EXAMPLES = [("cat.jpg", "cat"), ("horse.jpg", "horse (drawing)"), ("rocket.jpg", "rocket"), ("coffee.jpg", "coffee"),
            ("astronaut.jpg", "astronaut"), ("grass.jpg", "grass"), ("gravel.jpg", "gravel"), ("brick.jpg", "brick")]
TEXTURES = ("grass", "gravel", "brick")
GAP = 4
COLUMNS = ["|x∗ψθ|<br>original", "|x∗ψθ|<br>translated", "difference<br>(transl. − orig.)",
           "phase<br>original", "phase<br>translated"]


def example_path(name: str) -> str:
    return str(EXAMPLES_DIR / name)


def tile_size(dm: DemoModel) -> int:
    return 72 if dm.size <= 64 else 80


def _blank(size: int) -> np.ndarray:
    return np.full((size, size, 3), 242.0)


def _selection(dm: DemoModel, orig: Original, k: int, rank: int) -> list[dict]:
    """Per block: the channel and orientation shown, the original's maps and its colour scale."""
    rows = []
    for j, blk in enumerate(orig.blocks):
        if dm.is_scattering:
            C, L, H, W = blk["wavelet"].shape
            kk = min(k, L - 1)
            ch = int(orig.ranking(j, kk)[min(rank, C - 1)])
            a = blk["wavelet"][ch, kk].numpy()
            info = blk["info"]
            label = (f"<b>block {j}</b> · {H}×{W} (×{info.scale * info.filters.stride})<br>"
                     f"ch {ch}/{C} · θ{kk} {math.degrees(info.filters.psi[kk].theta):.0f}°")
        else:
            C, H, W = blk["output"].shape
            kk, ch = 0, int(orig.ranking(j, 0)[min(rank, C - 1)])
            a = blk["output"][ch].numpy()
            label = f"<b>{'stem' if j == 0 else f'stage {j}'}</b> · {H}×{W} px<br>channel {ch} of {C} (real: no phase)"
        rows.append({"k": kk, "ch": ch, "a": a, "vmax": render.robust_max(a), "label": label})
    return rows


def _strip(tiles: list[np.ndarray], size: int) -> str:
    return render.jpeg_uri(render.stack([render.tile(t, size) for t in tiles], GAP))


def _original_strips(dm: DemoModel, orig: Original, k: int, rank: int, size: int) -> dict:
    """The original's columns, cached on the Original (they do not depend on the translation)."""
    key = ("strips", k, rank)
    if key not in orig.renders:
        sel = _selection(dm, orig, k, rank)
        blank = _blank(size)
        if dm.is_scattering:
            mod = [render.modulus_rgb(np.abs(r["a"]), r["vmax"]) for r in sel]
            phase = [render.phase_rgb(r["a"], r["vmax"]) for r in sel]
        else:
            mod = [render.signed_rgb(r["a"], r["vmax"]) for r in sel]
            phase = [blank for _ in sel]
        wheel = render.phase_wheel(size) if dm.is_scattering else blank
        while len(orig.renders) >= 16:  # bounded: a few display choices per image
            orig.renders.pop(next(iter(orig.renders)))
        orig.renders[key] = {"sel": sel, "modulus": _strip([orig.picture * 255] + mod, size),
                             "phase": _strip([wheel] + phase, size)}
    return orig.renders[key]


def maps_figure(dm: DemoModel, orig: Original, comp: Comparison, k: int, rank: int) -> dict:
    """One row per block: moduli of the original and translated image, their difference, and the
    phases (hue) with brightness = modulus, all on the original's colour scale. Top row: the input."""
    size = tile_size(dm)
    cached = _original_strips(dm, orig, k, rank, size)
    sel = cached["sel"]
    diff = (comp.branch.picture - orig.picture).mean(-1)
    mod_t = [comp.branch.picture * 255]
    diff_t = [render.signed_rgb(diff, max(float(np.abs(diff).max()), 1e-3))]
    phase_t = [render.scale_bars(size) if dm.is_scattering else _blank(size)]
    for r, blk in zip(sel, comp.branch.blocks):
        if dm.is_scattering:
            b = blk["wavelet"][r["ch"], r["k"]].numpy()
            mod_t.append(render.modulus_rgb(np.abs(b), r["vmax"]))
            diff_t.append(render.signed_rgb(np.abs(b) - np.abs(r["a"]), r["vmax"]))
            phase_t.append(render.phase_rgb(b, r["vmax"]))
        else:
            b = blk["output"][r["ch"]].numpy()
            mod_t.append(render.signed_rgb(b, r["vmax"]))
            diff_t.append(render.signed_rgb(b - r["a"], r["vmax"]))
            phase_t.append(_blank(size))
    strips = [cached["modulus"], _strip(mod_t, size), _strip(diff_t, size), cached["phase"], _strip(phase_t, size)]
    labels = [f"<b>input</b> · {dm.size}×{dm.size} px"] + [r["label"] for r in sel]
    columns = COLUMNS if dm.is_scattering else ["feature map<br>original", "feature map<br>translated",
                                                "difference", "—", "—"]
    return figures.maps(strips, columns, labels, size, GAP)


def predictions(dm: DemoModel, orig: Original, comp: Comparison) -> tuple[dict, dict, str, dict]:
    """gr.Label values for both images, the 'did the top class change' line, and the numbers."""
    a, b = top_k(orig.probs, dm.classes), top_k(comp.branch.probs, dm.classes)
    label = lambda t: {"label": t[0][0], "confidences": [{"label": c, "confidence": round(p, 4)} for c, p in t]}
    changed = a[0][0] != b[0][0]
    line = (f"**Top class changed:** {a[0][0]} → {b[0][0]}" if changed
            else f"**Top class unchanged:** {a[0][0]} ({100 * a[0][1]:.1f}% → {100 * b[0][1]:.1f}%)")
    if not dm.trained:
        line += " · untrained network: chance-level predictions"
    return label(a), label(b), line, {"original_top5": a, "translated_top5": b, "top_class_changed": changed}


def analysis_figures(dm: DemoModel, comp: Comparison, single: list[dict] | None, tau: tuple[float, float],
                     k: int) -> tuple[dict, dict]:
    if not dm.is_scattering:
        return (figures.feature_changes(comp.report) if math.hypot(*tau) else figures.message("τ = 0"),
                figures.message("ResNet-18 has no wavelet filters: no phases to compare.", 380))
    return figures.errors(comp.report, single, tau, k), figures.phases(comp.report, k)


# --------------------------------------------------------------------------------------------
# Explainer
# --------------------------------------------------------------------------------------------


def config_for(model_key: str):
    return IMAGENET if "imagenet" in model_key else CIFAR10


def morlet_figure(model_key: str, block: int, k: int) -> tuple[dict, str]:
    layers = explain.network_filters(config_for(model_key))
    fs, scale = layers[min(max(block, 0), len(layers) - 1)]
    k = min(max(k, 0), fs.L - 1)
    v = explain.morlet_view(fs, k, scale)
    text = (f"Block {min(block, len(layers) - 1)} ({fs.name}, one block pixel = {scale} input px), orientation θ{k} = "
            f"{math.degrees(v.theta):.0f}°: **ξ = ({v.xi[0]:.3f}, {v.xi[1]:.3f}) rad/px** (|ξ| = "
            f"{math.hypot(*v.xi):.3f}, wavelength {v.wavelength:.1f} px), **σ = {v.sigma:.2f} px** envelope, "
            f"spectral bandwidth σ_rms = {v.bandwidth:.3f} rad/px. All in input pixels.")
    return figures.morlet(v), text


def relu_figure(threshold: float) -> dict:
    x = np.linspace(-3, 3, 241)
    return figures.relu(x, explain.relu_parts(x, threshold), threshold)


@lru_cache(maxsize=32)
def _texture(name: str) -> torch.Tensor:
    return to_tensor(Image.open(example_path(f"{name}.jpg")))


@lru_cache(maxsize=64)
def separation_figure(a: str, b: str, j: int, k: int, n: int = 400) -> tuple[dict, str]:
    if a not in TEXTURES or b not in TEXTURES:
        raise ValueError(f"pick two of {TEXTURES}")
    f = explain.texture_filter(j, k)
    za = explain.coefficient_samples(_texture(a), f, n, seed=0)
    zb = explain.coefficient_samples(_texture(b), f, n, seed=1)
    s = explain.separation(za, zb)
    text = (f"Wavelet σ = {f.sigma:.1f} px, |ξ| = {f.xi:.3f} rad/px, θ = {math.degrees(f.theta):.0f}°, "
            f"{n} positions per image. |mean| / rms: {s['mean_ratio_a']:.3f} ({a}), {s['mean_ratio_b']:.3f} ({b}); "
            f"mean modulus: {s['modulus_mean_a']:.3f} vs {s['modulus_mean_b']:.3f}.")
    return figures.separation(za.numpy(), zb.numpy(), s, (a, b)), text
