"""The stability maps of an image (core.analysis.invariance.stability_map) for the selected model and its pair,
cached per image, weights, boundary and grid, and the numbers the endpoints return with them."""

from __future__ import annotations

from core.analysis.shifts import DEFAULT_EXTENT, DEFAULT_STEPS, shift_offsets
from demo.compute import gpu
from demo.invariance.figures import curve_figure, stability_figure
from demo.invariance.text import block_labels, grid_text, summary
from demo.models.catalog import models_for


def _progress(progress, done: int, total: int, desc: str):
    if progress is not None:
        progress((done, total), desc=desc, unit="images")  # gr.Progress's signature


def compute_maps(store, pipeline, path: str, model_key: str, boundary: str, extent: float = DEFAULT_EXTENT,
                 steps: int = DEFAULT_STEPS, progress=None, workers: int | None = None, pause=None) -> list[tuple]:
    """[(DemoModel, StabilityMap)] for :func:`models_for` ``model_key``, cached per image, model
    weights, boundary and grid. ``progress((done, total), desc=..., unit=...)`` as gr.Progress;
    ``workers``: chunks computed at once (default core.analysis.invariance.default_workers); ``pause()``: called
    between groups of chunks (demo.compute.lanes.Lanes.give_way: a page update goes first)."""
    offsets = shift_offsets(extent, steps)
    keys = models_for(model_key)
    todo, out = [], []
    for key in keys:
        dm, pkey, orig, _ = pipeline.original(path, key, boundary)
        ckey = (key, dm.weights, boundary, pkey[-1], tuple(offsets))
        out.append([dm, pipeline.maps.get(ckey)])
        if out[-1][1] is None:
            todo.append((len(out) - 1, dm, orig, ckey))
    per = len(offsets) ** 2
    for n, (i, dm, orig, ckey) in enumerate(todo):
        def report(done, total, n=n, dm=dm):
            if pause is not None and done:
                pause()
            _progress(progress, n * per + done, len(todo) * per, f"{dm.label}: shifted images")

        sm = gpu.stability(store, dm.key, orig.x, offsets, boundary, workers, report)
        out[i][1] = pipeline.maps.put(ckey, sm)
    return [tuple(o) for o in out]



def stability_view(store, pipeline, path: str, model_key: str, boundary: str, extent: float = DEFAULT_EXTENT,
                   steps: int = DEFAULT_STEPS, progress=None, workers: int | None = None,
                   pause=None) -> tuple[dict, str, dict, dict]:
    """(map figure, summary markdown, curve figure, numbers) for the image at ``path``."""
    pairs = compute_maps(store, pipeline, path, model_key, boundary, extent, steps, progress, workers, pause)
    numbers = {"boundary": boundary, "grid": grid_text(pairs[0][1]),
               "models": [{"model": dm.key, "weights": dm.weights, "trained": dm.trained,
                           "test_accuracy": (dm.card or {}).get("top1") if dm.trained else None,
                           "input_size": dm.size, "blocks": block_labels(dm, sm), **sm.to_dict(dm.classes)}
                          for dm, sm in pairs]}
    return stability_figure(pairs), summary(pairs), curve_figure(pairs), numbers




def curve_numbers(boundary: str, pairs: list[tuple]) -> dict:
    """The numbers ``invariance_curve`` returns: per model, its measure, block labels and curve."""
    return {"boundary": boundary, "grid": grid_text(pairs[0][1]),
            "models": [{"model": dm.key, "measure": sm.measure, "blocks": block_labels(dm, sm), "curve": sm.curve}
                       for dm, sm in pairs]}
