"""Every setting the demo accepts, checked here and only here, with one kind of error
(:class:`InputError`, whose message is meant for the user) and the same message for the same setting
whichever endpoint receives it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.analysis.shifts import MODES, shift_offsets

MAX_SHIFT = 32.0  # pixels, either axis
MAX_ORIENTATION = 7  # theta_k, k < L <= 8
MAX_CHANNEL = 15  # channel rank shown (clamped to the block's channel count)
MAX_ANIMATION_SHIFT = 8.0


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


def animation(max_shift, axis: str, frames, k, channel) -> float:
    """The animation's own settings (the image, boundary and model are checked as for analyze)."""
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


def whole_numbers(block, orientation, channel, max_shift) -> tuple[int, int, int, float]:
    try:
        return int(block), int(orientation), int(channel), float(max_shift)
    except (TypeError, ValueError):
        raise InputError("block, orientation and channel must be integers, the shift a number.") from None
