"""The page's components, section by section. Each builder creates its section's components inside the
open gr.Blocks and returns them as one frozen record; demo.ui.events wires records it is given, so that
nothing depends on the order in which sections were built or wired."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.draw import panels
from demo.draw.explainer import TEXTURES
from demo.images import EXAMPLES, EXTENSIONS, example_path
from demo.inputs import components as inputs
from demo.inputs.checks import MAX_CHANNEL, MAX_ORIENTATION, MAX_SHIFT
from demo.models.catalog import DEFAULT, LABELS, offered


def caption(text: str = "", **kw) -> gr.Markdown:
    return gr.Markdown(text, elem_classes=["caption"], **kw)


@dataclass(frozen=True)
class Session:
    """A visitor's state: the page's image, what the page shows now (demo.handlers.page sends only what
    changes), whether the numbers are open, and the image the API's `shift` reuses."""

    source: gr.State
    shown: gr.State
    numbers_open: gr.State
    current: gr.State


def session() -> Session:
    return Session(source=gr.State({"path": example_path("cat.jpg"), "name": "cat (example)"}), shown=gr.State({}),
                   numbers_open=gr.State(False), current=gr.State(None))


@dataclass(frozen=True)
class FirstView:
    """Above the fold at 1400x900: where to drop an image, the examples, both pictures with their top-5,
    and the controls of the translation."""

    status: gr.Markdown
    suggest: gr.Button  # shown for a photo uploaded while a 32 px model is selected (demo.handlers.page.suggestion)
    image: gr.File
    refused: gr.Textbox  # a file the browser refused, as JSON from the page's script (demo.ui.theme.HEAD)
    refused_button: gr.Button  # clicked by that script
    gallery: gr.Gallery
    classes: gr.Markdown  # which classes the model knows
    picture_o: gr.HTML
    pred_o: gr.Label
    picture_t: gr.HTML
    pred_t: gr.Label
    dx: gr.Slider
    dy: gr.Slider
    boundary: gr.Radio
    model: gr.Dropdown
    change: gr.Markdown


def _picture(label: str, elem: str) -> gr.HTML:
    return gr.HTML(panels.picture_html(None, None, "…"), label=label, elem_id=elem)


def first_view() -> FirstView:
    gr.Markdown("# Phase collapse: watch translations become phase shifts\n"
                "Complex wavelets turn a small translation τ into a phase shift, (τ·x)∗ψ ≈ e<sup>−iξ·τ</sup>(x∗ψ); "
                "the modulus |x∗ψ| removes it. Move the image and see it happen, block by block, in a learned "
                "scattering network (Guth, Zarka, Mallat, ICLR 2022).", elem_id="title")
    with gr.Row(equal_height=False, elem_id="status_row"):
        status = gr.Markdown(label="status line", elem_id="status", scale=1)
        suggest = gr.Button("Analyse it with the photo model", visible=False, scale=0, min_width=240,
                            variant="primary", elem_id="suggest")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            image = inputs.quiet(gr.File(label="Your image: drop it here or click (JPEG, PNG, WebP, GIF, BMP, "
                                               "TIFF; ≤ 10 MB)", file_types=EXTENSIONS, type="filepath",
                                         height=110, elem_id="image"))
            refused = gr.Textbox(visible=False)
            refused_button = gr.Button(visible="hidden", elem_id="refused_button")
            gallery = gr.Gallery([(example_path(f), c) for f, c in EXAMPLES],
                                 label="…or pick an example (licences in demo/examples/LICENSES.md)",
                                 columns=4, rows=2, height=212, allow_preview=False, object_fit="cover",
                                 interactive=False, buttons=[], elem_id="examples")
            classes = caption(label="classes the model knows", elem_id="classes")
        with gr.Column(scale=4, min_width=230):
            picture_o = _picture("original picture", "picture_original")
            pred_o = gr.Label(num_top_classes=5, label="Original: top-5", elem_id="pred_original")
        with gr.Column(scale=4, min_width=230):
            picture_t = _picture("translated picture", "picture_translated")
            pred_t = gr.Label(num_top_classes=5, label="Translated: top-5", elem_id="pred_translated")
        with gr.Column(scale=5, min_width=300):
            dx = inputs.slider(-MAX_SHIFT, MAX_SHIFT, value=0.5, step=0.05, label="dx: shift right (input px)",
                               elem_id="dx")
            dy = inputs.slider(-MAX_SHIFT, MAX_SHIFT, value=0.0, step=0.05, label="dy: shift down (input px)",
                               elem_id="dy")
            boundary = inputs.radio([("circular: exact Fourier shift", "circular"), ("zero-padded", "zero")],
                                    value="circular", label="Boundary", elem_id="boundary")
            model = inputs.dropdown([(LABELS[k], k) for k in offered()], value=DEFAULT, label="Model",
                                    elem_id="model")
            change = gr.Markdown(label="top class line", elem_id="change")
    return FirstView(status, suggest, image, refused, refused_button, gallery, classes, picture_o, pred_o, picture_t,
                     pred_t, dx, dy, boundary, model, change)


