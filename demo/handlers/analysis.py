"""The analysis shared by the page and the API: one image and its settings -> a :class:`Result` (computed
on the light lane), and the named endpoints ``analyze`` and ``shift``, which return every output, named;
bad inputs raise a gr.Error with a clear message and write one log line."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import gradio as gr

from demo.compute.branches import Comparison, Original
from demo.compute.disk import prune_uploads
from demo.compute.lanes import Lanes
from demo.compute.pipeline import Pipeline
from demo.draw import panels
from demo.handlers.errors import refusal
from demo.inputs.checks import Settings, image_path, parse
from demo.models.catalog import LABELS, offered
from demo.models.store import DemoModel, ModelStore

log = logging.getLogger("demo")


@dataclass
class Result:
    """One analysed (image, settings): what the page and the API both show."""

    dm: DemoModel
    key: tuple
    orig: Original
    comp: Comparison
    single: list[dict] | None
    settings: Settings

    @property
    def state(self) -> str:
        return panels.token(self.settings, self.key[-1][:8])

    def status(self, name: str) -> str:
        notes = "".join(f"\n- {n}" for n in self.orig.notes)
        return self.dm.banner() + f"\n\n**Image:** {name}" + (f". About this image:{notes}" if notes else "")

    def numbers(self) -> dict:
        s, dm = self.settings, self.dm
        top = panels.predictions(dm, self.orig, self.comp)[3]
        return {"model": dm.key, "trained": dm.trained, "weights": dm.weights, "tau": {"dx": s.dx, "dy": s.dy},
                "boundary": s.boundary, **top, "blocks": self.comp.report, "single_wavelet": self.single}


class Analysis:
    """The computation behind the page and the API, and the two endpoints that expose it."""

    def __init__(self, store: ModelStore, pipeline: Pipeline, lanes: Lanes):
        self.store, self.pipeline, self.lanes = store, pipeline, lanes

    def run(self, path: str, s: Settings, notify: bool = True) -> Result:
        if notify and not self.store.ready(s.model):  # (a toast needs a queued event)
            gr.Info(f"Preparing {LABELS.get(s.model, s.model)} (first use; this takes a while on a small CPU)…")
        return self.lanes.light(self.compute, path, s)

    def compute(self, path: str, s: Settings) -> Result:
        dm, key, orig, _ = self.pipeline.original(path, s.model, s.boundary)
        comp = self.pipeline.shifted(dm, key, orig, s.tau, s.boundary)
        return Result(dm, key, orig, comp, self.pipeline.single(orig, comp, s.tau, s.orientation), s)

    def analyze(self, image, dx: float, dy: float, boundary: str, model: str, orientation: int, channel: int):
        """Translate an image by (dx, dy) pixels and compare, block by block, the wavelet coefficients of
        the original and translated image with the phase-shift prediction.

        Args:
            image: an image file (JPEG, PNG, WebP, GIF, BMP, TIFF; at most 10 MB and 40 megapixels).
            dx: shift to the right, in input pixels of the model (sub-pixel allowed, |dx| <= 32).
            dy: shift down, in input pixels (|dy| <= 32).
            boundary: "circular" (exact Fourier shift, wavelets on the torus) or "zero" (zero-padded).
            model: a model key, e.g. "lscat_skip_cifar10" or "lscat_skip_imagenette".
            orientation: wavelet orientation index theta_k shown in the maps (0..7, clamped to L-1).
            channel: channel rank shown in the maps (0..15; 0 = most energetic channel of each block).
        Returns:
            status, top-5 original, top-5 translated, top class, maps, error chart, phase chart (HTML), numbers.
        """
        t0 = time.perf_counter()
        try:
            s = parse(dx, dy, boundary, model, orientation, channel, offered())
            path = image_path(image)
            r = self.run(path, s)
        except Exception as e:
            raise refusal(e, "analyze") from None
        prune_uploads()
        pred_o, pred_t, line, _ = panels.predictions(r.dm, r.orig, r.comp)
        errors, phases = panels.analysis_charts(r.dm, r.comp, r.single, r.settings, r.state)
        maps = panels.maps_html(r.dm, r.orig, r.comp, r.settings, r.state)
        log.info("analyze %s dx=%s dy=%s %s: %.0f ms", model, dx, dy, boundary, 1000 * (time.perf_counter() - t0))
        return r.status(os.path.basename(path)), pred_o, pred_t, line, maps, errors, phases, r.numbers(), path

    def shift(self, current, dx: float, dy: float, boundary: str, model: str, orientation: int, channel: int):
        """The same analysis for the image last analysed in this session (its path is kept in a gr.State):
        what moving a slider asks for, without sending the image again.

        Args:
            dx, dy, boundary, model, orientation, channel: as for `analyze`.
        Returns:
            the outputs of `analyze`.
        """
        try:
            parse(dx, dy, boundary, model, orientation, channel, offered())  # a bad setting is named first
            if not current:
                raise gr.Error("No image in this session yet: call `analyze` with an image first.", title="No image")
        except Exception as e:
            raise refusal(e, "shift") from None
        return self.analyze(current, dx, dy, boundary, model, orientation, channel)
