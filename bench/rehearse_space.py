"""Rehearse the Hugging Face Space on this machine, as far as a machine without the Hub can.

    .venv/bin/python bench/rehearse_space.py [--hardware cpu-basic] [--workdir /tmp/space_rehearsal]

1. builds the bundle (``python -m demo.space build``);
2. installs it into a fresh venv from the bundle's own requirements.txt, as the Space's build does
   (``pip install -r requirements.txt``, no pip cache). Where PyTorch's CPU index cannot be reached
   the line that names it cannot be honoured here: the install is retried with the CPU wheel that
   pip's find-links hold on this machine if there is one, else torch from the default index (the
   CUDA build), and the record says which;
3. starts the bundle's app.py from the venv with the Space's environment (GRADIO_SERVER_NAME=0.0.0.0,
   port 7860 when free, SYSTEM=spaces, SPACE_ID, CPU_CORES=2) under a 2-CPU affinity (taskset), and
   connects to it only through 127.0.0.1;
4. times the cold start (process start to the page, and to the first ``analyze`` answer), calls
   every endpoint in ENDPOINTS once with an example photo, then puts it under the 8-client load of
   tests/test_app.py (8 clients x 20 ``analyze`` calls) while sampling the RSS of the server's
   process tree every 0.2 s.

One JSON line goes to docs/bench/space_rehearsal.jsonl (core.provenance). Goals: the first answer
within 20 s of the start on 2 cores, peak memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file

from bench.bench_demo import free_port, stop, wait_http
from core.provenance import append_jsonl, load_average, measured_on
from demo.space.build import CPU_INDEX, build
from tests._demo_support import rss_mb  # the RSS of a process tree, as the app tests measure it

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "docs" / "bench" / "space_rehearsal.jsonl"
EXAMPLE = ROOT / "demo" / "examples" / "cat.jpg"
MODEL = "lscat_skip_cifar10"
# Every endpoint the app exposes, with its arguments (``img`` is the uploaded example photo); the
# one place to change when the demo's API changes. ``shift`` reuses the session's image from ``analyze``.
ENDPOINTS = {
    "analyze": lambda img: [img, 0.5, 0.25, "circular", MODEL, 0, 0],
    "shift": lambda img: [0.75, -0.5, "circular", MODEL, 0, 0],
    "stability": lambda img: [img, "circular", MODEL, 2, 17],
    "invariance_curve": lambda img: [img, "circular", MODEL, 2, 17],
    "animation": lambda img: [img, "circular", MODEL, -1, 0, 0, 4],
    "morlet": lambda img: [MODEL, 4, 0],
    "relu": lambda img: [0.5],
    "separation": lambda img: ["grass", "brick", 0, 1],
}
LOAD_CLIENTS, LOAD_CALLS = 8, 20  # as tests/test_app.py::test_eight_concurrent_clients
FIRST_ANSWER_GOAL_S, RSS_GOAL_MB = 20, 2048


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())


def pip_install(venv: Path, requirements: Path, log: Path, *extra: str) -> tuple[bool, float]:
    t0 = time.monotonic()
    with open(log, "a") as f:
        f.write(f"\n=== pip install -r {requirements} {' '.join(extra)}\n")
        f.flush()
        rc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir",
                             "--disable-pip-version-check", "-r", str(requirements), *extra],
                            stdout=f, stderr=subprocess.STDOUT).returncode
    return rc == 0, round(time.monotonic() - t0, 1)


def local_cpu_wheel(version_prefix: str = "") -> str | None:
    """A CPU build of torch among pip's find-links folders on this machine, if any."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                         capture_output=True, text=True).stdout.split()
    wheels = sorted(w for d in out for w in glob.glob(os.path.join(d, "torch-*+cpu-*.whl")))
    return next((w for w in reversed(wheels) if Path(w).name.startswith(f"torch-{version_prefix}")),
                wheels[-1] if wheels else None)