@dataclass(frozen=True)
class LayerView:
    """Layer by layer: the maps of both images, the phase and error charts, their numbers."""

    orientation: gr.Slider
    channel: gr.Slider
    maps_o: gr.HTML
    maps_t: gr.HTML
    maps_caption: gr.Markdown
    phases: gr.HTML
    phases_caption: gr.Markdown
    errors: gr.HTML
    errors_caption: gr.Markdown
    numbers_box: gr.Accordion
    numbers: gr.JSON
    maps_api: gr.HTML  # the API's maps as one HTML (the page shows them in two pieces)


def layer_view() -> LayerView:
    gr.Markdown("## Layer by layer")
    with gr.Row():
        orientation = inputs.slider(0, MAX_ORIENTATION, value=0, step=1,
                                    label="orientation θk (L = 4 for CIFAR-10, 8 for ImageNet models)",
                                    elem_id="orientation")
        channel = inputs.slider(0, MAX_CHANNEL, value=0, step=1, label="channel (0 = most energetic in each block)",
                                elem_id="channel")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=520):
            with gr.Row(equal_height=False):
                maps_o = gr.HTML(label="maps, original", elem_id="maps_original", container=False)
                maps_t = gr.HTML(label="maps, translated", elem_id="maps_translated", container=False)
            maps_caption = caption(panels.maps_caption("circular"))
        with gr.Column(scale=2, min_width=380):
            phases = gr.HTML(label="phase chart", elem_id="phases")
            phases_caption = caption(panels.phases_caption("circular"))
            errors = gr.HTML(label="error chart", elem_id="errors")
            errors_caption = caption()
            with gr.Accordion("The numbers (also returned by the API)", open=False,
                              elem_id="numbers-accordion") as numbers_box:
                numbers = gr.JSON(label="analysis", elem_id="numbers")
    maps_api = gr.HTML(label="maps", visible=False)
    return LayerView(orientation, channel, maps_o, maps_t, maps_caption, phases, phases_caption, errors,
                     errors_caption, numbers_box, numbers, maps_api)


@dataclass(frozen=True)
class InvarianceView:
    """Translation invariance at a glance: the stability map (LScat+skip beside its ResNet-18 baseline when
    shipped), where the invariance is built, and the translation played. Computed when opened."""

    view: gr.Accordion
    extent: gr.Slider
    steps: gr.Slider
    button: gr.Button
    status: gr.Markdown  # "Computing…" while it computes (quietly)
    stab_plot: gr.Plot
    stab_text: gr.Markdown
    stab_numbers: gr.JSON
    curve_plot: gr.Plot
    curve_text: gr.Markdown
    curve_numbers: gr.JSON  # the `invariance_curve` endpoint's numbers (not shown)
    anim: AnimationView


@dataclass(frozen=True)
class AnimationView:
    block: gr.Slider
    shift: gr.Slider
    button: gr.Button
    image: gr.Image
    file: gr.DownloadButton
    text: gr.Markdown


