"""Plotly figures as plain dicts (serialized straight to JSON: no validation cost on every update).

Each builder returns {"data": [...], "layout": {...}}; :func:`plot` wraps one for gr.Plot."""

from __future__ import annotations

import json
import math

import numpy as np

from demo.draw import render
from demo.draw.render import BLUE, GREEN, GREY, ORANGE, RED

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


def rounded(a, nd: int = 4):
    """Round for light JSON."""
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def message(text: str, height: int = 240, meta: str = "") -> dict:
    """An empty figure that says why it is empty."""
    return {"data": [], "layout": layout(height=height, xaxis={"visible": False}, yaxis={"visible": False}, meta=meta,
                                         annotations=[{"text": text, "showarrow": False, "xref": "paper",
                                                       "yref": "paper", "x": 0.5, "y": 0.5,
                                                       "font": {"size": 15, "color": GREY}}])}


# --------------------------------------------------------------------------------------------
# Explainer
# --------------------------------------------------------------------------------------------


def _heat(z, x, y, colorscale, zmin, zmax, xa, ya, title, showscale=False):
    return {"type": "heatmap", "z": rounded(z, 4), "x": x, "y": y, "colorscale": colorscale, "zmin": zmin, "zmax": zmax,
            "xaxis": xa, "yaxis": ya, "showscale": showscale, "name": title,
            "hovertemplate": title + " %{z:.3f}<br>u = (%{y}, %{x}) px<extra></extra>"}


CYCLIC = [[0.0, ORANGE], [0.25, "#ffffff"], [0.5, BLUE], [0.75, "#111111"], [1.0, ORANGE]]


def morlet(view, max_side: int = 61) -> dict:
    """Real part, imaginary part, modulus, phase of a Morlet wavelet (the poster's panel)."""
    k = view.kernel
    step = max(1, math.ceil(k.shape[0] / max_side))
    r = k.shape[0] // 2
    k = k[::step, ::step]
    axis = rounded(np.arange(-r, r + 1)[::step], 1)
    vmax = float(np.abs(view.kernel).max())
    div = render.plotly_scale(render.DIVERGING)
    seq = render.plotly_scale(render.SEQUENTIAL)
    # one word each: four titles side by side at 1024 px (tests/test_browser.py)
    panels = [("real", k.real, div, -vmax, vmax), ("imaginary", k.imag, div, -vmax, vmax),
              ("modulus", np.abs(k), seq, 0, vmax), ("phase", np.angle(k), CYCLIC, -math.pi, math.pi)]
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
    lay["yaxis"]["automargin"] = True  # the title clear of the tick labels, however wide the kernel
    return {"data": data, "layout": lay}


def relu(x: np.ndarray, parts: dict, threshold: float) -> dict:
    """ReLU(x − λ) = ½ absolute value with a dead zone + ½ soft-thresholding (the poster's panel)."""
    specs = [("ReLU(x − λ)", parts["relu"], GREEN), ("even part:<br>½ (|x| − λ)₊", parts["even"], BLUE),
             ("odd part:<br>½ sign(x)(|x| − λ)₊", parts["odd"], ORANGE)]
    lim = float(np.abs(x).max())
    data, lay = [], layout(height=290, showlegend=False, margin={"l": 40, "r": 10, "t": 30, "b": 70}, annotations=[])
    for i, (name, y, color) in enumerate(specs):
        xa, ya = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        data.append({"type": "scatter", "mode": "lines", "x": rounded(x, 3), "y": rounded(y, 4), "xaxis": xa,
                     "yaxis": ya, "line": {"color": color, "width": 4}, "name": name,
                     "hovertemplate": "x %{x:.2f} → %{y:.2f}<extra>" + name.replace("<br>", " ") + "</extra>"})
        dom = [i * 0.37, i * 0.37 + 0.26]
        suffix = "" if i == 0 else str(i + 1)
        lay[f"xaxis{suffix}"] = {"domain": dom, "anchor": ya, "range": [-lim, lim], "zeroline": True,
                                 "zerolinecolor": "#444", "showgrid": False,
                                 "title": {"text": f"<b>{name}</b>", "font": {"color": color, "size": 11}}}
        lay[f"yaxis{suffix}"] = {"anchor": xa, "range": [-lim / 2, lim], "zeroline": True, "zerolinecolor": "#444",
                                 "showgrid": False, "showticklabels": i == 0}  # one range: the "=" and "+" clear
    for xpos, sym in ((0.315, "="), (0.685, "+")):
        lay["annotations"].append({"text": f"<b>{sym}</b>", "x": xpos, "y": 0.5, "xref": "paper", "yref": "paper",
                                   "showarrow": False, "font": {"size": 30}})
    # top right: the top left is under gr.Plot's own label
    lay["annotations"].append({"text": f"bias λ = {threshold:g}", "x": 1, "y": 1.1, "xref": "paper", "yref": "paper",
                               "showarrow": False, "xanchor": "right", "font": {"color": GREY, "size": 13}})
    return {"data": data, "layout": lay}


