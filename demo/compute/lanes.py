"""The threads the demo computes on, in two lanes, so that no visitor's page waits behind another's map.

* ``light``: page updates and the ``analyze`` / ``shift`` endpoints, one at a time on one thread (torch's
  thread team stays warm and bound to it).
* ``heavy``: stability maps, curves, GIFs and the texture separation, on another thread whose CPU
  priority is lowered (nice +10; the map's worker threads, started from it, inherit it), and which gives
  way between chunks while light work is pending (:meth:`Lanes.give_way`). Each visitor has at most one
  heavy request at a time, and at most ``HEAVY_QUEUE`` wait in all: beyond, :class:`Busy` says so.

Every computation is submitted with the caller's context (gr.Info and gr.Progress find their request
through it) and the caller waits for its result."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("demo")

HEAVY_QUEUE = 8  # heavy requests admitted at once (running or waiting), all visitors together
HEAVY_NICE = 10  # added to the heavy lane's niceness
GIVE_WAY_S = 2.0  # longest pause of heavy work for light work, per chunk (so that a map still ends)


def default_threads(cores: int | None) -> int:
    """Torch threads of the analysis: half the cores (at most 16), leaving the rest to the web server and,
    on a laptop, the browser. On 2 cores the single thread is as fast through gradio as two, and takes
    half the CPU: OpenMP's spinning second thread competed with the server (bench/bench_demo.py
    --threads, docs/DEMO.md). app.py applies it unless PHASE_COLLAPSE_THREADS says otherwise."""
    return max(1, min(16, (cores or 1) // 2))


class Busy(Exception):
    """A heavy request refused for now (the visitor already has one, or too many wait); for the user."""


def lower_priority(nice: int = HEAVY_NICE) -> None:
    """Lower the calling thread's CPU priority (Linux: per thread, inherited by the threads it starts)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError) as e:  # not Linux, or not permitted: the gate alone remains
        log.info("heavy lane keeps its priority: %s", e)


class Lanes:
    def __init__(self, heavy_queue: int = HEAVY_QUEUE, give_way_s: float = GIVE_WAY_S):
        self._light = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")
        self._heavy = ThreadPoolExecutor(max_workers=1, thread_name_prefix="invariance", initializer=lower_priority)
        self.heavy_queue, self.give_way_s = heavy_queue, give_way_s
        self._cond = threading.Condition()
        self._light_pending = 0
        self._heavy_pending = 0
        self._visitors: set = set()

    @staticmethod
    def _run(pool: ThreadPoolExecutor, fn, *args):
        ctx = contextvars.copy_context()
        return pool.submit(ctx.run, fn, *args).result()

    def light(self, fn, *args):
        with self._cond:
            self._light_pending += 1
        try:
            return self._run(self._light, fn, *args)
        finally:
            with self._cond:
                self._light_pending -= 1
                self._cond.notify_all()

    def heavy(self, fn, *args, visitor=None, waiting=None):
        """``fn(*args)`` on the heavy lane. ``visitor``: who asks (one heavy request each at a time);
        ``waiting(n)``: told, before it waits, how many heavy requests are ahead (when any are)."""
        with self._cond:
            if visitor is not None and visitor in self._visitors:
                raise Busy("Your previous map, curve or animation is still being computed: wait for it, then ask "
                           "again.")
            if self._heavy_pending >= self.heavy_queue:
                raise Busy(f"The server is computing {self._heavy_pending} maps or animations for other visitors: "
                           f"try again in a minute.")
            ahead = self._heavy_pending
            self._heavy_pending += 1
            if visitor is not None:
                self._visitors.add(visitor)
        try:
            if ahead and waiting is not None:
                waiting(ahead)
            return self._run(self._heavy, fn, *args)
        finally:
            with self._cond:
                self._heavy_pending -= 1
                self._visitors.discard(visitor)

    def give_way(self) -> None:
        """Called by heavy work between its chunks: wait while page updates are pending (at most
        ``give_way_s`` each time, so that heavy work still progresses under a stream of updates)."""
        with self._cond:
            self._cond.wait_for(lambda: self._light_pending == 0, self.give_way_s)

    @property
    def pending(self) -> dict:
        with self._cond:
            return {"light": self._light_pending, "heavy": self._heavy_pending}