def fallback_requirements(bundle: Path, dest: Path) -> tuple[Path, str]:
    """The bundle's requirements without the CPU index: torch from a local CPU wheel, else the default index."""
    lines = (bundle / "requirements.txt").read_text().splitlines()
    torch_line = next(line for line in lines if line.startswith("torch=="))
    version = torch_line.split("==")[1].split("+")[0]
    wheel = local_cpu_wheel(version) or ""
    keep = [line for line in lines if not line.startswith(("--extra-index-url", "torch=="))]
    if wheel:
        keep.append(wheel)
        how = f"local CPU wheel {Path(wheel).name} (PyTorch's CPU index unreachable)"
    else:
        keep.append(f"torch=={version}")
        how = f"torch=={version} from the default index, the CUDA build (PyTorch's CPU index unreachable)"
    dest.write_text("\n".join(keep) + "\n")
    return dest, how


def pip_sources(log: Path) -> dict:
    """Of the last install in the pip log: how many files pip downloaded and how many it read from this
    machine's disk (a local mirror makes the install faster than a Space's, which downloads all)."""
    last = log.read_text().split("\n=== ")[-1].splitlines()
    return {"pip_downloaded": sum(line.lstrip().startswith("Downloading ") for line in last),
            "pip_from_local_disk": sum(line.startswith("Processing /") for line in last)}


