"""The page's updates. Every input (slider drags, arrow keys, typed numbers, the boundary, the model, a new
image) goes through :meth:`Page.update`, which never raises: a bad file, a cleared image or a bad setting
clears the panels and leaves the reason in the status line until the next good input. It returns only
the outputs that changed (a translation sends the translated side, not the original's), keyed by the
names in :data:`OUTPUTS`; demo.ui.events maps the names to the components."""

from __future__ import annotations

import json
import logging
import os
import time

import gradio as gr

from demo.compute.disk import prune_uploads
from demo.draw import panels
from demo.handlers.analysis import Analysis, Result
from demo.images import EXAMPLES, ImageError, example_path, refused_in_browser
from demo.inputs.checks import InputError, parse
from demo.models.catalog import DEFAULT, LABELS, config_for, offered, photo_model
from demo.models.store import DemoModel

log = logging.getLogger("demo")

NO_IMAGE = "**No image**: drop one in the box above or pick an example."
CLEARED_PICTURE = "no image"
# What an update may send; "shown" is the session's record of what the page shows now.
OUTPUTS = ("status", "picture_o", "pred_o", "picture_t", "pred_t", "change", "maps_o", "maps_t", "errors", "phases",
           "numbers", "errors_caption", "phases_caption", "maps_caption", "classes", "suggest", "shown")


class Page:
    def __init__(self, analysis: Analysis):
        self.analysis = analysis

    def update(self, source, shown, numbers_open, dx, dy, boundary, model, orientation, channel) -> dict:
        """One page update from the current inputs; only the outputs that changed (see the module doc)."""
        shown = shown or {}
        if dx is None or dy is None:  # a number box while a number is being typed ("-", "")
            return {}
        try:
            s = parse(dx, dy, boundary, model, orientation, channel, offered())
        except InputError as e:
            log.warning("page: %s", e)
            return problem(f"**Invalid setting:** {e}", shown)
        return self.classes(self.analysed(source, shown, bool(numbers_open), s), s.model, shown)

    def analysed(self, source, shown: dict, numbers_open: bool, s) -> dict:
        if not source:
            return problem(NO_IMAGE, shown)
        if source.get("refused"):
            return problem(f"**Refused {source.get('name', 'this file')}:** {source['refused']} Drop another image "
                           f"or pick an example.", shown)
        t0 = time.perf_counter()
        try:
            r = self.analysis.run(source["path"], s, notify=False)
        except ImageError as e:
            log.warning("page: cannot use %s: %s", source.get("name"), e)
            return problem(f"**Cannot use {source.get('name', 'this file')}:** {e} "
                           f"Drop another image or pick an example.", shown)
        except Exception:
            log.exception("page update failed")
            return problem("**Something went wrong** while analysing this image; the details are in the "
                           "server log. Try another image.", shown)
        out = changed(r, source, shown, numbers_open)
        log.info("page %s dx=%s dy=%s: %.0f ms, %d outputs", s.model, s.dx, s.dy, 1000 * (time.perf_counter() - t0),
                 len(out) - 1)
        return out

    def classes(self, out: dict, model: str, shown: dict) -> dict:
        """``out`` with the line saying which classes ``model`` knows, when the model changed (also after a bad
        file: the line is about the model, not the image)."""
        out.setdefault("shown", dict(shown))["classes"] = model
        if shown.get("classes") != model:
            try:
                out["classes"] = known_classes(self.analysis.store.get(model))
            except Exception:  # the model cannot be built: its first analysis says why
                log.exception("page: classes of %s", model)
                out["shown"].pop("classes")
        return out


def known_classes(dm: DemoModel) -> str:
    """Which classes the model knows (its weights' own list) and at what size it sees an image."""
    return (f"**{dm.label}** sees the image at {dm.size}×{dm.size} px and knows {len(dm.classes)} classes: "
            f"{', '.join(dm.classes)}. Anything else gets one of these.")


def suggestion(r: Result, source: dict) -> str | None:
    """The photo model to suggest for an uploaded picture larger than a 32 px model's input, or None."""
    photo = photo_model(r.settings.model)
    return photo if photo and source.get("upload") and min(r.orig.size) > r.dm.size else None


