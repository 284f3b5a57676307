"""Plotly figures as plain dicts (serialized straight to JSON: no validation cost on every update).

Each builder returns {"data": [...], "layout": {...}}; :func:`plot` wraps one for gr.Plot."""

from __future__ import annotations

import json
import math

import numpy as np

from demo import render
from demo.render import BLUE, GREEN, GREY, ORANGE, RED

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}


def layout(**kw) -> dict:
    base = {"font": FONT, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "paper_bgcolor": "white",
            "plot_bgcolor": "white", "hovermode": "closest"}
    base.update(kw)
    return base


def plot(fig: dict):
    """A figure dict -> what gr.Plot's postprocess accepts, without re-validating it."""
    from gradio.components.plot import PlotData

    return PlotData(type="plotly", plot=json.dumps(fig, separators=(",", ":"), allow_nan=False))


def _r(a, nd: int = 4):
    """Round for light JSON."""
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def message(text: str, height: int = 240) -> dict:
    """An empty figure that says why it is empty."""
    return {"data": [], "layout": layout(height=height, xaxis={"visible": False}, yaxis={"visible": False},
                                         annotations=[{"text": text, "showarrow": False, "xref": "paper",
                                                       "yref": "paper", "x": 0.5, "y": 0.5,
                                                       "font": {"size": 15, "color": GREY}}])}


# --------------------------------------------------------------------------------------------
# Layer by layer: one picture strip per column, one row per block
# --------------------------------------------------------------------------------------------


def maps(strips: list[str], columns: list[str], rows: list[str], tile: int, gap: int) -> dict:
    """Columns of tiles (each strip a JPEG data URI of len(rows) tiles of ``tile`` px, ``gap`` apart),
    column titles on top, one row label per block on the left."""
    n = len(rows)
    width = len(strips) * (tile + gap) - gap
    height = n * (tile + gap) - gap
    data = [{"type": "image", "source": s, "x0": i * (tile + gap), "y0": 0, "dx": 1, "dy": 1, "hoverinfo": "skip"}
            for i, s in enumerate(strips)]
    centres_x = [i * (tile + gap) + tile / 2 for i in range(len(strips))]
    centres_y = [r * (tile + gap) + tile / 2 for r in range(n)]
    lay = layout(
        height=height + 80, width=width + 180, margin={"l": 170, "r": 10, "t": 70, "b": 10}, dragmode=False,
        xaxis={"range": [-0.5, width - 0.5], "tickvals": centres_x, "ticktext": columns, "side": "top",
               "showgrid": False, "zeroline": False, "fixedrange": True, "ticks": "", "tickangle": 0,
               "tickfont": {"size": 11}},
        yaxis={"range": [height - 0.5, -0.5], "tickvals": centres_y, "ticktext": rows, "showgrid": False,
               "zeroline": False, "fixedrange": True, "scaleanchor": "x", "ticks": "", "tickfont": {"size": 11}},
    )
    return {"data": data, "layout": lay}


# --------------------------------------------------------------------------------------------
# The phase-shift approximation, layer by layer
# --------------------------------------------------------------------------------------------


def _block_ticks(report: list[dict]) -> dict:
    return {"tickvals": [r["block"] for r in report],
            "ticktext": [f"{r['block']}<br>×{r['scale']}" for r in report]}