def install(bundle: Path, venv: Path, log: Path) -> dict:
    """A fresh venv with the bundle's requirements: as written, else the fallback; sizes and versions."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    reqs = bundle / "requirements.txt"
    uses_cpu_index = CPU_INDEX in reqs.read_text()
    ok, seconds = pip_install(venv, reqs, log, *(["--retries", "1", "--timeout", "15"] if uses_cpu_index else []))
    rec = {"source": "the bundle's requirements.txt as written", "seconds": seconds}
    if not ok and uses_cpu_index:
        shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        alt, how = fallback_requirements(bundle, venv.parent / "requirements-fallback.txt")
        ok, seconds = pip_install(venv, alt, log)
        rec = {"source": how, "seconds": seconds, "failed_first_attempt_s": rec["seconds"]}
    if not ok:
        raise SystemExit(f"pip install failed: see {log}")
    rec.update(pip_sources(log))
    site = next((venv / "lib").glob("python*/site-packages"))
    probe = "import sys, torch, gradio; print(sys.version.split()[0], torch.__version__, gradio.__version__)"
    versions = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                              check=True).stdout.split()
    return {**rec, "venv_mb": round(du(venv) / 2**20), "torch_mb": round(du(site / "torch") / 2**20),
            "nvidia_and_triton_mb": round(sum(du(p) for p in site.glob("nvidia*")) / 2**20
                                          + sum(du(p) for p in site.glob("triton*")) / 2**20),
            "python": versions[0], "torch": versions[1], "gradio": versions[2]}


class RssSampler(threading.Thread):
    """The peak RSS (MB) of a process tree, sampled every ``period`` seconds until stopped."""

    def __init__(self, pid: int, period: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.period, self.peak, self.done = pid, period, 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self.done.wait(self.period)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return round(self.peak)


def start_server(bundle: Path, venv: Path, cpus: list[int], log: Path) -> tuple[subprocess.Popen, int, float]:
    """app.py with the Space's environment under taskset; returns (process, port, start time)."""
    port = 7860 if free_port_is(7860) else free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PHASE_COLLAPSE", "GRADIO_"))}
    env.update(GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(port), SYSTEM="spaces",
               SPACE_ID="rehearsal/phase-collapse", CPU_CORES=str(len(cpus)))
    t0 = time.monotonic()
    proc = subprocess.Popen(["taskset", "-c", ",".join(map(str, cpus)), str(venv / "bin" / "python"), "app.py"],
                            cwd=bundle, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    return proc, port, t0


def free_port_is(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def call_every_endpoint(client: Client, img) -> dict:
    out = {}
    for name, args in ENDPOINTS.items():
        t0 = time.monotonic()
        try:
            client.predict(*args(img), api_name="/" + name)
            out[name] = {"s": round(time.monotonic() - t0, 2), "ok": True}
        except Exception as e:  # recorded: the rehearsal reports every endpoint, whatever happens
            out[name] = {"s": round(time.monotonic() - t0, 2), "ok": False, "error": repr(e)[:300]}
    return out


def load(url: str, sampler_pid: int) -> dict:
    """tests/test_app.py's 8-client load: 8 clients x 20 `analyze` calls, each with its own shift."""
    errors, done = [], []
    sampler = RssSampler(sampler_pid)
    sampler.start()

    def worker(i):
        c = Client(url, verbose=False, download_files=False)
        img = handle_file(str(EXAMPLE))
        for n in range(LOAD_CALLS):
            try:
                c.predict(img, round(0.1 + 0.13 * n + i, 2), 0.5, "circular", MODEL, n % 4, i % 3,
                          api_name="/analyze")
                done.append(1)
            except Exception as e:  # counted and recorded
                errors.append(repr(e)[:200])

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(LOAD_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    return {"clients": LOAD_CLIENTS, "requests": len(done), "errors": len(errors), "first_errors": errors[:3],
            "seconds": round(time.monotonic() - t0, 1), "rss_mb_peak": sampler.stop()}


def serve_and_call(bundle: Path, venv: Path, workdir: Path) -> dict:
    cpus = sorted(os.sched_getaffinity(0))[:2]
    proc, port, t0 = start_server(bundle, venv, cpus, workdir / "server.log")
    overall = RssSampler(proc.pid)
    overall.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        if not wait_http(url, 300):
            raise SystemExit(f"the app did not answer within 300 s: see {workdir / 'server.log'}")
        page_s = time.monotonic() - t0
        client = Client(url, verbose=False, download_files=False)
        img = handle_file(str(EXAMPLE))
        client.predict(*ENDPOINTS["analyze"](img), api_name="/analyze")
        first_s = time.monotonic() - t0
        endpoints = call_every_endpoint(client, img)
        under_load = load(url, proc.pid)
    finally:
        peak = overall.stop()
        stop(proc)
    logged = (workdir / "server.log").read_text()
    errors = re.findall(r"^(\w+(?:Error|Exception)\b.*)$", logged, re.M)[:3]
    tracebacks = {"count": logged.count("Traceback"), "errors": errors}
    return {"cpus": cpus, "port": port, "log_tracebacks": tracebacks, "page_s": round(page_s, 1),
            "first_answer_s": round(first_s, 1), "endpoints": endpoints, "load": under_load, "rss_mb_peak": peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hardware", default="cpu-basic", choices=["cpu-basic", "cpu-upgrade"])
    ap.add_argument("--workdir", default="/tmp/space_rehearsal")
    ap.add_argument("--keep-venv", action="store_true", help="keep the venv (several hundred MB) afterwards")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    row = {"what": "Space rehearsal: bundle, fresh install, app under the Space's environment on 2 CPUs",
           **measured_on(paths=("core", "demo", "app.py", "bench")), "hardware": args.hardware}
    bundle = build(workdir / "bundle", args.hardware)
    row["bundle"] = {"files": len(bundle.files), "mb": round(bundle.bytes / 2**20, 2), "weights": list(bundle.weights)}
    venv = workdir / "venv"
    row["install"] = install(bundle.path, venv, workdir / "pip.log")
    print(row["install"], flush=True)
    row["server"] = serve_and_call(bundle.path, venv, workdir)
    s = row["server"]
    row["goals"] = {"first_answer_within_20_s": s["first_answer_s"] <= FIRST_ANSWER_GOAL_S,
                    "peak_rss_within_2_gb": s["rss_mb_peak"] <= RSS_GOAL_MB,
                    "every_endpoint_answered": all(e["ok"] for e in s["endpoints"].values()),
                    "load_without_errors": s["load"]["errors"] == 0}
    row["load_after"] = load_average()
    append_jsonl(args.out, row)
    print(row)
    if not args.keep_venv:
        shutil.rmtree(venv, ignore_errors=True)
    return 0 if all(row["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
