"""From pipeline results to the pictures, HTML and figures the UI shows (no measurements are made here).

The maps are HTML: one small WebP per map at its own resolution, scaled by the page (pixelated when
magnified), labels as text and legends as CSS gradients. The original's columns and the translated
image's columns are two separate pieces, so that a translation sends only the latter."""

from __future__ import annotations

import html
import math

import numpy as np

from demo.compute.adapters import adapter
from demo.compute.branches import Comparison, Original, Shown, top_k
from demo.draw import charts, render
from demo.draw.charts import single_quoted
from demo.inputs.checks import Settings
from demo.models.store import DemoModel

PICTURE = 200  # px, the first view's original and translated pictures
SENT = 128  # px at most, of those pictures as sent (a 160 px input: 5 kB instead of 7 per update)


def tile_size(dm: DemoModel) -> int:
    return 64 if dm.size <= 128 else 80


def token(s: Settings, image_key: str) -> str:
    """What an update shows, written into each of its pictures and figures (data-state / layout.meta):
    the browser test and bench/bench_browser.py wait for it."""
    return f"dx={s.dx:g};dy={s.dy:g};k={s.orientation};ch={s.channel};{s.boundary};{s.model};{image_key}"


def _lossless_max(dm: DemoModel) -> int:
    return 32 * 32 if dm.size <= 64 else 16 * 16  # map pixels encoded losslessly (see render.webp_uri)


def _img(dm: DemoModel, rgb: np.ndarray, size: int, display: int | None = None, alt: str = "") -> str:
    """A picture as <img>: brought down to ``size`` if larger, shown at ``display`` (default ``size``) px."""
    display = display or size
    h, w = rgb.shape[:2]
    if h > size:
        rgb, h, w = render.resize(rgb, size), size, size
    # quality: the first view's pictures 70; the maps 65, the large ones (more than 32x32, Imagenette's
    # first blocks, and the grid's input row) 45 (fewer bytes per update than 55)
    uri = render.webp_uri(rgb, lossless=h * w <= _lossless_max(dm),
                          quality=70 if alt == "picture" else 65 if h * w <= 1024 else 45)
    cls = ' class="pc-x"' if 2 * h <= display else ""  # magnified 2x or more: pixelated, one pixel one square
    return f"<img{cls} src='{uri}' alt='{alt}'>"  # (its size: the style sheet's, demo.ui.theme.CSS)


# --------------------------------------------------------------------------------------------
# The first view: original and translated pictures
# --------------------------------------------------------------------------------------------


def picture_html(dm: DemoModel | None, pic: np.ndarray | None, caption: str, state: str = "") -> str:
    """The network's input as a picture (or, without one, the caption alone, e.g. why there is none)."""
    if pic is None:
        return single_quoted(f'<figure class="pc-pic" data-state="{state}"><div class="pc-empty">{caption}</div>'
                             '</figure>')
    img = _img(dm, pic * 255, min(SENT, pic.shape[0]), PICTURE, "picture")
    return single_quoted(f'<figure class="pc-pic" data-state="{state}">{img}<figcaption>{caption}</figcaption>'
                         '</figure>')


def original_picture(dm: DemoModel, orig: Original, name: str, state: str) -> str:
    return picture_html(dm, orig.picture, f"{html.escape(name)} · {dm.size}×{dm.size} px, what the network sees", state)


def translated_picture(dm: DemoModel, comp: Comparison, s: Settings, state: str) -> str:
    how = "circular Fourier shift" if s.boundary == "circular" else "zero-padded"
    return picture_html(dm, comp.branch.picture, f"moved by dx = {s.dx:g}, dy = {s.dy:g} px ({how})", state)


# --------------------------------------------------------------------------------------------
# Layer by layer: the maps
# --------------------------------------------------------------------------------------------


def _selection(dm: DemoModel, orig: Original, k: int, rank: int) -> list[tuple[Shown, float, str]]:
    """Per block: the map shown, its colour range (the original's), and the row label."""
    ad, rows = adapter(dm), []
    for j, blk in enumerate(orig.blocks):
        s = ad.select(orig, j, k, rank)
        H, W = s.original.shape
        if ad.complex:
            info = blk["info"]
            label = (f"<b>block {j}</b> · {H}×{W} map<br>1 map px = {info.scale * info.filters.stride} input px<br>"
                     f"ch {s.channel}/{s.channels} · θ{s.k} {math.degrees(info.filters.psi[s.k].theta):.0f}°")
        else:
            label = (f"<b>{'stem' if j == 0 else f'stage {j}'}</b> · {H}×{W} map<br>channel {s.channel} of "
                     f"{s.channels}<br>(real: no phase)")
        rows.append((s, render.robust_max(s.original), label))
    return rows