def invariance_view() -> InvarianceView:
    with gr.Accordion("Translation invariance at a glance: the prediction over sub-pixel shifts", open=False,
                      elem_id="invariance_view") as view:
        with gr.Row():
            extent = inputs.slider(0.5, 8, value=2, step=0.25, label="grid half-width (input px)",
                                   elem_id="stability_extent")
            steps = inputs.slider(3, 33, value=17, step=2, label="shifts per axis (odd)", elem_id="stability_steps")
            with gr.Column(min_width=260):
                button = gr.Button("Compute the stability map", variant="primary", elem_id="stability_button")
                status = gr.Markdown("", elem_id="stability_status")  # beside the button that started it
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                stab_plot = gr.Plot(label="Top-class probability over the shifts", elem_id="stability")
                stab_text = gr.Markdown(label="stability summary", elem_id="stability_summary")
                caption("Each cell: the probability of the unshifted image's top class after moving the image by "
                        "(dx, dy); ×: the top class changes there; ring: no shift. The ResNet-18 baseline trained "
                        "with the same recipe appears beside it when its weights are shipped.")
            with gr.Column(scale=2):
                curve_plot = gr.Plot(label="Relative change per block, over the grid", elem_id="invariance_curve")
                curve_text = caption(label="curve caption", elem_id="curve_caption")
        with gr.Accordion("The numbers of the map (also returned by the API)", open=False):
            stab_numbers = gr.JSON(label="stability numbers", elem_id="stability_numbers")
        curve_numbers = gr.JSON(label="curve numbers", visible=False)
        anim = animation_view()
    return InvarianceView(view, extent, steps, button, status, stab_plot, stab_text, stab_numbers, curve_plot,
                          curve_text, curve_numbers, anim)


def animation_view() -> AnimationView:
    gr.Markdown("### The translation played")
    with gr.Row():
        block = inputs.slider(-1, 10, value=-1, step=1, label="block (−1: automatic)", elem_id="animation_block")
        shift = inputs.slider(0.5, 8, value=4, step=0.5, label="dx from 0 to (input px)", elem_id="animation_shift")
        button = gr.Button("Play the translation", elem_id="animation_button")
    with gr.Row(equal_height=False):
        image = gr.Image(label="Image, modulus and phase as the image moves (GIF)", type="filepath", interactive=False,
                         elem_id="animation", height=260)
        with gr.Column():
            file = gr.DownloadButton("Download the GIF", elem_id="animation_download")
            text = caption(label="animation caption", elem_id="animation_caption")
    return AnimationView(block, shift, button, image, file, text)


@dataclass(frozen=True)
class ExplainerView:
    morlet_plot: gr.Plot
    morlet_text: gr.Markdown
    m_block: gr.Slider
    m_k: gr.Slider
    relu_plot: gr.Plot
    lam: gr.Slider
    sep_plot: gr.Plot
    sep_text: gr.Markdown
    tex_a: gr.Dropdown
    tex_b: gr.Dropdown
    s_j: gr.Slider
    s_k: gr.Slider


def explainer_view() -> ExplainerView:
    gr.Markdown("## Explainer")
    with gr.Row():
        with gr.Column():
            morlet_plot = gr.Plot(label="A Morlet wavelet ψ", elem_id="morlet")
            morlet_text = caption(label="wavelet")
            with gr.Row():
                m_block = inputs.slider(0, 7, value=4, step=1, label="scale: block")
                m_k = inputs.slider(0, 3, value=0, step=1, label="orientation θk")
            caption("Real and imaginary parts in quadrature, a smooth modulus, and a phase that turns once "
                    "every 2π/|ξ| pixels along ξ.")
        with gr.Column():
            relu_plot = gr.Plot(label="ReLU = absolute value + soft-thresholding", elem_id="relu")
            lam = inputs.slider(0, 1.5, value=0.5, step=0.05, label="bias λ")
            caption("The even part (blue) collapses the sign, i.e. the phase; the odd part (orange) keeps it "
                    "and only shrinks the amplitude.")
    with gr.Row():
        with gr.Column():
            sep_plot = gr.Plot(label="Class mean separation with phase collapse", elem_id="separation")
            sep_text = caption(label="separation")
            with gr.Row():
                tex_a = inputs.dropdown(list(TEXTURES), value="grass", label="class A (texture)")
                tex_b = inputs.dropdown(list(TEXTURES), value="brick", label="class B (texture)")
                s_j = inputs.slider(0, 2, value=0, step=1, label="wavelet scale j (σ = 0.8·2^j px)")
                s_k = inputs.slider(0, 3, value=1, step=1, label="orientation θk")
            caption("x∗ψ(u) of two textures over many positions u (= translations), and the histograms of the "
                    "moduli |x∗ψ(u)|. The titles say, for the chosen pair, whether both clouds are centred on 0 "
                    "and whether the moduli's class means are further apart: the Fisher ratio is the squared "
                    "distance of the class means over the summed variances.")
    return ExplainerView(morlet_plot, morlet_text, m_block, m_k, relu_plot, lam, sep_plot, sep_text, tex_a, tex_b,
                         s_j, s_k)
