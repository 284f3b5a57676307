"""Which handler each event calls, with which components: the page's updates, the named API endpoints,
the invariance view and the explainer. Every function here takes the records it wires (demo.ui.layout)
and the handlers; none reads a component another one created."""

from __future__ import annotations

import gradio as gr

from demo.compute.lanes import HEAVY_QUEUE, Lanes
from demo.handlers import explainer, page
from demo.handlers.analysis import Analysis
from demo.handlers.invariance import Invariance, stamp
from demo.ui.layout import ExplainerView, FirstView, InvarianceView, LayerView, Session
from demo.ui.theme import PENDING_OFF, PENDING_ON, REFUSED, note_script

COMPUTING_MAP = "**Computing** the prediction at every shift of the grid, then the curve…"
COMPUTING_GIF = "**Computing** the frames…"
CLEARED = ("**Another image, model or boundary**: press *Compute the stability map* to see this one's map, and "
           "*Play the translation* for its animation.")
# the view's outputs after a change: map, summary, numbers, curve, caption, GIF, download, GIF caption, note
STALE = (None, CLEARED, None, None, "", None, None, "", "")


def settings(first: FirstView, layer: LayerView) -> list:
    """The analysis settings, in the order of ``analyze``'s parameters after the image."""
    return [first.dx, first.dy, first.boundary, first.model, layer.orientation, layer.channel]


def page_outputs(first: FirstView, layer: LayerView, session: Session) -> dict:
    """demo.handlers.page.OUTPUTS -> the components that show them."""
    parts = {**{k: getattr(first, k) for k in ("status", "picture_o", "pred_o", "picture_t", "pred_t", "change",
                                                "classes", "suggest")},
             **{k: getattr(layer, k) for k in ("maps_o", "maps_t", "errors", "phases", "numbers", "errors_caption",
                                               "phases_caption", "maps_caption")}, "shown": session.shown}
    return {name: parts[name] for name in page.OUTPUTS}


def wire_page(demo: gr.Blocks, first: FirstView, layer: LayerView, session: Session, handler: page.Page) -> None:
    outputs = page_outputs(first, layer, session)

    def update(source, shown, numbers_open, dx, dy, boundary, model, orientation, channel):
        out = handler.update(source, shown, numbers_open, dx, dy, boundary, model, orientation, channel)
        return {outputs[name]: value for name, value in out.items()}

    sliders = [first.dx, first.dy, layer.orientation, layer.channel]
    # (the model's change, not its input: the suggestion's button changes it too)
    triggers = ([session.source.change, session.numbers_open.change, demo.load, first.boundary.input,
                 first.model.change] + [c.input for c in sliders] + [c.release for c in sliders])
    # Not queued: one direct request per update, without the queue's join and event stream (tens of
    # milliseconds per update on 2 cores); the computations still take turns on the analysis lane. No
    # status tracker (show_progress hidden: its animation costs the browser CPU); a request that takes
    # long shows the page's own marker instead (demo.ui.theme.PENDING_ON, cleared by the step after it).
    gr.on(triggers, update, [session.source, session.shown, session.numbers_open, *settings(first, layer)],
          list(outputs.values()), trigger_mode="always_last", show_progress="hidden", api_visibility="private",
          queue=False, js=PENDING_ON).then(None, js=PENDING_OFF, queue=False, show_progress="hidden",
                                           api_visibility="private")
    first.image.upload(page.uploaded, first.image, [session.source, first.image], api_visibility="private")
    first.refused_button.click(page.refused, first.refused, [session.source, first.image], js=REFUSED,
                               api_visibility="private")
    first.suggest.click(page.switch_to_photo_model, first.model, first.model, queue=False, api_visibility="private")
    first.gallery.select(page.picked, None, [session.source, first.image], api_visibility="private")
    # (queued: a State's change event follows only from a queued event)
    layer.numbers_box.expand(lambda: True, None, session.numbers_open, api_visibility="private")
    layer.numbers_box.collapse(lambda: False, None, session.numbers_open, api_visibility="private")


def wire_api(first: FirstView, layer: LayerView, session: Session, analysis: Analysis) -> None:
    api = [first.status, first.pred_o, first.pred_t, first.change, layer.maps_api, layer.errors, layer.phases,
           layer.numbers, session.current]
    gr.on([], analysis.analyze, [first.image, *settings(first, layer)], api, api_name="analyze",
          concurrency_limit=2, concurrency_id="analyze")
    gr.on([], analysis.shift, [session.current, *settings(first, layer)], api, api_name="shift", concurrency_limit=2,
          concurrency_id="analyze")