def errors(report: list[dict], single: list[dict], tau: tuple[float, float], k: int = 0,
           floor: float = 1e-4) -> dict:
    """Relative error against depth for orientation theta_k, through the network (``report``, from
    compare_blocks; other orientations in the hover text) and for the wavelet theta_k dilated to each
    block's scale applied to the image (``single``, the theory, one orientation per block), with the
    latter's bound sigma_rms |tau|: linear coefficients vs e^{-i xi.tau}(x*psi), and moduli."""
    if math.hypot(*tau) == 0:
        return message("τ = 0: the translated image is the original, nothing to compare.", 360)
    x = [r["block"] for r in report]
    clip = lambda v: max(v, floor)
    tau_txt = [f"τ = ({r['tau_block'][1]:.3g}, {r['tau_block'][0]:.3g}) block px" for r in report]
    pick = lambda values: values[min(k, len(values) - 1)]  # theta_k, clamped to the block's L - 1

    def trace(rows, key, name, color, dash="solid"):
        y = [clip(pick(r[key])) for r in rows]
        text = [t + "<br>" + " · ".join(f"θ{i} {v:.3f}" for i, v in enumerate(r[key])) for t, r in zip(tau_txt, rows)]
        return {"type": "scatter", "mode": "lines+markers", "x": x, "y": _r(y, 5), "name": name, "text": text,
                "line": {"color": color, "dash": dash, "width": 3 if dash == "solid" else 2},
                "marker": {"size": 8 if dash == "solid" else 5},
                "hovertemplate": "%{y:.3f}<br>%{text}<extra>" + name + "</extra>"}

    data = [trace(single, "bound", f"bound σ_rms·|τ| (single wavelet θ{k})", GREY, "dash"),
            trace(single, "linear_error", "single wavelet: linear", ORANGE, "dot"),
            trace(single, "modulus_error", "single wavelet: modulus", BLUE, "dot"),
            trace(report, "linear_error", f"network θ{k}: linear", ORANGE),
            trace(report, "modulus_error", f"network θ{k}: modulus", BLUE)]
    lin = [pick(r["linear_error"]) for r in report + single]
    bound = [pick(r["bound"]) for r in single]
    lay = layout(height=420, legend={"orientation": "h", "y": -0.28, "x": 0},
                 margin={"l": 70, "r": 20, "t": 20, "b": 130},
                 xaxis={"title": {"text": "block (×k: one block pixel = k input pixels)"}, **_block_ticks(report),
                        "showgrid": False, "zeroline": False},
                 yaxis={"title": {"text": "relative error (‖·‖ / ‖x∗ψ‖)"}, "type": "log", "gridcolor": "#eee",
                        "dtick": 1, "exponentformat": "power",
                        "range": [math.log10(floor), math.log10(1.5 * max(2.0, *bound, *lin))]})
    return {"data": data, "layout": lay}


def phases(report: list[dict], highlight: int | None = None) -> dict:
    """Measured phase shift against the predicted -xi.tau, one point per (block, orientation)."""
    n = len(report)
    data = [{"type": "scatter", "mode": "lines", "x": [-math.pi, math.pi], "y": [-math.pi, math.pi],
             "line": {"color": GREY, "dash": "dot"}, "name": "measured = predicted", "hoverinfo": "skip"}]
    for r in report:
        L = len(r["predicted_phase"])
        shade = 0.25 + 0.75 * (r["block"] / max(n - 1, 1))
        size = [13 if k == highlight else 8 for k in range(L)]
        data.append({
            "type": "scatter", "mode": "markers", "x": _r(r["predicted_phase"]), "y": _r(r["measured_phase"]),
            "name": f"block {r['block']} (×{r['scale']})",
            "marker": {"size": size, "color": f"rgba(47,120,183,{shade:.2f})", "line": {"width": 1, "color": "white"}},
            "text": [f"block {r['block']}, θ{k}, τ = ({r['tau_block'][1]:.3g}, {r['tau_block'][0]:.3g}) block px"
                     f"<br>linear error {r['linear_error'][k]:.2f}" for k in range(L)],
            "hovertemplate": "%{text}<br>predicted %{x:.2f} rad<br>measured %{y:.2f} rad<extra></extra>",
        })
    ticks = {"tickvals": _r([-math.pi, -math.pi / 2, 0, math.pi / 2, math.pi]),
             "ticktext": ["−π", "−π/2", "0", "π/2", "π"], "range": [-3.4, 3.4], "zeroline": False, "gridcolor": "#eee"}
    lay = layout(height=380, showlegend=True, legend={"font": {"size": 11}},
                 xaxis={"title": {"text": "predicted phase shift −ξ·τ (rad)"}, **ticks},
                 yaxis={"title": {"text": "measured phase shift (rad)"}, "scaleanchor": "x", **ticks})
    return {"data": data, "layout": lay}


def feature_changes(report: list[dict]) -> dict:
    """For a network without wavelets (the ResNet baseline): relative change of each stage's output."""
    x = [r["block"] for r in report]
    y = [max(r["feature_change"], 1e-4) for r in report]
    data = [{"type": "scatter", "mode": "lines+markers", "x": x, "y": _r(y, 5), "name": "‖f(τx) − f(x)‖ / ‖f(x)‖",
             "line": {"color": GREEN, "width": 3}, "marker": {"size": 8}}]
    lay = layout(height=380, showlegend=True, legend={"orientation": "h", "y": -0.25},
                 xaxis={"title": {"text": "stage (0 = stem)"}, "tickvals": x},
                 yaxis={"title": {"text": "relative change of the feature maps"}, "type": "log"})
    return {"data": data, "layout": lay}


