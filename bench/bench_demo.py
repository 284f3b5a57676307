"""API latency: the demo's endpoints through gradio_client against `python app.py` (what a person gets in
the browser is bench/bench_browser.py).

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
Each timed series also gives the CPU time per call of the client (this process) and of the server
(from /proc), and at the end the same updates are timed in process, without gradio (App.shift).
Also prints the machine (cores, load average), torch and gradio versions, the date, the commit, and per model
the weights it ran with ("untrained" when none are shipped). PHASE_COLLAPSE_PRETRAINED=/empty/dir
times the untrained full-width models instead of the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "demo" / "examples" / "cat.jpg"


def p90(values: list[float]) -> float:
    """The 90th percentile by nearest rank: the smallest value with at least 90 % of the values at or
    below it (of 4 values the largest, of 20 the 18th). Lines in docs/bench before 2026-12-06 used the
    value at index int(0.9 (n - 1)) instead, which is lower for small n (of 4 values, the 3rd)."""
    v = sorted(values)
    return v[max(0, math.ceil(0.9 * len(v)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, grace_s: float = 15) -> None:
    """Terminate the app, killing it if it has not exited after ``grace_s`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()


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


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of this process, or of ``pid`` (Linux /proc), in seconds."""
    if pid is None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_calls(fn, n: int, server_pid: int) -> dict:
    """Median / p90 wall time of n calls, and CPU per call of this (client) process and of the server."""
    c0, s0 = cpu_seconds(), cpu_seconds(server_pid)
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    c1, s1 = cpu_seconds(), cpu_seconds(server_pid)
    times.sort()
    return {"updates": n, "median_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * p90(times), 1), "min_ms": round(1000 * times[0], 1),
            "client_cpu_ms_per_call": round(1000 * (c1 - c0) / n, 1),
            "server_cpu_ms_per_call": round(1000 * (s1 - s0) / n, 1)}


def in_process(models: list[str], n: int, threads: int | None) -> None:
    """The same translation updates without gradio: Analysis.shift called directly, in this process."""
    import torch

    from core.runtime import usable_cpus
    from demo.compute.lanes import default_threads
    from demo.models.store import ModelStore
    from demo.ui.app import App

    torch.set_num_threads(threads or default_threads(usable_cpus()))  # app.py's default
    app = App(ModelStore())
    for model in models:
        out = app.analysis.analyze(str(EXAMPLE), 0.25, 0.0, "circular", model, 0, 0)
        path, weights = out[-1], out[-2].get("weights") or "untrained"
        times = []
        for i in range(n):
            t = time.perf_counter()
            app.analysis.shift(path, round(0.1 + 0.37 * i, 2), round(-0.05 * i, 2), "circular", model, i % 4, 0)
            times.append(time.perf_counter() - t)
        print(json.dumps({"model": model, "weights": weights, "endpoint": "shift, in process (no gradio)", "updates": n,
                          "median_ms": round(1000 * statistics.median(times), 1),
                          "threads": torch.get_num_threads()}), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=30, help="timed calls per model (default: %(default)s)")
    ap.add_argument("--models", nargs="+", default=["lscat_skip_cifar10", "lscat_skip_imagenette"])
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads of the app (its PHASE_COLLAPSE_THREADS) and of the in-process timing "
                         "(default: the app's default, half the cores)")
    args = ap.parse_args()

    import gradio
    from gradio_client import Client, handle_file

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    if args.threads is not None:
        env["PHASE_COLLAPSE_THREADS"] = str(args.threads)
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
        # gradio_client's own round trip (it polls for messages every 50 ms), and its CPU cost
        trivial = timed_calls(lambda i: client.predict(0.5, api_name="/relu"), 20, proc.pid)
        from core.provenance import load_average, measured_on

        out = {**measured_on(paths=("core", "demo", "app.py", "bench")),
               "app_threads": args.threads or "default (half the cores)", "gradio": gradio.__version__,
               "startup_http_s": round(t_http, 2), "startup_first_analyze_s": round(t_first, 2),
               "trivial_endpoint_median_ms": trivial["median_ms"],
               "trivial_client_cpu_ms_per_call": trivial["client_cpu_ms_per_call"],
               "trivial_server_cpu_ms_per_call": trivial["server_cpu_ms_per_call"]}
        print(json.dumps(out), flush=True)
        for model in args.models:
            # The session's image is this model's current image (cached original branch); `shift` is what
            # a slider move calls: the image is not sent again, only the translated branch is computed.
            numbers = client.predict(img, 0.25, 0.0, "circular", model, 0, 0, api_name="/analyze")[7]
            weights = numbers.get("weights") or "untrained"
            for endpoint in ("shift", "analyze"):
                def call(i, endpoint=endpoint, model=model):
                    dx, dy = 0.1 + 0.37 * i, -0.05 * i  # distinct shifts: no translated-branch cache hit
                    dx, dy = round(dx + (0.011 if endpoint == "analyze" else 0), 3), round(dy, 2)
                    head = (img,) if endpoint == "analyze" else ()
                    client.predict(*head, dx, dy, "circular", model, i % 4, 0, api_name="/" + endpoint)

                stats = timed_calls(call, args.updates, proc.pid)
                print(json.dumps({"model": model, "weights": weights, "endpoint": endpoint, **stats,
                                  "load_after": load_average()}),
                      flush=True)
    finally:
        stop(proc)
    in_process(args.models, args.updates, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
