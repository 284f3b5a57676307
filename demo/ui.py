"""The Gradio app: layout, events, and the named API endpoints ``analyze`` and ``shift``.

The page and the API are served by different event handlers over the same computation (``App._run``):
* ``App.update`` drives the page (direct requests, not queued). It never raises: a bad file, a cleared
  image or a bad setting clears the panels and leaves the reason in the status line until the next
  good input. It returns only the
  outputs that changed (a translation sends the translated side, not the original's), and every
  input (slider drags, arrow keys, typed numbers, the boundary, the model, a new image) goes through
  this one event with trigger_mode "always_last": while an update runs, further moves collapse into
  one, made with the latest values.
* ``App.analyze`` / ``App.shift`` are the API (events without a trigger on the page): every output,
  named; bad inputs raise a gr.Error with a clear message and write one log line."""

from __future__ import annotations

import contextvars
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace

import gradio as gr

from demo import figures, inputs, invariance, panels
from demo.images import EXTENSIONS, MAX_BYTES, ImageError
from demo.inputs import MAX_SHIFT, InputError, Settings, parse
from demo.models import DEFAULT, LABELS, DemoModel, ModelStore, offered
from demo.pipeline import Comparison, Original, Pipeline

log = logging.getLogger("demo")

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
CSS = """
.caption {color: #555; font-size: 0.9em; margin-top: -4px}
#title h1 {font-size: 1.6em; margin: 0 0 2px 0; color: #0b3d91}
#title p {margin: 0}
#status {border-left: 4px solid #e8862a; padding-left: 10px; min-height: 2.6em}
#image {min-height: 0}
#examples .grid-wrap {overflow: hidden; padding: 36px 4px 4px 4px}
#examples .grid-container {grid-template-columns: repeat(4, minmax(0, 1fr)) !important;
                           grid-template-rows: repeat(2, 74px) !important; grid-auto-rows: 74px !important;
                           gap: 6px !important}
#maps_original, #maps_translated {flex: none !important; width: auto !important; min-width: 0 !important}
.pc-pic {margin: 0; text-align: center}
.pc-pic img {display: block; margin: 0 auto; width: 200px; height: 200px; border: 1px solid #ccc}
.pc-pic figcaption {font-size: 12px; color: #555; margin-top: 3px}
.pc-empty {width: 200px; height: 200px; margin: 0 auto; display: flex; align-items: center; justify-content: center;
           text-align: center; background: #f3f4f6; color: #777; border: 1px dashed #bbb; font-size: 13px; padding: 8px}
.pc-pair {display: flex; gap: 4px}
.pc-maps {display: flex; flex-direction: column; gap: 4px}
.pc-r {display: flex; gap: 4px; height: var(--t); align-items: center}
.pc-r > img, .pc-r > .pc-blank, .pc-h > div {width: var(--t); height: var(--t); flex: none; margin: 0}
.pc-h {height: 54px; align-items: flex-end}
.pc-h > div {height: auto; font-size: 11.5px; line-height: 1.2; text-align: center}
.pc-h > div.pc-l, .pc-r > .pc-l {width: 150px; flex: none}
.pc-l {font-size: 11px; line-height: 1.25; text-align: right; padding-right: 4px; color: #333}
img.pc-x {image-rendering: pixelated}
.pc-key {display: block; height: 7px; margin: 2px 4px 0 4px; border: 1px solid #ccc}
.pc-key.pc-wheel {width: 16px; height: 16px; border-radius: 50%; margin: 2px auto 0 auto}
#maps_translated {margin-left: 10px}
.pc-chart {border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 8px; background: white}
.pc-ct {font-size: 13px; font-weight: 600; color: #333; margin-bottom: 2px}
.pc-svg {width: 100%; height: auto; display: block; font-size: 11px}
.pc-svg.pc-square {max-width: 400px; margin: 0 auto}
.pc-tx {text-anchor: middle; fill: #444}
.pc-ty {text-anchor: end; dominant-baseline: middle; fill: #444}
.pc-legend {display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 11.5px; color: #333}
.pc-lg {display: inline-flex; align-items: center; gap: 4px}
.pc-msg {padding: 40px 10px; text-align: center; color: #777}
"""
# Keyboard: a range slider's arrow keys, PageUp/PageDown and Home/End already fire "input" events; Enter
# in a slider's number box fires nothing until the box loses focus (gradio's "release" on blur), so
# Enter is turned into the same "release" the pointer sends.
HEAD = """<script>
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.key === "Enter" && t instanceof HTMLInputElement && t.type === "number") {
    t.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
  }
}, true);
</script>"""
NO_IMAGE = "**No image**: drop one in the box above or pick an example."
COMPUTING_MAP = "**Computing** the prediction at every shift of the grid, then the curve…"
COMPUTING_GIF = "**Computing** the frames…"
PROGRESS = gr.Progress()  # the marker gradio looks for in a signature (it passes this object to every call)
CLEARED_PICTURE = "no image"