# --------------------------------------------------------------------------------------------
# Explainer
# --------------------------------------------------------------------------------------------


def _heat(z, x, y, colorscale, zmin, zmax, xa, ya, title, showscale=False):
    return {"type": "heatmap", "z": _r(z, 4), "x": x, "y": y, "colorscale": colorscale, "zmin": zmin, "zmax": zmax,
            "xaxis": xa, "yaxis": ya, "showscale": showscale, "name": title,
            "hovertemplate": title + " %{z:.3f}<br>u = (%{y}, %{x}) px<extra></extra>"}


CYCLIC = [[0.0, ORANGE], [0.25, "#ffffff"], [0.5, BLUE], [0.75, "#111111"], [1.0, ORANGE]]


def morlet(view, max_side: int = 61) -> dict:
    """Real part, imaginary part, modulus, phase of a Morlet wavelet (the poster's panel)."""
    k = view.kernel
    step = max(1, math.ceil(k.shape[0] / max_side))
    r = k.shape[0] // 2
    k = k[::step, ::step]
    axis = _r(np.arange(-r, r + 1)[::step], 1)
    vmax = float(np.abs(view.kernel).max())
    div = render.plotly_scale(render.DIVERGING)
    seq = render.plotly_scale(render.SEQUENTIAL)
    panels = [("real part", k.real, div, -vmax, vmax), ("imaginary part", k.imag, div, -vmax, vmax),
              ("modulus", np.abs(k), seq, 0, vmax), ("phase (rad)", np.angle(k), CYCLIC, -math.pi, math.pi)]
    data, lay = [], layout(height=300, margin={"l": 40, "r": 10, "t": 40, "b": 40}, annotations=[])
    for i, (title, z, cs, lo, hi) in enumerate(panels):
        xa, ya = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        data.append(_heat(z, axis, axis, cs, lo, hi, xa, ya, title))
        dom = [i * 0.25 + 0.01, (i + 1) * 0.25 - 0.01]
        lay[f"xaxis{'' if i == 0 else i + 1}"] = {"domain": dom, "anchor": ya, "showgrid": False, "zeroline": False,
                                                   "title": {"text": "col (px)"}, "constrain": "domain"}
        lay[f"yaxis{'' if i == 0 else i + 1}"] = {"anchor": xa, "scaleanchor": xa, "autorange": "reversed",
                                                   "showgrid": False, "zeroline": False, "constrain": "domain"}
        lay["annotations"].append({"text": f"<b>{title}</b>", "x": (dom[0] + dom[1]) / 2, "y": 1.08, "xref": "paper",
                                   "yref": "paper", "showarrow": False})
    lay["yaxis"]["title"] = {"text": "row (px)"}
    return {"data": data, "layout": lay}


def relu(x: np.ndarray, parts: dict, threshold: float) -> dict:
    """ReLU(x − λ) = ½ absolute value with a dead zone + ½ soft-thresholding (the poster's panel)."""
    specs = [("ReLU(x − λ)", parts["relu"], GREEN), ("even: ½ (|x| − λ)₊", parts["even"], BLUE),
             ("odd: ½ sign(x) (|x| − λ)₊", parts["odd"], ORANGE)]
    lim = float(np.abs(x).max())
    data, lay = [], layout(height=280, showlegend=False, margin={"l": 40, "r": 10, "t": 30, "b": 60}, annotations=[])
    for i, (name, y, color) in enumerate(specs):
        xa, ya = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        data.append({"type": "scatter", "mode": "lines", "x": _r(x, 3), "y": _r(y, 4), "xaxis": xa, "yaxis": ya,
                     "line": {"color": color, "width": 4}, "name": name,
                     "hovertemplate": "x %{x:.2f} → %{y:.2f}<extra>" + name + "</extra>"})
        dom = [i * 0.37, i * 0.37 + 0.26]
        suffix = "" if i == 0 else str(i + 1)
        lay[f"xaxis{suffix}"] = {"domain": dom, "anchor": ya, "range": [-lim, lim], "zeroline": True,
                                 "zerolinecolor": "#444", "showgrid": False,
                                 "title": {"text": f"<b>{name}</b>", "font": {"color": color, "size": 12}}}
        lay[f"yaxis{suffix}"] = {"anchor": xa, "range": [-lim / 2, lim], "zeroline": True, "zerolinecolor": "#444",
                                 "showgrid": False}
    for xpos, sym in ((0.315, "="), (0.685, "+")):
        lay["annotations"].append({"text": f"<b>{sym}</b>", "x": xpos, "y": 0.5, "xref": "paper", "yref": "paper",
                                   "showarrow": False, "font": {"size": 30}})
    lay["annotations"].append({"text": f"λ = {threshold:g}", "x": 0, "y": 1.08, "xref": "paper", "yref": "paper",
                               "showarrow": False, "xanchor": "left", "font": {"color": GREY}})
    return {"data": data, "layout": lay}