def separation(za, zb, stats: dict, names: tuple[str, str]) -> dict:
    """Complex coefficients of two texture classes (circularly symmetric, same mean 0) and the
    histograms of their moduli (different means): the poster's class-mean separation picture."""
    colors = (GREEN, RED)
    data = []
    lim = float(max(np.abs(za.real).max(), np.abs(za.imag).max(), np.abs(zb.real).max(), np.abs(zb.imag).max()))
    for z, name, c in zip((za, zb), names, colors):
        data.append({"type": "scatter", "mode": "markers", "x": rounded(z.real, 3), "y": rounded(z.imag, 3),
                     "name": name,
                     "legendgroup": name, "marker": {"size": 5, "color": c, "opacity": 0.55},
                     "hovertemplate": "Re %{x:.2f}, Im %{y:.2f}<extra>" + name + "</extra>"})
    for z, name, c in zip((za, zb), names, colors):
        m = complex(z.mean())
        data.append({"type": "scatter", "mode": "markers", "x": [round(m.real, 4)], "y": [round(m.imag, 4)],
                     "name": f"mean of {name}", "legendgroup": name, "showlegend": False,
                     "marker": {"size": 16, "color": c, "symbol": "x", "line": {"width": 2, "color": "black"}},
                     "hovertemplate": "class mean %{x:.3f} + %{y:.3f}i<extra>" + name + "</extra>"})
    for z, name, c in zip((za, zb), names, colors):
        data.append({"type": "histogram", "x": rounded(np.abs(z), 3), "name": f"|x∗ψ| {name}", "legendgroup": name,
                     "showlegend": False, "marker": {"color": c}, "opacity": 0.6, "nbinsx": 30,
                     "xaxis": "x2", "yaxis": "y2"})
    shapes = [{"type": "line", "xref": "x2", "yref": "paper", "x0": float(np.abs(z).mean()),
               "x1": float(np.abs(z).mean()), "y0": 0, "y1": 1, "line": {"color": c, "width": 3, "dash": "dash"}}
              for z, c in zip((za, zb), colors)]
    lay = layout(
        height=390, barmode="overlay", shapes=shapes, legend={"orientation": "h", "y": -0.3},
        margin={"l": 50, "r": 50, "t": 70, "b": 100},
        xaxis={"domain": [0, 0.42], "title": {"text": "Re x∗ψ(u)"}, "range": [-lim, lim], "zerolinecolor": "#999"},
        yaxis={"title": {"text": "Im x∗ψ(u)"}, "scaleanchor": "x", "range": [-lim, lim], "zerolinecolor": "#999"},
        xaxis2={"domain": [0.55, 1], "anchor": "y2", "title": {"text": "|x∗ψ(u)|"}, "rangemode": "tozero"},
        yaxis2={"anchor": "x2", "side": "right", "title": {"text": "count"}},  # the gap holds the arrow
        annotations=[
            {"text": f"<b>x∗ψ(u)</b>: {complex_means(stats)}<br>Fisher {stats['fisher_complex']:.3f}", "x": 0.21,
             "y": 1.04, "yanchor": "bottom", "xref": "paper", "yref": "paper", "showarrow": False},
            {"text": f"<b>|x∗ψ(u)|</b>: {modulus_means(stats)}<br>Fisher {stats['fisher_modulus']:.2f}", "x": 0.78,
             "y": 1.04, "yanchor": "bottom", "xref": "paper", "yref": "paper", "showarrow": False,
             "font": {"color": BLUE}},
            {"text": "phase<br>collapse →", "x": 0.485, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
             "font": {"color": BLUE, "size": 13}, "textangle": 0},
        ])
    return {"data": data, "layout": lay}


def complex_means(stats: dict, near: float = 0.1) -> str:
    """What the scatter shows of the class means: near 0 when each |mean| / rms is under ``near``."""
    return "class means ≈ 0" if max(stats["mean_ratio_a"], stats["mean_ratio_b"]) < near else "class means off 0"


def modulus_means(stats: dict) -> str:
    """What the histograms show: the moduli's class means further apart than the coefficients' (a larger Fisher
    ratio), or not."""
    return ("means further apart" if stats["fisher_modulus"] > stats["fisher_complex"]
            else "means no further apart")
