"""Every setting the demo accepts, checked here and only here, with one kind of error
(:class:`InputError`, whose message is meant for the user) and the same message for the same setting
whichever endpoint receives it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.analysis.shifts import MAX_EXTENT, MAX_STEPS, MODES, shift_offsets

MAX_SHIFT = 32.0  # pixels, either axis
MAX_ORIENTATION = 7  # theta_k, k < L <= 8
MAX_CHANNEL = 15  # channel rank shown (clamped to the block's channel count)
MAX_ANIMATION_SHIFT = 8.0
MAX_BLOCK = 10  # block index (the ImageNet configuration's 11 blocks; clamped to the model's last)


class InputError(ValueError):
    """A setting or request the demo cannot use; the message is meant for the user."""


@dataclass(frozen=True)
class Settings:
    dx: float
    dy: float
    boundary: str
    model: str
    orientation: int
    channel: int

    @property
    def tau(self) -> tuple[float, float]:
        return (self.dy, self.dx)  # (rows, cols)

    @property
    def display(self) -> tuple:
        """What the maps depend on besides the image and the translation."""
        return (self.model, self.boundary, self.orientation, self.channel)


def number(name: str, value, lo: float, hi: float, unit: str = "", whole: bool = False) -> float:
    kind = "a whole number" if whole else "a number"
    msg = f"{name} must be {kind} between {lo:g} and {hi:g}{unit}; got {value!r}."
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(msg)
    try:
        v = float(value)
    except ValueError:
        raise InputError(msg) from None
    if not math.isfinite(v) or not lo <= v <= hi or (whole and v != int(v)):
        raise InputError(msg)
    return v


def boundary(value) -> str:
    if value not in MODES:
        raise InputError(f"boundary must be one of {', '.join(map(repr, MODES))}; got {value!r}.")
    return value


def model(value, models: list[str]) -> str:
    if value not in models:
        raise InputError(f"model must be one of {', '.join(map(repr, models))}; got {value!r}.")
    return value


def image_path(image) -> str:
    """The path of an image as an endpoint receives it (a path, or gradio's FileData)."""
    if image is None or (isinstance(image, str) and not image):
        raise InputError("No image: send an image file.")
    return image if isinstance(image, str) else getattr(image, "path", None) or str(image)


def parse(dx, dy, boundary_, model_, orientation, channel, models: list[str]) -> Settings:
    """Every setting checked and converted, or InputError with a message naming the setting."""
    sx = number("dx", dx, -MAX_SHIFT, MAX_SHIFT, " pixels")
    sy = number("dy", dy, -MAX_SHIFT, MAX_SHIFT, " pixels")
    boundary(boundary_)
    model(model_, models)
    k = number("orientation", orientation, 0, MAX_ORIENTATION, whole=True)
    rank = number("channel", channel, 0, MAX_CHANNEL, whole=True)
    return Settings(sx, sy, boundary_, model_, int(k), int(rank))


def grid(extent, steps) -> tuple[float, int]:
    """The grid's half-width (px) and shifts per axis as the endpoints receive them (numbers from a
    slider or a client), checked: an odd integer count in 3..33, a half-width in (0, 8] px."""
    extent = number("extent (the grid's half-width)", extent, 0, MAX_EXTENT, " pixels")
    count = number("steps (shifts per axis)", steps, 3, MAX_STEPS, whole=True)
    try:
        shift_offsets(extent, int(count))
    except (TypeError, ValueError) as e:
        raise InputError(str(e)) from None
    return extent, int(count)


def animation(block, orientation, channel, max_shift) -> tuple[int, int, int, float]:
    """The animation's settings, checked as ``analyze`` checks its own: (block or -1, k, channel rank, shift)."""
    b = number("block", block, -1, MAX_BLOCK, " (-1: automatic)", whole=True)
    k = number("orientation", orientation, 0, MAX_ORIENTATION, whole=True)
    rank = number("channel", channel, 0, MAX_CHANNEL, whole=True)
    shift = number("the animation's shift", max_shift, 0, MAX_ANIMATION_SHIFT, " pixels")
    if shift <= 0:
        raise InputError(f"the animation's shift must be a number between 0 (excluded) and {MAX_ANIMATION_SHIFT:g} "
                         f"pixels; got {max_shift!r}.")
    return int(b), int(k), int(rank), shift


def frames(count, axis: str) -> int:
    """The animation's frame count and axis (library calls; the endpoint uses the defaults)."""
    n = number("frames", count, 2, 64, whole=True)
    if axis not in ("dx", "dy"):
        raise InputError(f"axis must be 'dx' or 'dy'; got {axis!r}.")
    return int(n)
