"""The explainer's figures: a Morlet wavelet of a model's configuration, ReLU as absolute value plus
soft-thresholding, and the class-mean separation of two textures' wavelet coefficients."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from core.analysis import explain
from core.data import to_tensor
from demo.draw import figures
from demo.images import example_path
from demo.models.catalog import config_for

TEXTURES = ("grass", "gravel", "brick")
FILTER_NAMES = {"standard": "standard J = 1 filters, subsampled by 2", "psi1": "ψ₁ filters, not subsampled",
                "psi3/2": "ψ₃⁄₂ filters, subsampled by 2"}


def morlet_figure(model_key: str, block: int, k: int) -> tuple[dict, str]:
    layers = explain.network_filters(config_for(model_key))
    fs, scale = layers[min(max(block, 0), len(layers) - 1)]
    k = min(max(k, 0), fs.L - 1)
    v = explain.morlet_view(fs, k, scale)
    text = (f"Block {min(block, len(layers) - 1)} ({FILTER_NAMES.get(fs.name, fs.name)}; one block pixel = {scale} "
            f"input px), orientation θ{k} = {math.degrees(v.theta):.0f}°: **ξ = ({v.xi[0]:.3f}, {v.xi[1]:.3f}) "
            f"rad/px** (|ξ| = {math.hypot(*v.xi):.3f}, wavelength {v.wavelength:.1f} px), **σ = {v.sigma:.2f} px** "
            f"envelope, spectral bandwidth σ_rms = {v.bandwidth:.3f} rad/px. All in input pixels.")
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
