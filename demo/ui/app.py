"""The app: the model store, the pipeline and the lanes, the handlers over them, and the page that wires
the handlers to the layout's components (``App.build``)."""

from __future__ import annotations

import gradio as gr

from demo.compute.lanes import Lanes
from demo.compute.pipeline import Pipeline
from demo.handlers.analysis import Analysis
from demo.handlers.invariance import Invariance
from demo.handlers.page import Page
from demo.handlers.protocol import checked_payloads
from demo.images import EXAMPLES_DIR
from demo.invariance.animation import GIF_DIR
from demo.models.store import ModelStore
from demo.ui import events, layout


class App:
    def __init__(self, store: ModelStore | None = None):
        self.store = store or ModelStore()
        self.pipeline = Pipeline(self.store)
        self.lanes = Lanes()
        self.analysis = Analysis(self.store, self.pipeline, self.lanes)
        self.page = Page(self.analysis)
        self.invariance = Invariance(self.store, self.pipeline, self.lanes)

    def build(self) -> gr.Blocks:
        # Served where they are, not copied into gradio's cache: each GIF is written once, and the cache
        # holds only uploads (bounded by demo.compute.disk).
        GIF_DIR.mkdir(parents=True, exist_ok=True)
        gr.set_static_paths([EXAMPLES_DIR, GIF_DIR])
        with gr.Blocks(title="Phase collapse: translations as phase shifts", analytics_enabled=False,
                       delete_cache=(3600, 3600)) as demo:  # uploads older than an hour are deleted hourly
            first = layout.first_view()
            layer = layout.layer_view()
            inv = layout.invariance_view()
            ex = layout.explainer_view()
            session = layout.session()
            events.wire_page(demo, first, layer, session, self.page)
            events.wire_api(first, layer, session, self.analysis)
            events.wire_invariance(first, layer, inv, session, self.invariance)
            events.wire_explainer(demo, first, layer, ex, self.lanes)
        return checked_payloads(demo)