def separation(za, zb, stats: dict, names: tuple[str, str]) -> dict:
    """Complex coefficients of two texture classes (circularly symmetric, same mean 0) and the
    histograms of their moduli (different means): the poster's class-mean separation picture."""
    colors = (GREEN, RED)
    data = []
    lim = float(max(np.abs(za.real).max(), np.abs(za.imag).max(), np.abs(zb.real).max(), np.abs(zb.imag).max()))
    for z, name, c in zip((za, zb), names, colors):
        data.append({"type": "scatter", "mode": "markers", "x": _r(z.real, 3), "y": _r(z.imag, 3), "name": name,
                     "legendgroup": name, "marker": {"size": 5, "color": c, "opacity": 0.55},
                     "hovertemplate": "Re %{x:.2f}, Im %{y:.2f}<extra>" + name + "</extra>"})
    for z, name, c in zip((za, zb), names, colors):
        m = complex(z.mean())
        data.append({"type": "scatter", "mode": "markers", "x": [round(m.real, 4)], "y": [round(m.imag, 4)],
                     "name": f"mean of {name}", "legendgroup": name, "showlegend": False,
                     "marker": {"size": 16, "color": c, "symbol": "x", "line": {"width": 2, "color": "black"}},
                     "hovertemplate": "class mean %{x:.3f} + %{y:.3f}i<extra>" + name + "</extra>"})
    for z, name, c in zip((za, zb), names, colors):
        data.append({"type": "histogram", "x": _r(np.abs(z), 3), "name": f"|x∗ψ| {name}", "legendgroup": name,
                     "showlegend": False, "marker": {"color": c}, "opacity": 0.6, "nbinsx": 30,
                     "xaxis": "x2", "yaxis": "y2"})
    shapes = [{"type": "line", "xref": "x2", "yref": "paper", "x0": float(np.abs(z).mean()),
               "x1": float(np.abs(z).mean()), "y0": 0, "y1": 1, "line": {"color": c, "width": 3, "dash": "dash"}}
              for z, c in zip((za, zb), colors)]
    lay = layout(
        height=360, barmode="overlay", shapes=shapes, legend={"orientation": "h", "y": -0.22},
        margin={"l": 50, "r": 20, "t": 60, "b": 80},
        xaxis={"domain": [0, 0.42], "title": {"text": "Re x∗ψ(u)"}, "range": [-lim, lim], "zerolinecolor": "#999"},
        yaxis={"title": {"text": "Im x∗ψ(u)"}, "scaleanchor": "x", "range": [-lim, lim], "zerolinecolor": "#999"},
        xaxis2={"domain": [0.55, 1], "anchor": "y2", "title": {"text": "|x∗ψ(u)|"}, "rangemode": "tozero"},
        yaxis2={"anchor": "x2", "title": {"text": "count"}},
        annotations=[
            {"text": f"<b>x∗ψ(u)</b>: class means ≈ 0 (Fisher {stats['fisher_complex']:.3f})", "x": 0.21, "y": 1.12,
             "xref": "paper", "yref": "paper", "showarrow": False},
            {"text": f"<b>|x∗ψ(u)|</b>: means differ (Fisher {stats['fisher_modulus']:.2f})", "x": 0.78, "y": 1.12,
             "xref": "paper", "yref": "paper", "showarrow": False, "font": {"color": BLUE}},
            {"text": "phase collapse →", "x": 0.485, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
             "font": {"color": BLUE, "size": 14}, "textangle": 0},
        ])
    return {"data": data, "layout": lay}