def theme() -> gr.themes.Base:
    """Poster colours; system fonts only, so that nothing is fetched from a font server."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="orange", neutral_hue="slate",
                             font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def launch_settings() -> dict:
    from demo.panels import EXAMPLES_DIR

    return {"max_file_size": MAX_BYTES, "allowed_paths": [str(EXAMPLES_DIR)], "ssr_mode": False, "theme": theme(),
            "css": CSS, "head": HEAD, "footer_links": ["api"], "show_error": False}


def default_threads(cores: int | None) -> int:
    """Torch threads of the analysis: half the cores (at most 16), leaving the rest to the web server and,
    on a laptop, the browser. On 2 cores the single thread is as fast through gradio as two, and takes
    half the CPU: OpenMP's spinning second thread competed with the server (bench/bench_demo.py
    --threads, docs/DEMO.md). app.py applies it unless PHASE_COLLAPSE_THREADS says otherwise."""
    return max(1, min(16, (cores or 1) // 2))


def _caption(text: str = "", **kw) -> gr.Markdown:
    return gr.Markdown(text, elem_classes=["caption"], **kw)


def _message(e: Exception) -> str:
    return str(e.args[0]) if e.args else type(e).__name__


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


class App:
    def __init__(self, store: ModelStore | None = None):
        self.store = store or ModelStore()
        self.pipeline = Pipeline(self.store)
        # Every analysis runs on this one thread: torch's OpenMP thread team stays warm and bound to it,
        # instead of one team per gradio worker thread competing for the same cores.
        self._compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")
        self.ui = SimpleNamespace()

    # -- the computation, shared by the page and the API --------------------------------------------
    def _run(self, path: str, s: Settings, notify: bool = True) -> Result:
        if notify and not self.store.ready(s.model):  # (a toast needs a queued event)
            gr.Info(f"Preparing {LABELS.get(s.model, s.model)} (first use; this takes a while on a small CPU)…")
        ctx = contextvars.copy_context()  # gr.Info finds its request through it
        return self._compute.submit(ctx.run, self._run_here, path, s).result()

    def _run_here(self, path: str, s: Settings) -> Result:
        dm, key, orig, _ = self.pipeline.original(path, s.model, s.boundary)
        comp = self.pipeline.shifted(dm, key, orig, s.tau, s.boundary)
        return Result(dm, key, orig, comp, self.pipeline.single(orig, comp, s.tau, s.orientation), s)

    # -- the API: named endpoints "analyze" and "shift" ---------------------------------------------
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
            if image is None or (isinstance(image, str) and not image):
                raise InputError("No image: send an image file.")
            path = image if isinstance(image, str) else getattr(image, "path", None) or str(image)
            r = self._run(path, s)
        except Exception as e:
            raise _api_error(e, "analyze") from None
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
        except InputError as e:
            raise _api_error(e, "shift") from None
        if not current:
            log.warning("shift refused: no image in this session")
            raise gr.Error("No image in this session yet: call `analyze` with an image first.", title="No image",
                           print_exception=False)
        return self.analyze(current, dx, dy, boundary, model, orientation, channel)

    # -- the page -------------------------------------------------------------------------------------
    def update(self, source, shown, numbers_open, dx, dy, boundary, model, orientation, channel) -> dict:
        """One page update from the current inputs; only the outputs that changed (see the module doc)."""
        shown = shown or {}
        if dx is None or dy is None:  # a number box while a number is being typed ("-", "")
            return {}
        try:
            s = parse(dx, dy, boundary, model, orientation, channel, offered())
        except InputError as e:
            log.warning("page: %s", e)
            return self._problem(f"**Invalid setting:** {e}", shown)
        if not source:
            return self._problem(NO_IMAGE, shown)
        t0 = time.perf_counter()
        try:
            r = self._run(source["path"], s, notify=False)
        except ImageError as e:
            log.warning("page: cannot use %s: %s", source.get("name"), e)
            return self._problem(f"**Cannot use {source.get('name', 'this file')}:** {e} "
                                 f"Drop another image or pick an example.", shown)
        except Exception:
            log.exception("page update failed")
            return self._problem("**Something went wrong** while analysing this image; the details are in the "
                                 "server log. Try another image.", shown)
        out = self._changed(r, source, shown, bool(numbers_open))
        log.info("page %s dx=%s dy=%s: %.0f ms, %d outputs", s.model, s.dx, s.dy, 1000 * (time.perf_counter() - t0),
                 len(out) - 1)
        return out

    def _changed(self, r: Result, source: dict, shown: dict, numbers_open: bool) -> dict:
        o, s, state = self.ui, r.settings, r.state
        image = f"{s.model}|{s.boundary}|{r.key[-1]}"
        new_image = shown.get("image") != image
        new_display = new_image or shown.get("display") != [s.orientation, s.channel]
        new_tau = new_image or shown.get("tau") != [s.dx, s.dy]
        status = r.status(source.get("name", ""))
        now = {"image": image, "display": [s.orientation, s.channel], "tau": [s.dx, s.dy], "status": status,
               "numbers": numbers_open}
        out = {o.shown: now}
        if status != shown.get("status"):
            out[o.status] = status
        pred_o, pred_t, line, _ = panels.predictions(r.dm, r.orig, r.comp) if new_image or new_tau else (None,) * 4
        if new_image:
            out |= {o.picture_o: panels.original_picture(r.dm, r.orig, source.get("name", ""), state),
                    o.pred_o: pred_o, o.errors_caption: panels.errors_caption(r.dm, s.boundary),
                    o.phases_caption: panels.phases_caption(s.boundary),
                    o.maps_caption: panels.maps_caption(s.boundary)}
        if new_tau:
            out |= {o.picture_t: panels.translated_picture(r.dm, r.comp, s, state), o.pred_t: pred_t, o.change: line}
        if new_display:
            out[o.maps_o] = panels.original_maps(r.dm, r.orig, s, state)
        if new_tau or new_display:
            errors, phases = panels.analysis_charts(r.dm, r.comp, r.single, s, state)
            out |= {o.maps_t: panels.translated_maps(r.dm, r.orig, r.comp, s, state), o.errors: errors,
                    o.phases: phases}
        if numbers_open and (new_tau or new_display or not shown.get("numbers")):
            out[o.numbers] = r.numbers()
        return out

    def _problem(self, message: str, shown: dict) -> dict:
        """The status says what went wrong, and no panel shows an earlier image's analysis."""
        o = self.ui
        out = {o.shown: {"status": message, "cleared": True}}
        if shown.get("status") != message:
            out[o.status] = message
        if not shown.get("cleared"):
            blank = panels.picture_html(None, None, CLEARED_PICTURE)
            out |= {o.picture_o: blank, o.picture_t: blank, o.pred_o: None, o.pred_t: None, o.change: "",
                    o.maps_o: "", o.maps_t: "", o.errors: "", o.phases: "", o.numbers: None}
        return out

    @staticmethod
    def uploaded(path):
        """A new file in the box: it becomes the page's image (analysed by `update`) and the box is emptied,
        so that it always shows where to drop the next one."""
        if not path:
            return gr.skip(), gr.skip()
        return {"path": path, "name": os.path.basename(path)}, None

    @staticmethod
    def picked(evt: gr.SelectData):
        name, caption = panels.EXAMPLES[evt.index]
        return {"path": panels.example_path(name), "name": f"{caption} (example)"}, None

    # -- translation invariance: API endpoints "stability", "invariance_curve", "animation" ----------
    def _invariance(self, fn, *args):
        """A demo/invariance.py endpoint on the analysis thread; its refusals as gr.Error, one log line each."""
        ctx = contextvars.copy_context()  # gr.Progress finds its request through it
        return self._compute.submit(ctx.run, invariance.gradio_errors, fn, self.store, self.pipeline, *args).result()

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
        return self._invariance(invariance.stability_endpoint, image, boundary, model, extent, steps, progress)

    def invariance_curve(self, image, boundary: str, model: str, extent: float = 2.0, steps: int = 17,
                         progress=PROGRESS):
        """Where the invariance is built: per block, the mean relative change over the same grid of shifts
        (LScat+skip: the wavelet moduli; ResNet-18, when shipped: the stage outputs), against depth.

        Args:
            image, boundary, model, extent, steps: as for `stability`.
        Returns:
            curve figure, caption (markdown), numbers (per model: measure, block labels, curve).
        """
        return self._invariance(invariance.curve_endpoint, image, boundary, model, extent, steps, progress)

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
        return self._invariance(invariance.animation_endpoint, image, boundary, model, block, orientation, channel,
                                max_shift)

    def invariance_page(self, source, boundary, model, extent, steps, progress=None):
        """The page's view (opening the accordion, the button): map, summary, numbers, curve, caption, for the
        page's image; never raises (the summary says what is wrong). No gr.Progress: the page shows a static
        note instead (``quietly``)."""
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
        path = (source or {}).get("path")
        if not path:
            return None, None, NO_IMAGE
        try:
            return self.animation(path, boundary, model, block, orientation, channel, max_shift)
        except gr.Error as e:
            return None, None, f"**{e.title or 'Cannot play the translation'}:** {e.message}"

    # -- explainer --------------------------------------------------------------------------------
    def morlet(self, model, block, k):
        try:
            b = int(inputs.number("block", block, 0, 10, whole=True))
            kk = int(inputs.number("orientation", k, 0, inputs.MAX_ORIENTATION, whole=True))
            fig, text = panels.morlet_figure(model if model in LABELS else DEFAULT, b, kk)
        except Exception as e:
            raise _api_error(e, "morlet") from None
        return figures.plot(fig), text

    def relu(self, threshold):
        try:
            lam = inputs.number("bias λ", threshold, 0, 1.5)
        except Exception as e:
            raise _api_error(e, "relu") from None
        return figures.plot(panels.relu_figure(lam))

    def separation(self, a, b, j, k):
        try:
            if a not in panels.TEXTURES or b not in panels.TEXTURES:
                raise InputError(f"the textures must be two of {', '.join(panels.TEXTURES)}; got {a!r}, {b!r}.")
            jj = int(inputs.number("wavelet scale j", j, 0, 2, whole=True))
            kk = int(inputs.number("orientation", k, 0, 3, whole=True))
            fig, text = panels.separation_figure(a, b, jj, kk)
        except Exception as e:
            raise _api_error(e, "separation") from None
        return figures.plot(fig), text

    def model_changed(self, model):
        config = panels.config_for(model if model in LABELS else DEFAULT)
        return (gr.Slider(maximum=config.L - 1), gr.Slider(maximum=len(config.filter_sets) - 1),
                gr.Slider(maximum=config.L - 1))

    # -- layout -----------------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        with gr.Blocks(title="Phase collapse: translations as phase shifts", analytics_enabled=False,
                       delete_cache=(3600, 3600)) as demo:  # uploads older than an hour are deleted hourly
            self._first_view()
            self._layer_by_layer()
            self._invariance_view()
            self._explainer()
            self._wire(demo)
            self._wire_invariance()
        return demo

    def _first_view(self) -> None:
        """Above the fold at 1400x900: where to drop an image, the examples, both pictures with their
        top-5, and the controls of the translation."""
        o = self.ui
        gr.Markdown("# Phase collapse: watch translations become phase shifts\n"
                    "Complex wavelets turn a small translation τ into a phase shift, (τ·x)∗ψ ≈ e<sup>−iξ·τ</sup>(x∗ψ); "
                    "the modulus |x∗ψ| removes it. Move the image and see it happen, block by block, in a learned "
                    "scattering network (Guth, Zarka, Mallat, ICLR 2022).", elem_id="title")
        o.status = gr.Markdown(label="status line", elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                o.image = inputs.quiet(gr.File(label="Your image: drop it here or click (JPEG, PNG, WebP, GIF, BMP, "
                                                     "TIFF; ≤ 10 MB)", file_types=EXTENSIONS, type="filepath",
                                               height=110, elem_id="image"))
                o.gallery = gr.Gallery([(panels.example_path(f), c) for f, c in panels.EXAMPLES],
                                       label="…or pick an example (licences in demo/examples/LICENSES.md)",
                                       columns=4, rows=2, height=212, allow_preview=False, object_fit="cover",
                                       interactive=False, buttons=[], elem_id="examples")
            with gr.Column(scale=4, min_width=230):
                o.picture_o = gr.HTML(panels.picture_html(None, None, "…"), label="original picture",
                                      elem_id="picture_original")
                o.pred_o = gr.Label(num_top_classes=5, label="Original: top-5", elem_id="pred_original")
            with gr.Column(scale=4, min_width=230):
                o.picture_t = gr.HTML(panels.picture_html(None, None, "…"), label="translated picture",
                                      elem_id="picture_translated")
                o.pred_t = gr.Label(num_top_classes=5, label="Translated: top-5", elem_id="pred_translated")
            with gr.Column(scale=5, min_width=300):
                o.dx = inputs.slider(-MAX_SHIFT, MAX_SHIFT, value=0.5, step=0.05, label="dx: shift right (input px)",
                                     elem_id="dx")
                o.dy = inputs.slider(-MAX_SHIFT, MAX_SHIFT, value=0.0, step=0.05, label="dy: shift down (input px)",
                                     elem_id="dy")
                o.boundary = inputs.radio([("circular: exact Fourier shift", "circular"), ("zero-padded", "zero")],
                                          value="circular", label="Boundary", elem_id="boundary")
                o.model = inputs.dropdown([(LABELS[k], k) for k in offered()], value=DEFAULT, label="Model",
                                          elem_id="model")
                o.change = gr.Markdown(label="top class line", elem_id="change")

    def _layer_by_layer(self) -> None:
        o = self.ui
        gr.Markdown("## Layer by layer")
        with gr.Row():
            o.orientation = inputs.slider(0, inputs.MAX_ORIENTATION, value=0, step=1,
                                          label="orientation θk (L = 4 for CIFAR-10, 8 for ImageNet models)",
                                          elem_id="orientation")
            o.channel = inputs.slider(0, inputs.MAX_CHANNEL, value=0, step=1,
                                      label="channel (0 = most energetic in each block)", elem_id="channel")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=520):
                with gr.Row(equal_height=False):
                    o.maps_o = gr.HTML(label="maps, original", elem_id="maps_original", container=False)
                    o.maps_t = gr.HTML(label="maps, translated", elem_id="maps_translated", container=False)
                o.maps_caption = _caption(panels.maps_caption("circular"))
            with gr.Column(scale=2, min_width=380):
                o.phases = gr.HTML(label="phase chart", elem_id="phases")
                o.phases_caption = _caption(panels.phases_caption("circular"))
                o.errors = gr.HTML(label="error chart", elem_id="errors")
                o.errors_caption = _caption()
                with gr.Accordion("The numbers (also returned by the API)", open=False,
                                  elem_id="numbers-accordion") as o.numbers_box:
                    o.numbers = gr.JSON(label="analysis", elem_id="numbers")
        # API outputs that the page shows in pieces: the maps as one HTML; the session's image for `shift`
        o.maps_api = gr.HTML(label="maps", visible=False)
        o.current = gr.State(None)

    def _invariance_view(self) -> None:
        """Translation invariance at a glance: the stability map (LScat+skip beside its ResNet-18 baseline when
        shipped), where the invariance is built, and the translation played. Computed when opened."""
        o = self.ui
        with gr.Accordion("Translation invariance at a glance: the prediction over sub-pixel shifts", open=False,
                          elem_id="invariance_view") as o.inv_view:
            with gr.Row():
                o.inv_extent = inputs.slider(0.5, 8, value=2, step=0.25, label="grid half-width (input px)",
                                             elem_id="stability_extent")
                o.inv_steps = inputs.slider(3, 33, value=17, step=2, label="shifts per axis (odd)",
                                            elem_id="stability_steps")
                o.inv_button = gr.Button("Compute the stability map", variant="primary", elem_id="stability_button")
            o.inv_status = gr.Markdown("", elem_id="stability_status")  # "Computing…" while it computes (quietly)
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    o.stab_plot = gr.Plot(label="Top-class probability over the shifts", elem_id="stability")
                    o.stab_text = gr.Markdown(label="stability", elem_id="stability_summary")
                    _caption("Each cell: the probability of the unshifted image's top class after moving the image by "
                             "(dx, dy); ×: the top class changes there; ring: no shift. The ResNet-18 baseline trained "
                             "with the same recipe appears beside it when its weights are shipped.")
                with gr.Column(scale=2):
                    o.curve_plot = gr.Plot(label="Where the invariance is built", elem_id="invariance_curve")
                    o.curve_text = _caption(label="curve", elem_id="curve_caption")
            with gr.Accordion("The numbers of the map (also returned by the API)", open=False):
                o.stab_numbers = gr.JSON(label="stability", elem_id="stability_numbers")
            o.curve_numbers = gr.JSON(visible=False)  # the `invariance_curve` endpoint's numbers
            gr.Markdown("### The translation played")
            with gr.Row():
                o.anim_block = inputs.slider(-1, 10, value=-1, step=1, label="block (−1: automatic)",
                                             elem_id="animation_block")
                o.anim_shift = inputs.slider(0.5, 8, value=4, step=0.5, label="dx from 0 to (input px)",
                                             elem_id="animation_shift")
                o.anim_button = gr.Button("Play the translation", elem_id="animation_button")
            with gr.Row(equal_height=False):
                o.anim_image = gr.Image(label="Phases turn, moduli stay (animated GIF)", type="filepath",
                                        interactive=False, elem_id="animation", height=260)
                with gr.Column():
                    o.anim_file = gr.DownloadButton("Download the GIF", elem_id="animation_download")
                    o.anim_text = _caption(label="animation")

    def _wire_invariance(self) -> None:
        o = self.ui
        grid = [o.source, o.boundary, o.model, o.inv_extent, o.inv_steps]
        quietly([o.inv_view.expand, o.inv_button.click], self.invariance_page, grid,
                [o.stab_plot, o.stab_text, o.stab_numbers, o.curve_plot, o.curve_text], o.inv_status, COMPUTING_MAP)
        quietly([o.anim_button.click], self.animation_page,
                [o.source, o.boundary, o.model, o.anim_block, o.orientation, o.channel, o.anim_shift],
                [o.anim_image, o.anim_file, o.anim_text], o.anim_text, COMPUTING_GIF)
        api = [o.image, o.boundary, o.model, o.inv_extent, o.inv_steps]
        gr.on([], self.stability, api, [o.stab_plot, o.stab_text, o.stab_numbers], api_name="stability",
              concurrency_limit=1, concurrency_id="invariance")
        gr.on([], self.invariance_curve, api, [o.curve_plot, o.curve_text, o.curve_numbers],
              api_name="invariance_curve", concurrency_limit=1, concurrency_id="invariance")
        gr.on([], self.animation, [o.image, o.boundary, o.model, o.anim_block, o.orientation, o.channel, o.anim_shift],
              [o.anim_image, o.anim_file, o.anim_text], api_name="animation", concurrency_limit=1,
              concurrency_id="invariance")

    def _explainer(self) -> None:
        o = self.ui
        gr.Markdown("## Explainer")
        with gr.Row():
            with gr.Column():
                o.morlet_plot = gr.Plot(label="A Morlet wavelet ψ", elem_id="morlet")
                o.morlet_text = _caption(label="wavelet")
                with gr.Row():
                    o.m_block = inputs.slider(0, 7, value=4, step=1, label="scale: block")
                    o.m_k = inputs.slider(0, 3, value=0, step=1, label="orientation θk")
                _caption("Real and imaginary parts in quadrature, a smooth modulus, and a phase that turns once "
                         "every 2π/|ξ| pixels along ξ.")
            with gr.Column():
                o.relu_plot = gr.Plot(label="ReLU = absolute value + soft-thresholding", elem_id="relu")
                o.lam = inputs.slider(0, 1.5, value=0.5, step=0.05, label="bias λ")
                _caption("The even part (blue) collapses the sign, i.e. the phase; the odd part (orange) keeps it "
                         "and only shrinks the amplitude.")
        with gr.Row():
            with gr.Column():
                o.sep_plot = gr.Plot(label="Class mean separation with phase collapse", elem_id="separation")
                o.sep_text = _caption(label="separation")
                with gr.Row():
                    o.tex_a = inputs.dropdown(list(panels.TEXTURES), value="grass", label="class A (texture)")
                    o.tex_b = inputs.dropdown(list(panels.TEXTURES), value="brick", label="class B (texture)")
                    o.s_j = inputs.slider(0, 2, value=0, step=1, label="wavelet scale j (σ = 0.8·2^j px)")
                    o.s_k = inputs.slider(0, 3, value=1, step=1, label="orientation θk")
                _caption("x∗ψ(u) of two textures over many positions u (= translations): both clouds are "
                         "centred on 0, the same class mean; their moduli are not: phase collapse separates the "
                         "classes.")

    def _wire(self, demo: gr.Blocks) -> None:
        o = self.ui
        o.source = gr.State({"path": panels.example_path("cat.jpg"), "name": "cat (example)"})  # the page's image
        o.shown = gr.State({})  # what the page shows now (App.update sends only what changes)
        o.numbers_open = gr.State(False)
        settings = [o.dx, o.dy, o.boundary, o.model, o.orientation, o.channel]
        page = [o.status, o.picture_o, o.pred_o, o.picture_t, o.pred_t, o.change, o.maps_o, o.maps_t, o.errors,
                o.phases, o.numbers, o.errors_caption, o.phases_caption, o.maps_caption, o.shown]
        sliders = [o.dx, o.dy, o.orientation, o.channel]
        triggers = ([o.source.change, o.numbers_open.change, demo.load, o.boundary.input, o.model.input]
                    + [c.input for c in sliders] + [c.release for c in sliders])
        # Not queued: one direct request per update, without the queue's join and event stream (tens of
        # milliseconds per update on 2 cores); the computations still take turns on the one analysis thread.
        gr.on(triggers, self.update, [o.source, o.shown, o.numbers_open, *settings], page, trigger_mode="always_last",
              show_progress="hidden", api_visibility="private", queue=False)
        o.image.upload(self.uploaded, o.image, [o.source, o.image], api_visibility="private")
        o.gallery.select(self.picked, None, [o.source, o.image], api_visibility="private")
        # (queued: a State's change event follows only from a queued event)
        o.numbers_box.expand(lambda: True, None, o.numbers_open, api_visibility="private")
        o.numbers_box.collapse(lambda: False, None, o.numbers_open, api_visibility="private")

        api = [o.status, o.pred_o, o.pred_t, o.change, o.maps_api, o.errors, o.phases, o.numbers, o.current]
        gr.on([], self.analyze, [o.image, *settings], api, api_name="analyze", concurrency_limit=2,
              concurrency_id="analyze")
        gr.on([], self.shift, [o.current, *settings], api, api_name="shift", concurrency_limit=2,
              concurrency_id="analyze")

        gr.on([o.model.change, demo.load], self.model_changed, o.model, [o.orientation, o.m_block, o.m_k],
              api_visibility="private", queue=False)
        gr.on([o.m_block.release, o.m_k.release, o.model.change, demo.load], self.morlet, [o.model, o.m_block, o.m_k],
              [o.morlet_plot, o.morlet_text], api_name="morlet", concurrency_limit=4, concurrency_id="explain")
        gr.on([o.lam.release, demo.load], self.relu, o.lam, o.relu_plot, api_name="relu", concurrency_limit=4,
              concurrency_id="explain")
        gr.on([o.tex_a.change, o.tex_b.change, o.s_j.release, o.s_k.release, demo.load], self.separation,
              [o.tex_a, o.tex_b, o.s_j, o.s_k], [o.sep_plot, o.sep_text], api_name="separation", concurrency_limit=4,
              concurrency_id="explain")


