"""The invariance view's named endpoints ``stability``, ``invariance_curve`` and ``animation`` (on the
heavy lane; the same checks and messages as ``analyze``), and the page's versions of them, which never
raise (the summary or caption says what is wrong)."""

from __future__ import annotations

import logging
import time

import gradio as gr

from core.analysis.shifts import DEFAULT_EXTENT, DEFAULT_STEPS
from demo.compute.lanes import Lanes
from demo.compute.pipeline import Pipeline
from demo.draw import figures
from demo.handlers.errors import refusal
from demo.handlers.page import NO_IMAGE
from demo.inputs import checks
from demo.invariance.animation import animation
from demo.invariance.figures import curve_figure
from demo.invariance.maps import compute_maps, curve_numbers, stability_view
from demo.invariance.text import curve_caption
from demo.models.catalog import offered
from demo.models.store import ModelStore

log = logging.getLogger("demo")
PROGRESS = gr.Progress()  # the marker gradio looks for in a signature (it passes this object to every call)


def _request(image, boundary, model) -> str:
    """``analyze``'s checks of the image, the boundary and the model; the image's path."""
    checks.boundary(boundary)
    checks.model(model, offered())
    return checks.image_path(image)


def stability_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT,
                       steps=DEFAULT_STEPS, progress=None):
    """``stability``'s computation: (map plot, summary markdown, numbers)."""
    path = _request(image, boundary, model)
    extent, steps = checks.grid(extent, steps)
    fig, text, _, numbers = stability_view(store, pipeline, path, model, boundary, extent, steps, progress)
    return figures.plot(fig), text, numbers


def curve_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT, steps=DEFAULT_STEPS,
                   progress=None):
    """``invariance_curve``'s computation: (curve plot, caption markdown, per-model curves)."""
    path = _request(image, boundary, model)
    extent, steps = checks.grid(extent, steps)
    pairs = compute_maps(store, pipeline, path, model, boundary, extent, steps, progress)
    return figures.plot(curve_figure(pairs)), curve_caption(pairs), curve_numbers(boundary, pairs)


def animation_endpoint(store, pipeline, image, boundary: str, model: str, block=-1, orientation=0, channel=0,
                       max_shift=4.0):
    """``animation``'s computation: (GIF path shown in the page, the same for the download button, caption).
    ``block`` -1 picks demo.invariance.animation.default_block."""
    path = _request(image, boundary, model)
    b, k, c, shift = checks.whole_numbers(block, orientation, channel, max_shift)
    gif, caption, _ = animation(store, pipeline, path, model, boundary, None if b < 0 else b, k, c, shift)
    return str(gif), str(gif), caption


class Invariance:
    def __init__(self, store: ModelStore, pipeline: Pipeline, lanes: Lanes):
        self.store, self.pipeline, self.lanes = store, pipeline, lanes

    def _call(self, fn, *args):
        """An endpoint's computation on the heavy lane; its refusals as gr.Error, one log line each."""
        try:
            return self.lanes.heavy(fn, self.store, self.pipeline, *args)
        except Exception as e:
            raise refusal(e, fn.__name__.removesuffix("_endpoint"), "computing this view") from None

    def stability(self, image, boundary: str, model: str, extent: float = 2.0, steps: int = 17,
                  progress=PROGRESS):
        """The prediction over a grid of sub-pixel translations of an image: at each shift (dx, dy), the
        probability of the unshifted image's top class, for the model and, when its weights are shipped,
        the ResNet-18 baseline of the same data set beside it.

        Args:
            image: an image file, as for `analyze`.
            boundary: "circular" (exact Fourier shift) or "zero" (zero-padded).
            model: a model key, as for `analyze`.
            extent: the grid's half-width in input pixels (0 < extent <= 8; default 2).
            steps: shifts per axis, odd, 3..33 (default 17: 17 x 17 shifts, step 0.25 px).
        Returns:
            map figure, summary (markdown), numbers (per model: grid, probs[dy][dx], kept fraction, changes, curve).
        """
        return self._call(stability_endpoint, image, boundary, model, extent, steps, progress)

    def invariance_curve(self, image, boundary: str, model: str, extent: float = 2.0, steps: int = 17,
                         progress=PROGRESS):
        """Where the invariance is built: per block, the mean relative change over the same grid of shifts
        (LScat+skip: the wavelet moduli; ResNet-18, when shipped: the stage outputs), against depth.

        Args:
            image, boundary, model, extent, steps: as for `stability`.
        Returns:
            curve figure, caption (markdown), numbers (per model: measure, block labels, curve).
        """
        return self._call(curve_endpoint, image, boundary, model, extent, steps, progress)

    def animation(self, image, boundary: str, model: str, block: int = -1, orientation: int = 0, channel: int = 0,
                  max_shift: float = 4.0):
        """The translation played: the image moved by dx = 0 .. max_shift pixels and one block's wavelet
        coefficients of the LScat+skip model (a ResNet key animates its LScat+skip pair), as an animated GIF:
        the phases turn while the moduli change less.

        Args:
            image, boundary, model: as for `analyze`.
            block: block index (-1: chosen automatically).
            orientation: wavelet orientation theta_k (clamped to L-1).
            channel: channel rank (0 = most energetic).
            max_shift: the last dx, in input pixels (0 < max_shift <= 8).
        Returns:
            the GIF (shown), the GIF (download), caption (markdown).
        """
        return self._call(animation_endpoint, image, boundary, model, block, orientation, channel, max_shift)

    def page(self, source, boundary, model, extent, steps, progress=None):
        """The page's view (opening the accordion, the button): map, summary, numbers, curve, caption, for the
        page's image; never raises (the summary says what is wrong). No gr.Progress: the page shows a static
        note instead (demo.ui.events.quietly)."""
        path = (source or {}).get("path")
        if not path:
            return None, NO_IMAGE, None, None, ""
        t0 = time.perf_counter()
        try:
            fig, text, numbers = self.stability(path, boundary, model, extent, steps, progress)
            curve, caption, _ = self.invariance_curve(path, boundary, model, extent, steps, progress)
        except gr.Error as e:
            return None, f"**{e.title or 'Cannot compute the map'}:** {e.message}", None, None, ""
        # bench/bench_browser.py reads this line: the server's share of the latency the browser measures
        log.info("invariance view %s extent=%s steps=%s %s: %.0f ms", model, extent, steps, boundary,
                 1000 * (time.perf_counter() - t0))
        return fig, text, numbers, curve, caption

    def animation_page(self, source, boundary, model, block, orientation, channel, max_shift):
        """The page's GIF; never raises (the caption says what is wrong)."""
        path = (source or {}).get("path")
        if not path:
            return None, None, NO_IMAGE
        try:
            return self.animation(path, boundary, model, block, orientation, channel, max_shift)
        except gr.Error as e:
            return None, None, f"**{e.title or 'Cannot play the translation'}:** {e.message}"
