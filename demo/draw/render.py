"""Arrays -> small RGB pictures (WebP or JPEG data URIs) in the poster's colours, and the CSS colour
ramps of their legends. Presentation only."""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
from PIL import Image

# The poster's colours: blue = phase collapse / modulus, orange = soft-thresholding / learned
# parts, green = ReLU; the two classes of the class-mean separation picture are green and red.
BLUE = "#2f78b7"
ORANGE = "#e8862a"
GREEN = "#4f9a3a"
RED = "#d0342c"
GREY = "#7f7f7f"


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


LEVELS = 1025  # colour-map resolution (t = 0.5 is exact); adjacent levels differ by at most 1 of 255


def _interp(stops: tuple[tuple[float, str], ...], t: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour map, exactly: t in [0, 1] -> (..., 3) float in [0, 255]."""
    pos = np.array([p for p, _ in stops])
    cols = np.stack([_hex(c) for _, c in stops])
    t = np.clip(t, 0, 1)
    return np.stack([np.interp(t, pos, cols[:, i]) for i in range(3)], axis=-1)


@lru_cache(maxsize=8)
def _table(stops: tuple[tuple[float, str], ...]) -> np.ndarray:
    return _interp(stops, np.linspace(0, 1, LEVELS))


def _ramp(stops, t: np.ndarray) -> np.ndarray:
    """The colour map as a lookup table of LEVELS entries (one gather instead of three interps)."""
    t = np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.0)
    return _table(tuple(stops))[np.rint(np.clip(t, 0, 1) * (LEVELS - 1)).astype(np.intp)]


SEQUENTIAL = ((0.0, "#ffffff"), (0.35, "#9ecae1"), (0.7, BLUE), (1.0, "#08306b"))  # white -> poster blue
DIVERGING = ((0.0, "#a6470b"), (0.25, ORANGE), (0.5, "#ffffff"), (0.75, BLUE), (1.0, "#08306b"))


def plotly_scale(stops: list[tuple[float, str]]) -> list[list]:
    """The same colour map as a plotly colorscale."""
    return [[p, c] for p, c in stops]


def modulus_rgb(m: np.ndarray, vmax: float) -> np.ndarray:
    return _ramp(SEQUENTIAL, m / max(vmax, 1e-12))


def signed_rgb(d: np.ndarray, vmax: float) -> np.ndarray:
    """Negative orange, zero white, positive blue; +-vmax saturate."""
    return _ramp(DIVERGING, 0.5 + 0.5 * d / max(vmax, 1e-12))


def phase_rgb(z: np.ndarray, vmax: float) -> np.ndarray:
    """Hue = phase, brightness = modulus (saturating at vmax), full saturation."""
    h = (np.angle(z) + np.pi) / (2 * np.pi)  # [0, 1)
    v = np.clip(np.abs(z) / max(vmax, 1e-12), 0, 1)
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = np.zeros_like(v), v * (1 - f), v * f
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1) * 255


@lru_cache(maxsize=8)
def phase_wheel(size: int) -> np.ndarray:
    """Legend of :func:`phase_rgb`: hue = angle (0 to the right, row axis down), brightness = radius."""
    c = (np.arange(size) - (size - 1) / 2) / (size / 2 - 1)
    z = c[None, :] + 1j * c[:, None]
    rgb = phase_rgb(np.where(np.abs(z) <= 1, z, 0), 1.0)
    rgb[np.abs(z) > 1] = 255
    return rgb


@lru_cache(maxsize=8)
def scale_bars(size: int) -> np.ndarray:
    """Legend of :func:`modulus_rgb` (top: 0 -> max) and :func:`signed_rgb` (bottom: -max -> +max)."""
    t = np.linspace(0, 1, size)[None, :].repeat(size // 2 - 2, 0)
    gap = np.full((4, size, 3), 255.0)
    return np.concatenate([modulus_rgb(t, 1), gap, signed_rgb(2 * t - 1, 1)])[:size]


def robust_max(*arrays: np.ndarray, q: float = 99.5) -> float:
    """A shared colour range: the q-th percentile of the absolute values of all arrays."""
    v = np.concatenate([np.abs(a).ravel() for a in arrays])
    return float(np.percentile(v, q)) if v.size else 1.0


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 255] (or already uint8) -> uint8."""
    return rgb if rgb.dtype == np.uint8 else np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def tile(rgb: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w, 3) picture to a (size, size, 3) uint8 tile (maps are
    square); the picture is rounded to uint8 first, at its own, usually smaller, size."""
    rgb = to_uint8(rgb)
    h, w = rgb.shape[:2]
    if (h, w) == (size, size):
        return rgb
    if size % h == 0 and size % w == 0:  # an integer zoom: repeat is a few times faster than a gather
        return rgb.repeat(size // h, axis=0).repeat(size // w, axis=1)
    rows = np.arange(size) * h // size
    cols = np.arange(size) * w // size
    return rgb[rows[:, None], cols[None, :]]


def stack(tiles: list[np.ndarray], gap: int, axis: int = 0) -> np.ndarray:
    """Tiles with ``gap`` white pixels between them, along ``axis`` (0: a column, 1: a row)."""
    parts = []
    for i, t in enumerate(tiles):
        t = to_uint8(t)
        if i:
            shape = list(t.shape)
            shape[axis] = gap
            parts.append(np.full(shape, 255, dtype=np.uint8))
        parts.append(t)
    return np.concatenate(parts, axis=axis)


def jpeg_uri(rgb: np.ndarray, quality: int = 90) -> str:
    """(h, w, 3) RGB -> data:image/jpeg;base64 URI; full chroma resolution, so that the tiles'
    colour edges stay sharp. A quarter of the PNG's size and encoding time for these maps."""
    a = to_uint8(rgb)
    buf = io.BytesIO()
    Image.fromarray(a, "RGB").save(buf, format="JPEG", quality=quality, subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")



def webp_uri(rgb: np.ndarray, lossless: bool = False, quality: int = 80) -> str:
    """(h, w, 3) RGB -> data:image/webp;base64 URI, at the picture's own resolution (the page scales it).
    Lossless for small maps (exact colours, no chroma blur once magnified), lossy above: a map of 80x80
    block pixels is ~19 kB lossless and ~5 kB at quality 80 (the maps are textured, so PNG does no
    better than lossless WebP). Lossless at method 1: fewer bytes than method 0 for the CIFAR-10 maps (tried on
    the gravel example), and no more than the slower methods 2-6."""
    a = to_uint8(rgb)
    buf = io.BytesIO()
    kw = {"lossless": True, "method": 1} if lossless else {"quality": quality}
    Image.fromarray(np.ascontiguousarray(a), "RGB").save(buf, format="WEBP", **kw)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """A picture brought to (size, size) with an area filter (for pictures larger than their tile)."""
    a = to_uint8(rgb)
    if a.shape[0] == size and a.shape[1] == size:
        return a
    return np.asarray(Image.fromarray(a, "RGB").resize((size, size), Image.Resampling.BOX))


def css_ramp(stops, direction: str = "to right") -> str:
    """A colour map as a CSS linear-gradient (the legends cost no image bytes)."""
    return f"linear-gradient({direction}, " + ", ".join(f"{c} {100 * p:g}%" for p, c in stops) + ")"


# phase_rgb's hue wheel as CSS: hue 0 (red) at phase -pi, i.e. pointing left (row axis down), hue
# increasing clockwise on screen; brightness = modulus, black at the centre.
PHASE_WHEEL_CSS = ("radial-gradient(closest-side, #000 0%, rgba(0,0,0,0) 100%), "
                   "conic-gradient(from 270deg, #f00, #ff0, #0f0, #0ff, #00f, #f0f, #f00)")