def changed(r: Result, source: dict, shown: dict, numbers_open: bool) -> dict:
    """The outputs that differ from what the page shows (``shown``), by name."""
    s, state = r.settings, r.state
    image = f"{s.model}|{s.boundary}|{r.key[-1]}"
    new_image = shown.get("image") != image
    new_display = new_image or shown.get("display") != [s.orientation, s.channel]
    new_tau = new_image or shown.get("tau") != [s.dx, s.dy]
    photo = suggestion(r, source)
    status = r.status(source.get("name", "")) + (
        f"\n\n**A photo?** {r.dm.label} sees it at {r.dm.size}×{r.dm.size} px and knows only the "
        f"{len(r.dm.classes)} classes listed under the examples: try {LABELS[photo]} with the button." if photo else "")
    now = {"image": image, "display": [s.orientation, s.channel], "tau": [s.dx, s.dy], "status": status,
           "numbers": numbers_open, "suggest": photo}
    out = {"shown": now}
    if status != shown.get("status"):
        out["status"] = status
    if photo != shown.get("suggest"):
        out["suggest"] = gr.Button(visible=bool(photo))
    pred_o, pred_t, line, _ = panels.predictions(r.dm, r.orig, r.comp) if new_image or new_tau else (None,) * 4
    if new_image:
        out |= {"picture_o": panels.original_picture(r.dm, r.orig, source.get("name", ""), state),
                "pred_o": pred_o, "errors_caption": panels.errors_caption(r.dm, s.boundary),
                "phases_caption": panels.phases_caption(s.boundary), "maps_caption": panels.maps_caption(s.boundary)}
    if new_tau:
        out |= {"picture_t": panels.translated_picture(r.dm, r.comp, s, state), "pred_t": pred_t, "change": line}
    if new_display:
        out["maps_o"] = panels.original_maps(r.dm, r.orig, s, state)
    if new_tau or new_display:
        errors, phases = panels.analysis_charts(r.dm, r.comp, r.single, s, state)
        out |= {"maps_t": panels.translated_maps(r.dm, r.orig, r.comp, s, state), "errors": errors, "phases": phases}
    if numbers_open and (new_tau or new_display or not shown.get("numbers")):
        out["numbers"] = r.numbers()
    return out


def problem(message: str, shown: dict) -> dict:
    """The status says what went wrong, and no panel shows an earlier image's analysis."""
    out = {"shown": {"status": message, "cleared": True}}
    if shown.get("status") != message:
        out["status"] = message
    if shown.get("suggest"):
        out["suggest"] = gr.Button(visible=False)
    if not shown.get("cleared"):
        blank = panels.picture_html(None, None, CLEARED_PICTURE)
        out |= {"picture_o": blank, "picture_t": blank, "pred_o": None, "pred_t": None, "change": "", "maps_o": "",
                "maps_t": "", "errors": "", "phases": "", "numbers": None}
    return out


def uploaded(path):
    """A new file in the box: it becomes the page's image (analysed by `update`) and the box is emptied,
    so that it always shows where to drop the next one."""
    if not path:
        return gr.skip(), gr.skip()
    prune_uploads()
    return {"path": path, "name": os.path.basename(path), "upload": True}, None


def refused(payload):
    """A file that the browser refused to send (gradio checks its type and size on the page; the page's script,
    demo.ui.theme.HEAD, reports its name and size as JSON): it becomes the page's image, so that the status line
    says why and no panel shows the image before it."""
    try:
        d = json.loads(payload) if isinstance(payload, str) else {}
    except ValueError:
        d = {}
    d = d if isinstance(d, dict) else {}
    name = os.path.basename(str(d.get("name") or "this file"))[:120]
    why = refused_in_browser(name, d.get("size"))
    log.warning("page: the browser refused %s: %s", name, why)
    return {"name": name, "refused": why}, None


def switch_to_photo_model(model):
    """The suggestion's button: the photo model in the menu (its change analyses the image again)."""
    return photo_model(model) or gr.skip()


def picked(evt: gr.SelectData):
    """An example picked in the gallery becomes the page's image."""
    name, caption = EXAMPLES[evt.index]
    return {"path": example_path(name), "name": f"{caption} (example)"}, None


def model_changed(model):
    """The sliders whose range depends on the model: the orientation, the explainer's block and orientation."""
    config = config_for(model if model in LABELS else DEFAULT)
    return (gr.Slider(maximum=config.L - 1), gr.Slider(maximum=len(config.filter_sets) - 1),
            gr.Slider(maximum=config.L - 1))
