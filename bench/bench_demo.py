"""Demo latency, measured the way a user gets it: through gradio_client against `python app.py`.

    .venv/bin/python bench/bench_demo.py [--updates 30] [--models lscat_skip_cifar10 lscat_skip_imagenette]

Starts app.py on a free port and reports (JSON on stdout, one line per figure):
  * startup: seconds from process start until the page answers (HTTP 200), and until the first
    `analyze` call (which waits for the default model) has returned;
  * the round trip of a trivial endpoint (`relu`), i.e. gradio_client's own overhead;
  * per model, a translation update: the latency of `shift` (what a slider move calls: the session's
    image, whose original branch is cached, moved by a new (dx, dy); only the translated branch is
    computed), median and p90 over --updates calls with distinct shifts, after one warm-up call per
    model; and the same through `analyze`, which also sends the image again (gradio_client uploads
    it on every call).
Also prints the machine (cores, load average), torch and gradio versions and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "demo" / "examples" / "cat.jpg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=30)
    ap.add_argument("--models", nargs="+", default=["lscat_skip_cifar10", "lscat_skip_imagenette"])
    args = ap.parse_args()

    import gradio
    import torch
    from gradio_client import Client, handle_file

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        if not wait_http(url, 120):
            print(json.dumps({"error": "app did not answer within 120 s"}))
            return 1
        t_http = time.monotonic() - t0
        client = Client(url, verbose=False, download_files=False)
        img = handle_file(str(EXAMPLE))
        client.predict(img, 0.5, 0.0, "circular", args.models[0], 0, 0, api_name="/analyze")
        t_first = time.monotonic() - t0
        for model in args.models:  # every model built and this image cached before timing anything
            client.predict(img, 0.25, 0.0, "circular", model, 0, 0, api_name="/analyze")
        trivial = []
        for _ in range(20):  # gradio_client's own round trip (it polls for messages every 50 ms)
            t = time.perf_counter()
            client.predict(0.5, api_name="/relu")
            trivial.append(time.perf_counter() - t)
        out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": os.cpu_count(),
               "load_before": os.getloadavg(), "torch": torch.__version__, "gradio": gradio.__version__,
               "startup_http_s": round(t_http, 2), "startup_first_analyze_s": round(t_first, 2),
               "trivial_endpoint_median_ms": round(1000 * statistics.median(trivial), 1)}
        print(json.dumps(out), flush=True)
        for model in args.models:
            # The session's image is this model's current image (cached original branch); `shift` is what
            # a slider move calls: the image is not sent again, only the translated branch is computed.
            client.predict(img, 0.25, 0.0, "circular", model, 0, 0, api_name="/analyze")
            for endpoint in ("shift", "analyze"):
                times = []
                for i in range(args.updates):
                    dx, dy = 0.1 + 0.37 * i, -0.05 * i  # distinct shifts: no translated-branch cache hit
                    dx, dy = round(dx + (0.011 if endpoint == "analyze" else 0), 3), round(dy, 2)
                    head = (img,) if endpoint == "analyze" else ()
                    t = time.perf_counter()
                    client.predict(*head, dx, dy, "circular", model, i % 4, 0, api_name="/" + endpoint)
                    times.append(time.perf_counter() - t)
                times.sort()
                print(json.dumps({"model": model, "endpoint": endpoint, "updates": len(times),
                                  "median_ms": round(1000 * statistics.median(times), 1),
                                  "p90_ms": round(1000 * times[int(0.9 * (len(times) - 1))], 1),
                                  "min_ms": round(1000 * times[0], 1), "load_after": os.getloadavg()}), flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
