"""The Gradio app: layout, events, and the named API endpoint ``analyze``."""

from __future__ import annotations

import contextvars
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor

import gradio as gr

from demo import figures, panels
from demo.images import EXTENSIONS, ImageError
from demo.models import DEFAULT, LABELS, ModelStore, offered
from demo.pipeline import MAX_SHIFT, Pipeline

log = logging.getLogger("demo")

SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
CSS = """
.caption {color: #555; font-size: 0.92em; margin-top: -6px}
#status {border-left: 4px solid #e8862a; padding-left: 10px}
"""


def theme() -> gr.themes.Base:
    """Poster colours; system fonts only, so that nothing is fetched from a font server."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="orange", neutral_hue="slate",
                             font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def default_threads(cores: int | None) -> int:
    """Torch threads of the analysis: half the cores (at most 16), leaving the rest to the web server and,
    on a laptop, the browser. On 2 cores the single thread is as fast through gradio as two, and takes
    half the CPU: OpenMP's spinning second thread competed with the server (bench/bench_demo.py
    --threads, docs/DEMO.md). app.py applies it unless PHASE_COLLAPSE_THREADS says otherwise."""
    return max(1, min(16, (cores or 1) // 2))


def _caption(text: str) -> gr.Markdown:
    return gr.Markdown(text, elem_classes=["caption"])


def _message(e: Exception) -> str:
    return str(e.args[0]) if e.args else type(e).__name__


class App:
    def __init__(self, store: ModelStore | None = None):
        self.store = store or ModelStore()
        self.pipeline = Pipeline(self.store)
        # Every analysis runs on this one thread: torch's OpenMP thread team stays warm and bound to it,
        # instead of one team per gradio worker thread competing for the same cores.
        self._compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    # -- the analysis (the API endpoint "analyze") ---------------------------------------------
    def analyze(self, image, dx: float, dy: float, boundary: str, model: str, orientation: int, channel: int):
        """Translate an image by (dx, dy) pixels and compare, block by block, the wavelet coefficients of
        the original and translated image with the phase-shift prediction.

        Args:
            image: an image file (JPEG, PNG, WebP, GIF, BMP, TIFF; at most 10 MB and 40 megapixels).
            dx: shift to the right, in input pixels of the model (sub-pixel allowed, |dx| <= 32).
            dy: shift down, in input pixels (|dy| <= 32).
            boundary: "circular" (exact Fourier shift, wavelets on the torus) or "zero" (zero-padded).
            model: a model key, e.g. "lscat_skip_cifar10" or "lscat_skip_imagenette".
            orientation: wavelet orientation index theta_k shown in the maps (0..L-1).
            channel: channel rank shown in the maps (0 = most energetic channel of each block).
        Returns:
            status, top-5 original, top-5 translated, top-class line, maps figure, error figure, phase figure, numbers.
        """
        t0 = time.perf_counter()
        try:
            ctx = contextvars.copy_context()  # gr.Info / gr.Warning find their request through it
            out = self._compute.submit(ctx.run, self._analyze, image, dx, dy, boundary, model, orientation,
                                       channel).result()
            log.info("analyze %s dx=%s dy=%s %s: %.0f ms", model, dx, dy, boundary, 1000 * (time.perf_counter() - t0))
            return out
        except gr.Error:
            raise
        except ImageError as e:
            raise gr.Error(_message(e), title="Cannot use this image", print_exception=False) from None
        except (ValueError, KeyError, TypeError) as e:
            raise gr.Error(f"Invalid input: {_message(e)}", title="Invalid input", print_exception=False) from None
        except Exception:
            log.exception("analyze failed")
            raise gr.Error("Something went wrong while analysing this image; the details are in the server log.",
                           print_exception=False) from None

    def shift(self, current, dx: float, dy: float, boundary: str, model: str, orientation: int, channel: int):
        """The same analysis for the image last analysed in this session (its path is kept in a gr.State):
        what moving a slider asks for, without sending the image again.

        Args:
            dx, dy, boundary, model, orientation, channel: as for `analyze`.
        Returns:
            the outputs of `analyze`.
        """
        if not current:
            raise gr.Error("No image in this session yet: call `analyze` with an image first.", title="No image",
                           print_exception=False)
        return self.analyze(current, dx, dy, boundary, model, orientation, channel)

    def _analyze(self, image, dx, dy, boundary, model, orientation, channel):
        if image is None or (isinstance(image, str) and not image):  # e.g. the upload box was just cleared
            return ("**No image**: upload one or pick an example.",) + tuple(gr.skip() for _ in range(8))
        path = image if isinstance(image, str) else getattr(image, "path", None) or str(image)
        if model not in offered():
            raise gr.Error(f"Unknown or unavailable model {model!r}; choose one of: {', '.join(offered())}.",
                           title="Invalid input", print_exception=False)
        dx, dy, k, rank = float(dx), float(dy), int(orientation), int(channel)
        if not (math.isfinite(dx) and math.isfinite(dy)) or max(abs(dx), abs(dy)) > MAX_SHIFT:
            raise gr.Error(f"dx and dy must be between -{MAX_SHIFT:g} and {MAX_SHIFT:g} pixels.", title="Invalid input",
                           print_exception=False)
        if k < 0 or rank < 0:
            raise gr.Error("orientation and channel must be >= 0.", title="Invalid input", print_exception=False)
        if not self.store.ready(model):
            gr.Info(f"Preparing {LABELS.get(model, model)} (first use; this takes a while on a small CPU)…")
        tau = (dy, dx)  # (rows, cols)
        dm, key, orig, fresh = self.pipeline.original(path, model, boundary)
        if fresh:
            for note in orig.notes:
                gr.Warning(note)
        comp = self.pipeline.shifted(dm, key, orig, tau, boundary)
        single = self.pipeline.single(orig, comp, tau, k)
        pred_o, pred_t, line, numbers = panels.predictions(dm, orig, comp)
        maps = panels.maps_figure(dm, orig, comp, k, rank)
        errors, phases = panels.analysis_figures(dm, comp, single, tau, k)
        notes = "".join(f"\n- {n}" for n in orig.notes)
        status = dm.banner() + (f"\n\nAbout this image:{notes}" if notes else "")
        numbers = {"model": dm.key, "trained": dm.trained, "weights": dm.weights, "tau": {"dx": dx, "dy": dy},
                   "boundary": boundary,
                   **numbers, "blocks": comp.report, "single_wavelet": single}
        conf = lambda t: {c: round(p, 4) for c, p in t}
        return (status, conf(numbers["original_top5"]), conf(numbers["translated_top5"]), line,
                figures.plot(maps), figures.plot(errors), figures.plot(phases), numbers, path)

    # -- explainer --------------------------------------------------------------------------------
    def morlet(self, model, block, k):
        try:
            fig, text = panels.morlet_figure(model if model in LABELS else DEFAULT, int(block), int(k))
        except (ValueError, TypeError) as e:
            raise gr.Error(_message(e), print_exception=False) from None
        return figures.plot(fig), text

    def relu(self, threshold):
        return figures.plot(panels.relu_figure(max(0.0, float(threshold))))

    def separation(self, a, b, j, k):
        try:
            fig, text = panels.separation_figure(a, b, int(j), int(k))
        except (ValueError, TypeError) as e:
            raise gr.Error(_message(e), print_exception=False) from None
        return figures.plot(fig), text

    def model_changed(self, model):
        L = panels.config_for(model).L
        n = len(panels.config_for(model).filter_sets)
        return gr.Slider(maximum=L - 1), gr.Slider(maximum=n - 1), gr.Slider(maximum=L - 1)

    # -- layout -----------------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        choices = [(LABELS[k], k) for k in offered()]
        with gr.Blocks(title="Phase collapse: translations as phase shifts", analytics_enabled=False,
                       delete_cache=(3600, 3600)) as demo:  # uploads older than an hour are deleted hourly
            gr.Markdown("# Phase collapse: watch translations become phase shifts\n"
                        "Complex wavelets turn a small translation τ into a phase shift, "
                        "(τ·x)∗ψ ≈ e<sup>−iξ·τ</sup>(x∗ψ); the modulus |x∗ψ| removes it. Move the image and see "
                        "it happen, block by block, in a learned scattering network (Guth, Zarka, Mallat, ICLR 2022).")
            status = gr.Markdown(elem_id="status")
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    image = gr.File(label="Image (JPEG, PNG, WebP, GIF, BMP, TIFF; ≤ 10 MB)", file_types=EXTENSIONS,
                                    type="filepath", value=panels.example_path("cat.jpg"), height=120,
                                    elem_id="image")
                    gallery = gr.Gallery([(panels.example_path(f), c) for f, c in panels.EXAMPLES],
                                         label="…or pick an example (licences in demo/examples/LICENSES.md)",
                                         columns=4, height=240, allow_preview=False, object_fit="cover",
                                         interactive=False, buttons=[], elem_id="examples")
                    model = gr.Dropdown(choices, value=DEFAULT, label="Model", elem_id="model")
                    boundary = gr.Radio([("circular: exact Fourier shift", "circular"), ("zero-padded", "zero")],
                                        value="circular", label="Boundary", elem_id="boundary")
                    dx = gr.Slider(-MAX_SHIFT, MAX_SHIFT, value=0.5, step=0.05, label="dx: shift right (input px)",
                                   elem_id="dx")
                    dy = gr.Slider(-MAX_SHIFT, MAX_SHIFT, value=0.0, step=0.05, label="dy: shift down (input px)",
                                   elem_id="dy")
                with gr.Column(scale=2):
                    with gr.Row():
                        pred_o = gr.Label(num_top_classes=5, label="Original: top-5", elem_id="pred_original")
                        pred_t = gr.Label(num_top_classes=5, label="Translated: top-5", elem_id="pred_translated")
                    change = gr.Markdown(elem_id="change")
                    errors = gr.Plot(label="Relative error against depth", elem_id="errors")
                    _caption("Orange: (τ·x)∗ψ against e<sup>−iξ·τ</sup>(x∗ψ); blue: |(τ·x)∗ψ| against |x∗ψ|. "
                             "Dotted: each block's wavelet alone, dilated to input pixels: under the dashed σ|τ| "
                             "bound, falling with depth. Solid: the network's blocks, fed by subsampled earlier "
                             "blocks.")
            gr.Markdown("## Layer by layer")
            with gr.Row():
                orientation = gr.Slider(0, 7, value=0, step=1, label="orientation θk (L = 4 for CIFAR-10, 8 for "
                                        "ImageNet models)", elem_id="orientation")
                channel = gr.Slider(0, 15, value=0, step=1, label="channel (0 = most energetic in each block)",
                                    elem_id="channel")
            with gr.Row():
                with gr.Column(scale=3):
                    maps = gr.Plot(label="Wavelet coefficients, block by block", elem_id="maps")
                    _caption("Deep blocks: the moduli (blue) barely change while the phases (hue, brightness = "
                             "modulus) still rotate. Difference on the moduli's scale: orange −, blue +; legends in "
                             "the top row; ×k: one block pixel is k input pixels.")
                with gr.Column(scale=2):
                    phases = gr.Plot(label="Measured against predicted phase shift", elem_id="phases")
                    _caption("On the diagonal, the translation is exactly the phase shift −ξ·τ (τ in that block's "
                             "pixels). Darker = deeper; the selected θ is larger.")
                    with gr.Accordion("The numbers (also returned by the API)", open=False):
                        numbers = gr.JSON(label="analysis", elem_id="numbers")

            gr.Markdown("## Explainer")
            with gr.Row():
                with gr.Column():
                    morlet_plot = gr.Plot(label="A Morlet wavelet ψ", elem_id="morlet")
                    morlet_text = gr.Markdown(elem_classes=["caption"])
                    with gr.Row():
                        m_block = gr.Slider(0, 7, value=4, step=1, label="scale: block")
                        m_k = gr.Slider(0, 3, value=0, step=1, label="orientation θk")
                    _caption("Real and imaginary parts in quadrature, a smooth modulus, and a phase that turns once "
                             "every 2π/|ξ| pixels along ξ.")
                with gr.Column():
                    relu_plot = gr.Plot(label="ReLU = absolute value + soft-thresholding", elem_id="relu")
                    lam = gr.Slider(0, 1.5, value=0.5, step=0.05, label="bias λ")
                    _caption("The even part (blue) collapses the sign, i.e. the phase; the odd part (orange) keeps it "
                             "and only shrinks the amplitude.")
            with gr.Row():
                with gr.Column():
                    sep_plot = gr.Plot(label="Class mean separation with phase collapse", elem_id="separation")
                    sep_text = gr.Markdown(elem_classes=["caption"])
                    with gr.Row():
                        tex_a = gr.Dropdown(list(panels.TEXTURES), value="grass", label="class A (texture)")
                        tex_b = gr.Dropdown(list(panels.TEXTURES), value="brick", label="class B (texture)")
                        s_j = gr.Slider(0, 2, value=0, step=1, label="wavelet scale j (σ = 0.8·2^j px)")
                        s_k = gr.Slider(0, 3, value=1, step=1, label="orientation θk")
                    _caption("x∗ψ(u) of two textures over many positions u (= translations): both clouds are "
                             "centred on 0, the same class mean; their moduli are not: phase collapse separates the "
                             "classes.")

            current = gr.State(None)  # the path of the image last analysed in this session
            settings = [dx, dy, boundary, model, orientation, channel]
            outputs = [status, pred_o, pred_t, change, maps, errors, phases, numbers, current]
            gr.on([image.change, boundary.change, model.change, demo.load], self.analyze, [image, *settings],
                  outputs, api_name="analyze", concurrency_limit=2, concurrency_id="analyze",
                  trigger_mode="always_last")
            # Moving a slider re-analyses the session's image without sending it again (the original
            # branch is cached per image: only the translated branch is computed).
            gr.on([dx.release, dy.release, orientation.release, channel.release], self.shift, [current, *settings],
                  outputs, api_name="shift", concurrency_limit=2, concurrency_id="analyze", trigger_mode="always_last")
            gallery.select(_pick_example, None, image, api_visibility="private")
            gr.on([model.change, demo.load], self.model_changed, model, [orientation, m_block, m_k],
                  api_visibility="private", queue=False)
            gr.on([m_block.release, m_k.release, model.change, demo.load], self.morlet, [model, m_block, m_k],
                  [morlet_plot, morlet_text], api_name="morlet", concurrency_limit=4, concurrency_id="explain")
            gr.on([lam.release, demo.load], self.relu, lam, relu_plot, api_name="relu", concurrency_limit=4,
                  concurrency_id="explain")
            gr.on([tex_a.change, tex_b.change, s_j.release, s_k.release, demo.load], self.separation,
                  [tex_a, tex_b, s_j, s_k], [sep_plot, sep_text], api_name="separation", concurrency_limit=4,
                  concurrency_id="explain")
        return demo


def _pick_example(evt: gr.SelectData):
    name, _ = panels.EXAMPLES[evt.index]
    return panels.example_path(name)