def wire_invariance(first: FirstView, layer: LayerView, inv: InvarianceView, session: Session,
                    handler: Invariance) -> None:
    view = [session.source, first.boundary, first.model]  # what a result is of (its stamp)
    a = inv.anim
    outputs = [inv.stab_plot, inv.stab_text, inv.stab_numbers, inv.curve_plot, inv.curve_text]
    quietly([inv.view.expand, inv.button.click], handler.page, [*view, inv.extent, inv.steps], outputs, inv.status,
            COMPUTING_MAP, view)
    played = [first.boundary, first.model, a.block, layer.orientation, layer.channel, a.shift]
    quietly([a.button.click], handler.animation_page, [session.source, *played], [a.image, a.file, a.text], a.text,
            COMPUTING_GIF, view)
    # No stale view: another image (a bad file too), model or boundary clears every output of the view.
    gr.on([session.source.change, first.model.change, first.boundary.change], lambda: STALE, None,
          [*outputs, a.image, a.file, a.text, inv.status], queue=False, show_progress="hidden",
          api_visibility="private")
    api = [first.image, first.boundary, first.model, inv.extent, inv.steps]
    limits = {"concurrency_limit": HEAVY_QUEUE, "concurrency_id": "invariance"}  # demo.compute.lanes bounds them
    gr.on([], handler.stability, api, [inv.stab_plot, inv.stab_text, inv.stab_numbers], api_name="stability",
          **limits)
    gr.on([], handler.invariance_curve, api, [inv.curve_plot, inv.curve_text, inv.curve_numbers],
          api_name="invariance_curve", **limits)
    gr.on([], handler.animation, [first.image, *played], [a.image, a.file, a.text], api_name="animation", **limits)


def wire_explainer(demo: gr.Blocks, first: FirstView, layer: LayerView, ex: ExplainerView, lanes: Lanes) -> None:
    def separation(a, b, j, k):
        return explainer.separation(lanes, a, b, j, k)

    gr.on([first.model.change, demo.load], page.model_changed, first.model, [layer.orientation, ex.m_block, ex.m_k],
          api_visibility="private", queue=False)
    gr.on([ex.m_block.release, ex.m_k.release, first.model.change, demo.load], explainer.morlet,
          [first.model, ex.m_block, ex.m_k], [ex.morlet_plot, ex.morlet_text], api_name="morlet", concurrency_limit=4,
          concurrency_id="explain")
    gr.on([ex.lam.release, demo.load], explainer.relu, ex.lam, ex.relu_plot, api_name="relu", concurrency_limit=4,
          concurrency_id="explain")
    gr.on([ex.tex_a.change, ex.tex_b.change, ex.s_j.release, ex.s_k.release, demo.load], separation,
          [ex.tex_a, ex.tex_b, ex.s_j, ex.s_k], [ex.sep_plot, ex.sep_text], api_name="separation",
          concurrency_limit=4, concurrency_id="explain")


def quietly(triggers, fn, inputs, outputs, note_at, note: str, view: list) -> None:
    """Wire a page computation that takes seconds so that the browser stays idle while it runs.

    Gradio's status tracker runs a requestAnimationFrame loop on each output of a pending event, whatever
    ``show_progress`` says, and so makes the browser redraw the whole page at every frame. In the invariance
    view that took the browser about 2.5 CPU seconds per map, on the 2 cores that a local browser shares
    with the app (docs/INVARIANCE.md, "Speed"). So: a static ``note`` in ``note_at`` at once, set by the
    page itself and scrolled into view (demo.ui.theme.note_script); ``fn``'s outputs kept in a gr.State (no
    tracker) while it computes, on the "invariance" queue, the last request winning, and then drawn (and the
    note cleared) in one quick step, unless
    the page has moved to another image, model or boundary meanwhile: ``fn`` returns its result's stamp
    (demo.handlers.invariance.stamp) first, and a result whose stamp is not that of ``view`` now is
    dropped. ``fn`` never raises (it returns its message instead)."""
    result = gr.State(None)
    cleared = [] if note_at in outputs else [note_at]
    skip = tuple(gr.skip() for _ in outputs + cleared)

    def draw(r, source, boundary, model):
        if r is None or r[0] != stamp(source, boundary, model):
            return skip
        return (*r[1:], *[""] * len(cleared))

    gr.on(triggers, None, None, note_at, js=note_script(note, note_at.elem_id), show_progress="hidden",
          api_visibility="private")
    gr.on(triggers, fn, inputs, result, trigger_mode="always_last", show_progress="hidden", api_visibility="private",
          concurrency_limit=HEAVY_QUEUE, concurrency_id="invariance").then(
        draw, [result, *view], outputs + cleared, queue=False, show_progress="hidden", api_visibility="private")
