"""Input components that leave the checking to demo.inputs.checks: gradio's own Slider, Radio and
Dropdown refuse bad values with their own wording (or a bare TypeError for a string or a null), and
print a traceback for each; here every bad value gets the same kind of message, for a wrong type as for
a value out of range, and one log line."""

from __future__ import annotations

import logging

import gradio as gr


def unchecked(component):
    """The component passes its value on as sent: demo.inputs.checks checks it (gradio's own check of a
    Slider, Radio or Dropdown would refuse a string with a bare TypeError and print a traceback for every
    refusal). An instance attribute, not a subclass: gradio writes a .pyi stub next to every component
    subclass."""
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
