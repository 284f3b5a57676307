"""The threads the demo computes on. Every computation is submitted to a lane with the caller's context
(gr.Info and gr.Progress find their request through it) and the caller waits for its result."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor


def default_threads(cores: int | None) -> int:
    """Torch threads of the analysis: half the cores (at most 16), leaving the rest to the web server and,
    on a laptop, the browser. On 2 cores the single thread is as fast through gradio as two, and takes
    half the CPU: OpenMP's spinning second thread competed with the server (bench/bench_demo.py
    --threads, docs/DEMO.md). app.py applies it unless PHASE_COLLAPSE_THREADS says otherwise."""
    return max(1, min(16, (cores or 1) // 2))


class Lanes:
    """Page updates and API analyses (``light``) and the invariance view's maps, curves and GIFs
    (``heavy``). Every computation runs on one analysis thread: torch's OpenMP thread team stays warm and
    bound to it, instead of one team per gradio worker thread competing for the same cores."""

    def __init__(self):
        self._compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    def _submit(self, pool: ThreadPoolExecutor, fn, *args):
        ctx = contextvars.copy_context()
        return pool.submit(ctx.run, fn, *args).result()

    def light(self, fn, *args):
        return self._submit(self._compute, fn, *args)

    def heavy(self, fn, *args):
        return self._submit(self._compute, fn, *args)
