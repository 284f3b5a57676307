"""Requests that never reach a handler: a malformed file payload (a plain string, a number, ``{}``, a bare
path instead of gradio's FileData) and an unknown endpoint. Each gets a clear message and one log line,
not a traceback. Nothing is read from disk for them."""

from __future__ import annotations

import logging

import gradio as gr
from fastapi.responses import JSONResponse
from gradio.route_utils import FnIndexInferError
from pydantic import ValidationError

log = logging.getLogger("demo")

FILE_HINT = ("send the image as a file: gradio_client's handle_file(path), or over HTTP a FileData "
             "{\"path\": <what /gradio_api/upload returned>, \"meta\": {\"_type\": \"gradio.FileData\"}}")


def checked_payloads(demo: gr.Blocks) -> gr.Blocks:
    """``demo`` whose payload validation (gradio's preprocess_data) refuses a malformed payload with a
    gr.Error naming the input, instead of a traceback and ``{"error": null}``. An instance attribute,
    as demo.inputs.components does for the components."""
    inner = demo.preprocess_data

    async def preprocess_data(block_fn, inputs, state, *args, **kwargs):
        try:
            return await inner(block_fn, inputs, state, *args, **kwargs)
        except ValidationError as e:
            names = {type(err.get("input")).__name__ for err in e.errors()}
            log.warning("%s refused: a malformed payload (%s)", block_fn.api_name, ", ".join(sorted(names)))
            raise gr.Error(f"A malformed input: {FILE_HINT}.", title="Invalid input", print_exception=False) from None

    demo.preprocess_data = preprocess_data
    return demo


async def unknown_endpoint(request, exc: FnIndexInferError) -> JSONResponse:
    log.warning("refused: %s", exc)
    return JSONResponse({"error": f"{exc}. The endpoints are listed at /?view=api (gradio_client: view_api())."},
                        status_code=404)


APP_KWARGS = {"exception_handlers": {FnIndexInferError: unknown_endpoint}}  # for demo.launch(app_kwargs=...)