def _header(cells: list[str], labels: bool) -> str:
    head = '<div class="pc-l"></div>' if labels else ""
    return f'<div class="pc-r pc-h">{head}{"".join(f"<div>{c}</div>" for c in cells)}</div>'


def _grid(rows: list[list[str]], header: str, size: int, state: str, labels: list[str] | None = None) -> str:
    body = "".join(f'<div class="pc-r">{f"<div class=pc-l>{labels[i]}</div>" if labels else ""}{"".join(r)}</div>'
                   for i, r in enumerate(rows))
    return single_quoted(f'<div class="pc-maps" data-state="{state}" style="--t:{size}px">{header}{body}</div>')


def _legend(css: str, round_: bool = False) -> str:
    return f'<span class="pc-key{" pc-wheel" if round_ else ""}" style="background:{css}"></span>'


SEQ, DIV = render.css_ramp(render.SEQUENTIAL), render.css_ramp(render.DIVERGING)


def _shown(dm: DemoModel, orig: Original, s: Settings):
    return orig.rendered(("selection", s.orientation, s.channel), lambda: _selection(dm, orig, s.orientation,
                                                                                     s.channel))


def original_maps(dm: DemoModel, orig: Original, s: Settings, state: str) -> str:
    """Row labels and the original's columns (cached on the Original per orientation and channel)."""
    def make():
        size, ad, sel = tile_size(dm), adapter(dm), _shown(dm, orig, s)
        rows = [[_img(dm, orig.picture * 255, size, alt="input"), '<div class="pc-blank"></div>']]
        for sh, vmax, _ in sel:
            a = sh.original
            rows.append([_img(dm, render.modulus_rgb(np.abs(a), vmax), size), _img(dm, render.phase_rgb(a, vmax), size)]
                        if ad.complex else [_img(dm, render.signed_rgb(a, vmax), size), '<div class="pc-blank"></div>'])
        cells = ([f"|x∗ψθ| original{_legend(SEQ)}", f"phase original{_legend(render.PHASE_WHEEL_CSS, True)}"]
                 if ad.complex else [f"feature map original{_legend(DIV)}", "no phase"])
        labels = [f"<b>input</b> · {dm.size}×{dm.size} px"] + [lab for *_, lab in sel]
        return _grid(rows, _header(cells, True), size, STATE, labels)

    return orig.rendered(("maps", s.orientation, s.channel), make).replace(STATE, state, 1)


STATE = "__STATE__"  # placeholder for the update's state in the cached HTML


def translated_maps(dm: DemoModel, orig: Original, comp: Comparison, s: Settings, state: str) -> str:
    """The translated image's columns, on the original's colour scale: modulus, phase, modulus change."""
    size, ad = tile_size(dm), adapter(dm)
    diff = (comp.branch.picture - orig.picture).mean(-1)
    rows = [[_img(dm, comp.branch.picture * 255, size, alt="input"), '<div class="pc-blank"></div>',
             _img(dm, render.signed_rgb(diff, max(float(np.abs(diff).max()), 1e-3)), size)]]
    for (sh, vmax, _), blk in zip(_shown(dm, orig, s), comp.branch.blocks):
        b = ad.map(blk, sh)
        if ad.complex:
            rows.append([_img(dm, render.modulus_rgb(np.abs(b), vmax), size), _img(dm, render.phase_rgb(b, vmax), size),
                         _img(dm, render.signed_rgb(np.abs(b) - np.abs(sh.original), vmax), size)])
        else:
            rows.append([_img(dm, render.signed_rgb(b, vmax), size), '<div class="pc-blank"></div>',
                         _img(dm, render.signed_rgb(b - sh.original, vmax), size)])
    cells = ([f"|x∗ψθ| translated{_legend(SEQ)}", f"phase translated{_legend(render.PHASE_WHEEL_CSS, True)}",
              f"|x∗ψθ| change{_legend(DIV)}"] if ad.complex
             else [f"feature map translated{_legend(DIV)}", "no phase", f"change{_legend(DIV)}"])
    return _grid(rows, _header(cells, False), size, state)


def maps_html(dm: DemoModel, orig: Original, comp: Comparison, s: Settings, state: str) -> str:
    """Both halves side by side: what the API returns as "maps"."""
    return (f"<div class='pc-pair'>{original_maps(dm, orig, s, state)}"
            f"{translated_maps(dm, orig, comp, s, state)}</div>")


# --------------------------------------------------------------------------------------------
# Predictions and the two charts
# --------------------------------------------------------------------------------------------


