"""The invariance view's figures, as plotly dicts (demo.draw.figures' style): the stability map per model
and the curve of where the invariance is built."""

from __future__ import annotations

import math

import numpy as np

from demo.draw import render
from demo.draw.figures import layout, message, rounded
from demo.draw.render import BLUE, GREEN, ORANGE, RED
from demo.invariance.text import block_labels

COLORS = {"scattering": BLUE, "features": GREEN}


def stability_figure(pairs: list[tuple]) -> dict:
    """One heatmap per model: the probability of the unshifted image's top class at each shift
    (dx right, dy down, as the image moves), crosses where the top class changes, a ring at 0."""
    n = len(pairs)
    gap = 0.12
    w = (1 - gap * (n - 1)) / n
    scale = render.plotly_scale(render.SEQUENTIAL)
    data, lay = [], layout(height=500, showlegend=False, margin={"l": 60, "r": 20, "t": 100, "b": 60}, annotations=[])
    for i, (dm, sm) in enumerate(pairs):
        sx = "" if i == 0 else str(i + 1)
        xa, ya = f"x{sx}", f"y{sx}"
        o = rounded(sm.offsets, 4)
        names = np.asarray(dm.classes)[sm.top]
        text = [[f"top class {names[a, b]} ({sm.top_prob[a, b]:.2f})" for b in range(sm.steps)]
                for a in range(sm.steps)]
        data.append({"type": "heatmap", "z": rounded(sm.probs, 4), "x": o, "y": o, "zmin": 0, "zmax": 1,
                     "colorscale": scale, "xaxis": xa, "yaxis": ya, "text": text, "showscale": i == n - 1,
                     "colorbar": {"title": {"text": "p(top class)", "side": "right"}, "len": 0.85, "thickness": 16},
                     "hovertemplate": "dx %{x} px, dy %{y} px<br>p(" + dm.classes[sm.reference_class]
                                      + ") %{z:.3f}<br>%{text}<extra>" + dm.label + "</extra>"})
        ch = sm.changes()
        data.append({"type": "scatter", "mode": "markers", "x": [c["dx"] for c in ch], "y": [c["dy"] for c in ch],
                     "xaxis": xa, "yaxis": ya, "name": "top class changes", "hoverinfo": "skip",
                     "marker": {"symbol": "x-thin", "size": 9, "color": RED, "line": {"width": 2, "color": RED}}})
        data.append({"type": "scatter", "mode": "markers", "x": [0], "y": [0], "xaxis": xa, "yaxis": ya,
                     "name": "no shift", "hoverinfo": "skip",
                     "marker": {"symbol": "circle-open", "size": 13, "color": ORANGE,
                                "line": {"width": 2, "color": ORANGE}}})
        dom = [i * (w + gap), i * (w + gap) + w]
        half = sm.step / 2
        rng = [sm.offsets[0] - half, sm.offsets[-1] + half]
        lay[f"xaxis{sx}"] = {"domain": dom, "anchor": ya, "range": rng, "title": {"text": "dx (px, right)"},
                             "showgrid": False, "zeroline": False, "constrain": "domain"}
        lay[f"yaxis{sx}"] = {"anchor": xa, "range": rng[::-1], "scaleanchor": xa, "constrain": "domain",
                             "title": {"text": "dy (px, down)" if i == 0 else ""}, "showgrid": False,
                             "zeroline": False}
        # short lines, so that two maps' titles fit side by side at 1024 px (tests/test_browser.py)
        lay["annotations"].append({
            "text": f"<b>{dm.label.split(' · ')[0]}</b><br>{dm.classes[sm.reference_class]}<br>kept at "
                    f"{int(sm.kept.sum())}/{sm.kept.size} shifts<br>p {sm.prob_range[0]:.2f}–{sm.prob_range[1]:.2f}",
            "x": (dom[0] + dom[1]) / 2, "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "center", "yanchor": "bottom", "font": {"size": 12}})
    return {"data": data, "layout": lay}


def curve_figure(pairs: list[tuple], floor: float = 1e-4) -> dict:
    """Per model, the mean relative error of each block over the grid's non-zero shifts, against
    relative depth (0 = first block, 1 = last): the scattering network's moduli
    || |(τx)∗ψ| − |x∗ψ| || / ||x∗ψ||, the ResNet's stage outputs || f(τx) − f(x) || / || f(x) ||."""
    data, peak = [], 0.0
    for dm, sm in pairs:
        curve = sm.curve
        if not curve:
            continue
        labels = block_labels(dm, sm)
        depth = [j / max(len(curve) - 1, 1) for j in range(len(curve))]
        kind = "scattering" if dm.is_scattering else "features"
        what = "wavelet moduli" if dm.is_scattering else "stage outputs"  # the formulas: the caption
        name = f"{dm.label.split(' · ')[0]}: {what}"
        peak = max(peak, *curve)
        data.append({"type": "scatter", "mode": "lines+markers", "x": rounded(depth, 4),
                     "y": rounded([max(c, floor) for c in curve], 5), "text": labels, "name": name,
                     "line": {"color": COLORS[kind], "width": 3}, "marker": {"size": 8},
                     "hovertemplate": "%{text}: %{y:.3f}<extra>" + dm.label + "</extra>"})
    if not data:
        return message("No per-block measurement for this model.", 380)
    lowest = min(min(d["y"]) for d in data)
    lay = layout(height=400, legend={"orientation": "h", "y": -0.3, "x": 0},
                 margin={"l": 70, "r": 20, "t": 30, "b": 120},
                 xaxis={"title": {"text": "relative depth (0: first, 1: last)"}, "range": [-0.03, 1.03],
                        "tickvals": [0, 0.25, 0.5, 0.75, 1], "gridcolor": "#eee", "zeroline": False},
                 yaxis={"title": {"text": "mean relative change"},
                        "type": "log", "gridcolor": "#eee", "exponentformat": "power",
                        "range": [math.log10(max(floor, lowest / 1.5)), math.log10(1.5 * max(peak, 1e-3))]})
    return {"data": data, "layout": lay}