def _api_error(e: Exception, endpoint: str) -> gr.Error:
    """An API failure as the gr.Error the caller sees, with one log line (a traceback only for a bug)."""
    if isinstance(e, gr.Error):
        log.warning("%s refused: %s", endpoint, e.message)
        e.print_exception = False
        return e
    if isinstance(e, ImageError):
        log.warning("%s refused: %s", endpoint, _message(e))
        return gr.Error(_message(e), title="Cannot use this image", print_exception=False)
    if isinstance(e, InputError):
        log.warning("%s refused: %s", endpoint, _message(e))
        return gr.Error(_message(e), title="Invalid input", print_exception=False)
    log.error("%s failed", endpoint, exc_info=e)
    return gr.Error("Something went wrong while analysing this image; the details are in the server log.",
                    print_exception=False)


def quietly(triggers, fn, inputs, outputs, note_at, note: str) -> None:
    """Wire a page computation that takes seconds so that the browser stays idle while it runs.

    Gradio's status tracker runs a requestAnimationFrame loop on each output of a pending event, whatever
    ``show_progress`` says, and so makes the browser redraw the whole page at every frame. In the invariance
    view that took the browser about 2.5 CPU seconds per map, on the 2 cores that a local browser shares
    with the app (docs/INVARIANCE.md, "Speed"). So: a static ``note`` in ``note_at`` at once (a quick event of
    its own), ``fn``'s outputs kept in a gr.State (no tracker) while it computes, on the "invariance"
    queue, one at a time, the last request winning, and then drawn (and the note cleared) in one quick
    step. ``fn`` never raises (it returns its message instead)."""
    result = gr.State(None)
    cleared = [] if note_at in outputs else [note_at]
    gr.on(triggers, lambda: note, None, note_at, queue=False, show_progress="hidden", api_visibility="private")
    gr.on(triggers, fn, inputs, result, trigger_mode="always_last", show_progress="hidden", api_visibility="private",
          concurrency_limit=1, concurrency_id="invariance").then(
        lambda r: (*r, *[""] * len(cleared)) if r is not None else tuple(gr.skip() for _ in outputs + cleared),
        result, outputs + cleared, queue=False, show_progress="hidden", api_visibility="private")