def predictions(dm: DemoModel, orig: Original, comp: Comparison) -> tuple[dict, dict, str, dict]:
    """gr.Label values for both images, the 'did the top class change' line, and the numbers."""
    a, b = top_k(orig.probs, dm.classes), top_k(comp.branch.probs, dm.classes)
    label = lambda t: {c: round(p, 4) for c, p in t}  # what gr.Label takes
    changed = a[0][0] != b[0][0]
    line = (f"**Top class changed:** {a[0][0]} → {b[0][0]}" if changed
            else f"**Top class unchanged:** {a[0][0]} ({100 * a[0][1]:.1f}% → {100 * b[0][1]:.1f}%)")
    if not dm.trained:
        line += " · untrained network: chance-level predictions"
    return label(a), label(b), line, {"original_top5": a, "translated_top5": b, "top_class_changed": changed}


def analysis_charts(dm: DemoModel, comp: Comparison, single: list[dict] | None, s: Settings,
                    state: str) -> tuple[str, str]:
    """The error chart and the phase chart (SVG in HTML, demo/charts.py)."""
    if not adapter(dm).complex:
        return (charts.feature_changes(comp.report, state) if math.hypot(*s.tau)
                else charts.message("τ = 0: nothing to compare.", state, charts.ERRORS_TITLE),
                charts.message("ResNet-18 has no wavelet filters: no phases to compare.", state, charts.PHASES_TITLE))
    return (charts.errors(comp.report, single, s.tau, s.orientation, state=state),
            charts.phases(comp.report, s.orientation, state=state))


# --------------------------------------------------------------------------------------------
# Captions: what each plot shows, for the boundary mode in use
# --------------------------------------------------------------------------------------------

def last_input_pixel(dm: DemoModel) -> int:
    """Input pixels per pixel of the last block's input: a shift by a multiple of it moves every block's
    input by whole pixels."""
    return dm.model.block_info[-1].scale


def errors_caption(dm: DemoModel, boundary: str) -> str:
    if not adapter(dm).complex:
        return ("Relative change ‖f(τ·x) − f(x)‖ / ‖f(x)‖ of each stage's feature maps: a ResNet has no wavelets, "
                "hence no phase to compare.")
    head = ("Orange: (τ·x)∗ψ against the phase-shifted e<sup>−iξ·τ</sup>(x∗ψ); blue: |(τ·x)∗ψ| against |x∗ψ|. "
            "**Dotted**: each block's wavelet alone, dilated to input pixels and applied to the image; **solid**: the "
            "network's own blocks; light grey: the bound σ<sub>rms</sub>|τ| for a shift of each block's own input. "
            "Blue stays under orange: the moduli change less than the coefficients. ")
    if boundary == "circular":
        return head + (
            "The dotted curves stay under their dashed bound and fall with depth. The solid ones rise above the "
            "grey line: block j's input is the output of the blocks before it, and a shift of τ image pixels is a "
            "translation of that input only when τ is a whole number of its pixels (hover a point for them); "
            "otherwise the modulus and the subsampling in between alias. Try dx = "
            f"{last_input_pixel(dm)}, the last block's input pixel: every block's input then moves by whole "
            "pixels and the solid curves stay under the grey line.")
    return head + ("**Zero padding**: what leaves the frame is lost and zeros come in, which no phase shift "
                   "describes. The bounds hold for circular shifts only; here the dotted curves, too, can cross "
                   "their dashed bound, most for the deep blocks, whose wide filters reach the border from everywhere.")


def phases_caption(boundary: str) -> str:
    tail = ("" if boundary == "circular" else " Zero padding adds a change no phase shift describes: the deep "
            "blocks' points fall further below the diagonal.")
    return ("Each point is one block and orientation, at the height of its measured phase shift, the angle of "
            "Σ<sub>u</sub> (τ·x)∗ψ(u) · conj(x∗ψ(u)). **Hollow**: at the wavelet's prediction −ξ·τ; **filled**: at "
            "−ω̄·τ, where ω̄ is the mean frequency of x∗ψ (the centroid of its power spectrum). Natural images have "
            "most of their energy at low frequencies, so x∗ψ oscillates below ξ and the measured shift is smaller "
            "than −ξ·τ. For shifts up to about a pixel block 0's filled points lie near the diagonal; deeper blocks "
            "fall short of it as their inputs are not exact translates (see the error chart); for larger shifts "
            "−ξ·τ wraps around ±π. Darker = deeper; the selected θ is larger." + tail)


def maps_caption(boundary: str) -> str:
    head = ("Each row: one block's channel and orientation θ, the original and the translated image on the same "
            "colour scale; the phase as hue, brightness = modulus. Last column: translated minus original modulus "
            "(orange −, blue +). ")
    if boundary == "circular":
        return head + ("The moduli change less than the coefficients, whose phases turn with the shift; after a "
                       "shift by a whole number of a row's pixels, its maps are the original's, moved.")
    return head + ("Zero padding: the edge that enters is black, so the maps change along the border at every depth, "
                   "and the deepest maps, a few pixels wide, change visibly for shifts of a few pixels.")
