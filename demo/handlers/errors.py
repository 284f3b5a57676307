"""How a failure reaches an API caller: a gr.Error with a clear message and one log line; a traceback
in the log only for a bug."""

from __future__ import annotations

import logging

import gradio as gr

from demo.compute.lanes import Busy
from demo.images import ImageError
from demo.inputs.checks import InputError

log = logging.getLogger("demo")


def message(e: Exception) -> str:
    return str(e.args[0]) if e.args else type(e).__name__


def refusal(e: Exception, endpoint: str, bug: str = "analysing this image") -> gr.Error:
    """``e`` as the gr.Error the caller of ``endpoint`` sees: an unusable image ("Cannot use this image"),
    an invalid input ("Invalid input"), each with one log line; anything else is a bug, logged with its
    traceback and reported without details ("Something went wrong while ``bug``")."""
    if isinstance(e, gr.Error):
        log.warning("%s refused: %s", endpoint, e.message)
        e.print_exception = False
        return e
    if isinstance(e, ImageError):
        log.warning("%s refused: %s", endpoint, message(e))
        return gr.Error(message(e), title="Cannot use this image", print_exception=False)
    if isinstance(e, Busy):
        log.warning("%s refused: %s", endpoint, message(e))
        return gr.Error(message(e), title="Busy", print_exception=False)
    if isinstance(e, InputError):
        log.warning("%s refused: %s", endpoint, message(e))
        return gr.Error(message(e), title="Invalid input", print_exception=False)
    log.error("%s failed", endpoint, exc_info=e)
    return gr.Error(f"Something went wrong while {bug}; the details are in the server log.", print_exception=False)
