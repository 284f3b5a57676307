"""The demo's settings, checked in one place (`parse`), and the input components that leave the checking
to it: gradio's own Slider, Radio and Dropdown refuse bad values with their own wording (or a bare
TypeError for a string or a null), and print a traceback for each; here every bad value gets the same
kind of message, for a wrong type as for a value out of range, and one log line."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import gradio as gr

MODES = ("circular", "zero")
MAX_SHIFT = 32.0  # pixels, either axis
MAX_ORIENTATION = 7  # theta_k, k < L <= 8
MAX_CHANNEL = 15  # channel rank shown (clamped to the block's channel count)


class InputError(ValueError):
    """A setting the demo cannot use; the message is meant for the user."""


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


def parse(dx, dy, boundary, model, orientation, channel, models: list[str]) -> Settings:
    """Every setting checked and converted, or InputError with a message naming the setting."""
    sx = number("dx", dx, -MAX_SHIFT, MAX_SHIFT, " pixels")
    sy = number("dy", dy, -MAX_SHIFT, MAX_SHIFT, " pixels")
    if boundary not in MODES:
        raise InputError(f"boundary must be one of {', '.join(map(repr, MODES))}; got {boundary!r}.")
    if model not in models:
        raise InputError(f"model must be one of {', '.join(map(repr, models))}; got {model!r}.")
    k = number("orientation", orientation, 0, MAX_ORIENTATION, whole=True)
    rank = number("channel", channel, 0, MAX_CHANNEL, whole=True)
    return Settings(sx, sy, boundary, model, int(k), int(rank))


def unchecked(component):
    """The component passes its value on as sent: `parse` checks it (gradio's own check of a Slider, Radio
    or Dropdown would refuse a string with a bare TypeError and print a traceback for every refusal).
    An instance attribute, not a subclass: gradio writes a .pyi stub next to every component subclass."""
    component.preprocess = lambda payload: payload
    return component


def quiet(component):
    """The component's own refusals (gr.File: a wrong file type) write one log line, not a traceback."""
    inner = component.preprocess

    def preprocess(payload):
        try:
            return inner(payload)
        except gr.Error as e:
            logging.getLogger("demo").warning("input refused: %s", e.message)
            e.print_exception = False
            raise

    component.preprocess = preprocess
    return component


def slider(*args, **kwargs) -> gr.Slider:
    return unchecked(gr.Slider(*args, **kwargs))


def radio(*args, **kwargs) -> gr.Radio:
    return unchecked(gr.Radio(*args, **kwargs))


def dropdown(*args, **kwargs) -> gr.Dropdown:
    return unchecked(gr.Dropdown(*args, **kwargs))
