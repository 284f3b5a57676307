"""The invariance view's named endpoints ``stability``, ``invariance_curve`` and ``animation`` (on the
heavy lane; the same checks and messages as ``analyze``), and the page's versions of them, which never
raise (the summary or caption says what is wrong)."""

from __future__ import annotations

import logging
import time
from functools import partial

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


def stamp(source, boundary, model) -> list:
    """What a page result of the invariance view is of: the page's image, boundary and model. A result
    whose stamp is not the page's current one is not drawn (demo.ui.events.quietly)."""
    return [(source or {}).get("path"), boundary, model]


def visitor(request) -> str | None:
    """Who asks: the page's or the client's session (None when called outside a request)."""
    return getattr(request, "session_hash", None) or None


def waiting(ahead: int) -> None:
    gr.Info(f"Waiting: {ahead} map(s) or animation(s) of other visitors are computed first; yours follows.")


def _request(image, boundary, model) -> str:
    """``analyze``'s checks of the image, the boundary and the model; the image's path."""
    checks.boundary(boundary)
    checks.model(model, offered())
    return checks.image_path(image)


def stability_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT,
                       steps=DEFAULT_STEPS, progress=None, pause=None):
    """``stability``'s computation: (map plot, summary markdown, numbers)."""
    path = _request(image, boundary, model)
    extent, steps = checks.grid(extent, steps)
    fig, text, _, numbers = stability_view(store, pipeline, path, model, boundary, extent, steps, progress,
                                           pause=pause)
    return figures.plot(fig), text, numbers


def curve_endpoint(store, pipeline, image, boundary: str, model: str, extent=DEFAULT_EXTENT, steps=DEFAULT_STEPS,
                   progress=None, pause=None):
    """``invariance_curve``'s computation: (curve plot, caption markdown, per-model curves)."""
    path = _request(image, boundary, model)
    extent, steps = checks.grid(extent, steps)
    pairs = compute_maps(store, pipeline, path, model, boundary, extent, steps, progress, pause=pause)
    return figures.plot(curve_figure(pairs)), curve_caption(pairs), curve_numbers(boundary, pairs)


def animation_endpoint(store, pipeline, image, boundary: str, model: str, block=-1, orientation=0, channel=0,
                       max_shift=4.0):
    """``animation``'s computation: (GIF path shown in the page, the same for the download button, caption).
    ``block`` -1 picks demo.invariance.animation.default_block."""
    path = _request(image, boundary, model)
    b, k, c, shift = checks.animation(block, orientation, channel, max_shift)
    gif, caption, _ = animation(store, pipeline, path, model, boundary, b, k, c, shift)
    return str(gif), str(gif), caption


class Invariance:
    def __init__(self, store: ModelStore, pipeline: Pipeline, lanes: Lanes):
        self.store, self.pipeline, self.lanes = store, pipeline, lanes

    def _call(self, fn, request, *args, **kwargs):
        """An endpoint's computation on the heavy lane, one at a time per visitor, after the heavy requests
        already admitted (the visitor is told how many); its refusals as gr.Error, one log line each."""
        name = fn.__name__.removesuffix("_endpoint")
        try:
            return self.lanes.heavy(partial(fn, self.store, self.pipeline, *args, **kwargs), visitor=visitor(request),
                                    waiting=waiting)
        except Exception as e:
            raise refusal(e, name, "computing this view") from None

    def stability(self, image, boundary: str, model: str, extent: float = 2.0, steps: int = 17,
                  progress=PROGRESS, request: gr.Request = None):
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
        return self._call(stability_endpoint, request, image, boundary, model, extent, steps, progress,
                          pause=self.lanes.give_way)

    def invariance_curve(self, image, boundary: str, model: str, extent: float = 2.0, steps: int = 17,
                         progress=PROGRESS, request: gr.Request = None):
        """Where the invariance is built: per block, the mean relative change over the same grid of shifts
        (LScat+skip: the wavelet moduli; ResNet-18, when shipped: the stage outputs), against depth.

        Args:
            image, boundary, model, extent, steps: as for `stability`.
        Returns:
            curve figure, caption (markdown), numbers (per model: measure, block labels, curve).
        """
        return self._call(curve_endpoint, request, image, boundary, model, extent, steps, progress,
                          pause=self.lanes.give_way)

    def animation(self, image, boundary: str, model: str, block: int = -1, orientation: int = 0, channel: int = 0,
                  max_shift: float = 4.0, request: gr.Request = None):
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
        return self._call(animation_endpoint, request, image, boundary, model, block, orientation, channel, max_shift)

    def page(self, source, boundary, model, extent, steps, progress=None, request: gr.Request = None):
        """The page's view (opening the accordion, the button): the view's :func:`stamp`, then map, summary,
        numbers, curve, caption, for the page's image; never raises (the summary says what is wrong). No
        gr.Progress: the page shows a static note instead (demo.ui.events.quietly)."""
        key = stamp(source, boundary, model)
        path = (source or {}).get("path")
        if not path:
            return key, None, NO_IMAGE, None, None, ""
        t0 = time.perf_counter()
        try:
            fig, text, numbers = self.stability(path, boundary, model, extent, steps, progress, request)
            curve, caption, _ = self.invariance_curve(path, boundary, model, extent, steps, progress, request)
        except gr.Error as e:
            return key, None, f"**{e.title or 'Cannot compute the map'}:** {e.message}", None, None, ""
        # bench/bench_browser.py reads this line: the server's share of the latency the browser measures
        log.info("invariance view %s extent=%s steps=%s %s: %.0f ms", model, extent, steps, boundary,
                 1000 * (time.perf_counter() - t0))
        return key, fig, text, numbers, curve, caption

    def animation_page(self, source, boundary, model, block, orientation, channel, max_shift,
                       request: gr.Request = None):
        """The page's GIF, after the view's :func:`stamp`; never raises (the caption says what is wrong)."""
        key = stamp(source, boundary, model)
        path = (source or {}).get("path")
        if not path:
            return key, None, None, NO_IMAGE
        try:
            return key, *self.animation(path, boundary, model, block, orientation, channel, max_shift, request)
        except gr.Error as e:
            return key, None, None, f"**{e.title or 'Cannot play the translation'}:** {e.message}"
