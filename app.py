"""Entry point, locally and on Hugging Face Spaces: ``python app.py``.

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (gradio reads them); analytics are off and every
font is a system font, so the app makes no request to the outside world at run time."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# gradio's uploads in a folder of the app's own, which demo.compute.disk keeps bounded
os.environ.setdefault("GRADIO_TEMP_DIR", os.path.join(tempfile.gettempdir(), "phase_collapse_uploads"))

import importlib.util  # noqa: E402
import logging  # noqa: E402

if importlib.util.find_spec("spaces") is not None:
    # Hugging Face's `spaces` (in the Space's requirements, not the local ones) is imported before torch:
    # on ZeroGPU it patches torch so that CUDA is lent per call (demo.compute.gpu); elsewhere it does nothing.
    import spaces  # noqa: E402, F401

import torch  # noqa: E402

from core.runtime import usable_cpus  # noqa: E402
from demo.compute.gpu import zero_gpu  # noqa: E402
from demo.compute.lanes import default_threads  # noqa: E402
from demo.models.catalog import DEFAULT, LSCAT, offered  # noqa: E402
from demo.ui.app import App  # noqa: E402
from demo.ui.theme import launch_settings  # noqa: E402

CPUS = usable_cpus()  # affinity, cgroup quota and CPU_CORES: not the host's cores that os.cpu_count() reports
try:
    THREADS = int(os.environ.get("PHASE_COLLAPSE_THREADS") or default_threads(CPUS))
except ValueError:
    raise SystemExit(f"PHASE_COLLAPSE_THREADS must be a whole number, got "
                     f"{os.environ['PHASE_COLLAPSE_THREADS']!r}") from None
torch.set_num_threads(max(1, THREADS))
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own local start-up probes
log = logging.getLogger("demo")


def create_app() -> tuple[App, object]:
    app = App()
    demo = app.build()
    demo.queue(default_concurrency_limit=2, max_size=64)
    return app, demo


def main() -> None:
    log.info("start-up: %d CPUs usable (affinity, cgroup quota, CPU_CORES), %d torch threads (%s)", CPUS,
             torch.get_num_threads(), "PHASE_COLLAPSE_THREADS" if os.environ.get("PHASE_COLLAPSE_THREADS")
             else "half the CPUs, demo.compute.lanes.default_threads")
    app, demo = create_app()
    # The server answers at once; the models are built in the background (the default one first). On
    # ZeroGPU they are all loaded before the server starts: its GPU workers are forked from this process
    # and must find every model loaded (and no loading lock held) in their copy.
    keys = offered() if zero_gpu() else list(LSCAT)  # offered(): the LScat models and the shipped baselines
    warm = app.store.warm([DEFAULT] + [k for k in keys if k != DEFAULT])
    if zero_gpu():
        warm.join()
        log.info("ZeroGPU: models loaded on %s before start-up", torch.device("cuda"))
    demo.launch(**launch_settings())


if __name__ == "__main__":
    main()
