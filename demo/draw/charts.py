"""The two layer-by-layer charts as SVG drawn here, sent as HTML (plain strings; no plotting library).

Measured first (a CPU profile of the page during a series of slider moves, docs/DEMO.md): Plotly's
redraw of the two charts was the largest part of the browser's work per update on the project's 2-core
machine, more than the server's whole computation for the CIFAR-10 model. An SVG of a few kB, which the
page's HTML component patches in place, costs the browser little. Hover texts are SVG <title>s; the
legends are HTML under the charts; the colours are the poster's (demo.render)."""

from __future__ import annotations

import html
import math

from demo.draw.render import BLUE, GREY, ORANGE

W, H = 430, 290  # the errors chart's viewBox (about its size on the page: 11 px text stays 11 px)
M = {"l": 58, "r": 12, "t": 12, "b": 36}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
DEPTH = ("#b7d3ea", "#08306b")  # light = shallow, dark = deep


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _mix(t: float) -> str:
    a = [int(DEPTH[0][i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(DEPTH[1][i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def single_quoted(markup: str) -> str:
    """Attributes in single quotes: the page receives this HTML inside JSON, where every double quote
    costs a backslash (none of the texts here contains a quote of either kind in an attribute)."""
    return markup.replace('"', "'")


def _card(svg: str, legend: list[tuple[str, str]], state: str, title: str) -> str:
    keys = "".join(f'<span class="pc-lg">{sw}{html.escape(name, quote=False)}</span>' for sw, name in legend)
    return single_quoted(f'<div class="pc-chart" data-state="{state}"><div class="pc-ct">{title}</div>{svg}'
               f'<div class="pc-legend">{keys}</div></div>')


def message(text: str, state: str = "", title: str = "") -> str:
    return single_quoted(f'<div class="pc-chart" data-state="{state}"><div class="pc-ct">{title}</div>'
               f'<div class="pc-msg">{html.escape(text, quote=False)}</div></div>')


def _line_key(color: str, dash: str = "", width: float = 2.5, dot: bool = True) -> str:
    marker = f'<circle cx="14" cy="5" r="3" fill="{color}"/>' if dot else ""
    return (f'<svg width="28" height="10"><line x1="0" y1="5" x2="28" y2="5" stroke="{color}" stroke-width="{width}" '
            f'stroke-dasharray="{dash}"/>{marker}</svg>')


# --------------------------------------------------------------------------------------------
# Relative error against depth (log scale)
# --------------------------------------------------------------------------------------------

ERRORS_TITLE = "Relative error against depth"


def errors(report: list[dict], single: list[dict], tau: tuple[float, float], k: int = 0, floor: float = 1e-4,
           state: str = "") -> str:
    """Per block, for orientation theta_k: the single dilated wavelet's errors (dotted) and bound (dashed),
    the network's errors (solid) and the bound for a shift of each block's own input (light grey), all as
    relative errors on a log axis; hover (title) texts give the values and tau in block pixels."""
    if math.hypot(*tau) == 0:
        return message("τ = 0: the translated image is the original, nothing to compare.", state, ERRORS_TITLE)
    pick = lambda values: values[min(k, len(values) - 1)]
    n = len(report)
    series = [(single, "bound", GREY, "6 4", 2, f"bound σ_rms·|τ|, single wavelet θ{k}"),
              (report, "bound", "#bbbbbb", "", 1.5, "bound for a shift of each block's input"),
              (single, "linear_error", ORANGE, "2 3", 2, "single wavelet: linear"),
              (single, "modulus_error", BLUE, "2 3", 2, "single wavelet: modulus"),
              (report, "linear_error", ORANGE, "", 3, f"network θ{k}: linear"),
              (report, "modulus_error", BLUE, "", 3, f"network θ{k}: modulus")]
    ys = [[max(pick(r[key]), floor) for r in rows] for rows, key, *_ in series]
    top = math.ceil(math.log10(1.5 * max(2.0, *(v for y in ys for v in y))))
    lo = math.floor(math.log10(floor))
    pw, ph = W - M["l"] - M["r"], H - M["t"] - M["b"]
    X = lambda j: M["l"] + (j + 0.5) * pw / n
    Y = lambda v: M["t"] + (top - math.log10(v)) / (top - lo) * ph
    parts = [f'<rect x="{M["l"]}" y="{M["t"]}" width="{pw}" height="{ph}" fill="white" stroke="#ddd"/>']
    for e in range(lo, top + 1):
        y = _f(Y(10.0 ** e))
        parts.append(f'<line x1="{M["l"]}" x2="{W - M["r"]}" y1="{y}" y2="{y}" stroke="#eee"/>'
                     f'<text x="{M["l"] - 6}" y="{y}" class="pc-ty">10{str(e).translate(SUPERSCRIPT)}</text>')
    for j in range(n):
        parts.append(f'<text x="{_f(X(j))}" y="{H - M["b"] + 15}" class="pc-tx">{j}</text>')
    parts.append(f'<text x="{M["l"] + pw / 2}" y="{H - 4}" class="pc-tx">block</text>'
                 f'<text transform="translate(14 {M["t"] + ph / 2}) rotate(-90)" class="pc-tx">relative error '
                 f'(‖·‖ / ‖x∗ψ‖)</text>')
    where = [f"τ = ({r['tau_block'][1]:.3g}, {r['tau_block'][0]:.3g}) block px" for r in report]
    for (rows, key, color, dash, width, name), y in zip(series, ys):
        pts = " ".join(f"{X(j):.0f},{Y(v):.0f}" for j, v in enumerate(y))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}" '
                     f'stroke-dasharray="{dash}"/>')
        if key == "bound":
            continue
        if rows is report:  # hover: the value, and tau in the block's own pixels
            dots = "".join(f'<circle cx="{X(j):.0f}" cy="{Y(v):.0f}" r="4"><title>{name} {v:.3g}, {where[j]}</title>'
                           f"</circle>" for j, v in enumerate(y))
            parts.append(f'<g fill="{color}">{dots}</g>')
        else:  # dots as zero-length round strokes (phases' DOTS): a few bytes each
            dots = "".join(f"M{X(j):.0f} {Y(v):.0f}h0" for j, v in enumerate(y))
            parts.append(f'<path d="{dots}" stroke="{color}" stroke-width="5" stroke-linecap="round" fill="none"/>')
    svg = f'<svg viewBox="0 0 {W} {H}" class="pc-svg" role="img" aria-label="{ERRORS_TITLE}">{"".join(parts)}</svg>'
    legend = [(_line_key(c, d, w, w == 3), name) for _, _, c, d, w, name in series]
    return _card(svg, legend, state, ERRORS_TITLE)


# --------------------------------------------------------------------------------------------
# Measured against predicted phase shifts
# --------------------------------------------------------------------------------------------

PHASES_TITLE = "Measured against predicted phase shift"
# The points as zero-length strokes with round caps ("Mx yh0": a tenth of a <circle>'s bytes, where most of
# an update's chart is its points): .f a disc of radius 3; .o0/.i0 a ring (radius 3, 1.3 wide, white inside),
# .o1/.i1 the same of radius 4.5 (the selected orientation); circles with hover texts stroked white.
DOTS = ("<style>.pc-ph path{fill:none;stroke-linecap:round}.pc-ph .f{stroke-width:6}.pc-ph .o0{stroke-width:7.3}"
        ".pc-ph .i0{stroke:#fff;stroke-width:4.7}.pc-ph .o1{stroke-width:10.3}.pc-ph .i1{stroke:#fff;stroke-width:7.7}"
        ".pc-ph circle{stroke:#fff;stroke-width:.6}</style>")
S, PM = 300, 40  # the phase chart's square viewBox side and margin
TICKS = [(-math.pi, "−π"), (-math.pi / 2, "−π/2"), (0.0, "0"), (math.pi / 2, "π/2"), (math.pi, "π")]


def phases(report: list[dict], highlight: int | None = None, state: str = "") -> str:
    """One pair of points per (block, orientation) at the height of the measured phase shift: hollow at the
    wavelet's -xi.tau, filled at the local-frequency -omega_bar.tau (core.analysis.spectral_moments),
    joined by a thin segment; darker = deeper, the selected orientation larger."""
    lim = 3.4
    P = lambda v: PM + (v + lim) / (2 * lim) * (S - PM - 8)  # x to the right
    Q = lambda v: 8 + (lim - v) / (2 * lim) * (S - PM - 8)  # y up
    n = len(report)
    parts = [f'<rect x="{PM}" y="8" width="{S - PM - 8}" height="{S - PM - 8}" fill="white" stroke="#ddd"/>']
    for v, label in TICKS:
        parts.append(f'<line x1="{_f(P(v))}" x2="{_f(P(v))}" y1="8" y2="{S - PM}" stroke="#eee"/>'
                     f'<line x1="{PM}" x2="{S - 8}" y1="{_f(Q(v))}" y2="{_f(Q(v))}" stroke="#eee"/>'
                     f'<text x="{_f(P(v))}" y="{S - PM + 14}" class="pc-tx">{label}</text>'
                     f'<text x="{PM - 5}" y="{_f(Q(v))}" class="pc-ty">{label}</text>')
    parts.append(f'<line x1="{_f(P(-math.pi))}" y1="{_f(Q(-math.pi))}" x2="{_f(P(math.pi))}" y2="{_f(Q(math.pi))}" '
                 f'stroke="{GREY}" stroke-dasharray="2 3"/>'
                 f'<text x="{PM + (S - PM) / 2}" y="{S - 6}" class="pc-tx">predicted phase shift (rad)</text>'
                 f'<text transform="translate(11 {(S - PM) / 2}) rotate(-90)" class="pc-tx">measured (rad)</text>')
    groups, segs = [], []
    for r in report:
        hk = None if highlight is None else min(highlight, len(r["predicted_phase"]) - 1)  # theta_k, clamped
        hollow, filled, titled = {3: "", 4.5: ""}, "", ""
        for k, (a, b, m) in enumerate(zip(r["predicted_phase"], r["predicted_phase_local"], r["measured_phase"])):
            y, rad = f"{Q(m):.0f}", 4.5 if k == hk else 3
            x0, x1 = f"{P(a):.0f}", f"{P(b):.0f}"
            if abs(a - b) < math.pi and x0 != x1:  # not across the wrap at +-pi
                segs.append(f"M{x0} {y}H{x1}")
            hollow[rad] += f"M{x0} {y}h0"
            if k == hk:  # hover: the numbers of the selected orientation's points
                titled += (f'<circle cx="{x1}" cy="{y}" r="4.5"><title>block {r["block"]} θ{k}: measured {m:.2f}, '
                           f"−ξ·τ {a:.2f}, −ω̄·τ {b:.2f} rad</title></circle>")
            else:
                filled += f"M{x1} {y}h0"
        c = _mix(r["block"] / max(n - 1, 1))
        rings = "".join(f'<path d="{d}" class="o{i}"/><path d="{d}" class="i{i}"/>'
                        for i, d in enumerate(hollow.values()) if d)
        groups.append(f'<g stroke="{c}" fill="{c}">{rings}<path d="{filled}" class="f"/>{titled}</g>')
    parts.append(f'<path d="{"".join(segs)}" stroke="#ccc" stroke-width="1" fill="none"/>')
    parts.append(DOTS)
    parts += groups
    svg = (f'<svg viewBox="0 0 {S} {S}" class="pc-svg pc-square pc-ph" role="img" aria-label="{PHASES_TITLE}">'
           f'{"".join(parts)}</svg>')
    legend = [(_line_key(GREY, "2 3", 1.5, False), "measured = predicted"),
              ('<svg width="12" height="10"><circle cx="6" cy="5" r="3.5" fill="white" stroke="#2f78b7"/></svg>',
               "at −ξ·τ (the wavelet's ξ)"),
              ('<svg width="12" height="10"><circle cx="6" cy="5" r="3.5" fill="#2f78b7"/></svg>',
               "at −ω̄·τ (local frequency ω̄ of x∗ψ)")]
    return _card(svg, legend, state, PHASES_TITLE)


def feature_changes(report: list[dict], state: str = "") -> str:
    """For a network without wavelets (the ResNet baseline): relative change of each stage's output."""
    n = len(report)
    pw, ph = W - M["l"] - M["r"], H - M["t"] - M["b"]
    vals = [max(r["feature_change"], 1e-4) for r in report]
    top, lo = math.ceil(math.log10(max(2.0, *vals))), -4
    X = lambda j: M["l"] + (j + 0.5) * pw / n
    Y = lambda v: M["t"] + (top - math.log10(v)) / (top - lo) * ph
    parts = [f'<rect x="{M["l"]}" y="{M["t"]}" width="{pw}" height="{ph}" fill="white" stroke="#ddd"/>']
    parts += [f'<text x="{M["l"] - 6}" y="{_f(Y(10.0 ** e))}" class="pc-ty">10{str(e).translate(SUPERSCRIPT)}</text>'
              for e in range(lo, top + 1)]
    parts += [f'<text x="{_f(X(j))}" y="{H - M["b"] + 15}" class="pc-tx">{"stem" if j == 0 else j}</text>'
              for j in range(n)]
    parts.append(f'<polyline points="{" ".join(f"{_f(X(j))},{_f(Y(v))}" for j, v in enumerate(vals))}" fill="none" '
                 f'stroke="#4f9a3a" stroke-width="3"/>')
    parts += [f'<circle cx="{X(j):.0f}" cy="{Y(v):.0f}" r="4" fill="#4f9a3a"><title>stage {j}: {v:.3g}</title>'
              f'</circle>' for j, v in enumerate(vals)]
    svg = f'<svg viewBox="0 0 {W} {H}" class="pc-svg">{"".join(parts)}</svg>'
    return _card(svg, [(_line_key("#4f9a3a"), "‖f(τx) − f(x)‖ / ‖f(x)‖ per stage")], state, ERRORS_TITLE)
