"""app.py's torch thread count: half the cores, and a clear message for a bad override."""

import os
import subprocess
import sys
from pathlib import Path

from demo.compute.lanes import default_threads

ROOT = Path(__file__).resolve().parents[1]


def test_default_threads_leave_half_the_cores():
    assert [default_threads(n) for n in (None, 1, 2, 3, 8, 64)] == [1, 1, 1, 1, 4, 16]


def test_bad_thread_override_is_a_clear_message():
    env = {**os.environ, "PHASE_COLLAPSE_THREADS": "many", "GRADIO_ANALYTICS_ENABLED": "False"}
    r = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "PHASE_COLLAPSE_THREADS must be a whole number" in r.stderr
    assert "Traceback" not in r.stderr
