"""The demo's latency as a person gets it: Debian's Chromium (headless, through Playwright) on `python app.py`.

    .venv/bin/python bench/bench_browser.py [--moves 20] [--models lscat_skip_cifar10 lscat_skip_imagenette] \
        [--out docs/bench/browser_cpu.jsonl]

Starts app.py on a free port and a headless Chromium at 1400x900, and measures (JSON lines on stdout,
appended to --out when given):
  * page load: from navigation start to the controls on the page ("interactive"), and to the first
    analysis drawn (every picture and chart of the default example);
  * per model, upload to first full update: a file set in the upload box (the eight examples in turn)
    until both pictures, both map halves and both charts show the new image;
  * per model, input change to every plot redrawn, over --moves moves of each kind:
      - "drag": the dx slider's thumb pressed, dragged in 6 steps, released; from the input event of the
        final value to the frame in which the translated picture, the translated maps and both charts
        show it (and, while dragging: how many intermediate states were drawn, whether any update
        arrived after the final one);
      - "arrow": ArrowRight on the focused slider (0.05 px each; 4 PageUp presses, a tenth of the range
        each, as "page_key");
      - "number": a value typed into the slider's number box, then Enter;
    median, p90 and max, in milliseconds of the page's own clock (performance.now); during the arrow
    moves, Chrome's CPU profiler gives the page's main-thread time per update, by script;
  * bytes the server sent per update (Chrome DevTools' Network.dataReceived, see Bytes: the event
    stream and any other request), median and p90 in kB; for a drag, per update drawn;
  * per model, the invariance view (--maps, default 3): from the click that opens its accordion, then
    from each click on "Compute the stability map" with a new grid half-width (17 x 17 shifts each
    time, so the cost is the default grid's and nothing comes from the cache), to the frame in which
    every heatmap shows the new grid and the per-block curve and its caption are drawn for it, and
    where that time goes: how much of it the page's main thread was busy (long tasks, >= 50 ms each),
    the app's own time for the request (its "invariance view" log line), and the CPU seconds that the
    app and Chromium's processes used meanwhile (they share the machine's cores);
  * the machine: cores, load average before and after each model, the other processes using the CPU
    (state T: stopped), Chromium, torch, gradio, the commit
    (with "+dirty" when demo/, app.py or bench/ differ from it) and the date.
Each drawn state is recognised by the "data-state" / layout.meta token every picture and chart carries
(demo.draw.panels.token).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_demo import free_port, p90, stop, wait_http  # (one launcher helper for both benchmarks)

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
EXAMPLES = ["horse", "rocket", "coffee", "astronaut", "grass", "gravel", "brick", "cat"]  # each differs from the last

# In the page: the last input event's time, and a watcher that, from before an action, checks at every
# animation frame whether all targets show a state containing a given substring; it records the frame
# after that (the one in which the update is on screen) and the translated maps' states along the way.
INIT = """
window.__pcInput = null;
// the last input event that changed a value: "input" for the slider and its number box ("change", fired
// again when a drag ends, would not change it), "change" for the file box
for (const [ev, types] of [["input", ["range", "number"]], ["change", ["file"]]]) {
  document.addEventListener(ev, (e) => {
    const t = e.target;
    if (t instanceof HTMLInputElement && types.includes(t.type))
      window.__pcInput = {t: performance.now(), value: t.value, type: t.type};
  }, true);
}
// the page's long tasks (main thread busy >= 50 ms): what drawing a result costs the browser
window.__pcLong = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__pcLong.push([e.startTime, e.duration]);
}).observe({type: "longtask", buffered: true});
window.__pcState = (sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const g = el.querySelector(".js-plotly-plot");
  if (g) return g._fullLayout && g._fullLayout.meta != null ? String(g._fullLayout.meta) : null;
  const s = el.querySelector("[data-state]");
  if (!s) return null;
  for (const img of s.querySelectorAll("img")) if (!img.complete || !img.naturalWidth) return null;
  return s.dataset.state;
};
// needle null: the dx slider's current value, as demo.draw.panels.token writes it
window.__pcNeedle = () => "dx=" + String(parseFloat(document.querySelector("#dx input[type=range]").value)) + ";";
window.__pcWatch = (targets, needle, timeout, needInput) => {
  window.__pcDone = null;
  window.__pcArmed = false;
  const seen = [], start = performance.now();
  let since = null;
  const frame = (now) => {
    const want = needle || window.__pcNeedle();
    const states = targets.map(window.__pcState);
    const m = window.__pcState("#maps_translated");
    if (m && seen[seen.length - 1] !== m) seen.push(m);
    const fresh = !needInput || (window.__pcInput && window.__pcInput.t > start);
    const ok = fresh && states.every((s) => s && s.includes(want));
    since = ok ? (since ?? performance.now()) : null;  // the first frame showing the state
    if (ok && window.__pcArmed) {
      window.__pcDone = {t: since, input: needInput ? window.__pcInput : {t: start}, seen, states, needle: want};
      return;
    }
    if (performance.now() - start > timeout) { window.__pcDone = {timeout: true, states, seen, want}; return; }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
};
"""
MOVED = ["#picture_translated", "#maps_translated", "#errors", "#phases"]
ALL = MOVED + ["#picture_original", "#maps_original"]


def busy_processes(min_cpu: float = 10.0) -> list[str]:
    """Other processes using the CPU when the run starts (ps's %CPU, averaged over each one's lifetime)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid=,stat=,pcpu=,args="], capture_output=True, text=True).stdout
    except OSError:
        return []
    busy = []
    for line in out.splitlines():
        pid, stat, cpu, args = line.split(None, 3)
        if float(cpu) >= min_cpu and int(pid) != os.getpid():
            busy.append(f"{pid} {stat} {cpu}% {args[:90]}")
    return busy


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these processes (all their threads; /proc/PID/stat)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15)
    return total


def chromium_pids() -> list[int]:
    """The browser's processes (browser, renderers, GPU and utility processes)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if b"chromium" in (d / "cmdline").read_bytes().split(b"\0")[0]:
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


SERVER_LINE = re.compile(r"invariance view .*: (\d+) ms$")


def server_ms(log: Path | None) -> float | None:
    """The app's last 'invariance view ...: N ms' log line (demo.handlers.invariance.Invariance.page): the time it spent
    between receiving the click's event and returning the outputs."""
    if log is None or not log.exists():
        return None
    hits = [m.group(1) for m in map(SERVER_LINE.search, log.read_text().splitlines()) if m]
    return float(hits[-1]) if hits else None


def stats(values: list[float], nd: int = 1) -> dict:
    v = sorted(values)
    if not v:
        return {"n": 0}
    return {"n": len(v), "median": round(statistics.median(v), nd), "p90": round(p90(v), nd), "max": round(v[-1], nd)}


def fmt(v: float) -> str:
    return f"{float(v):g}"  # as demo.draw.panels.token writes dx and dy


class Bytes:
    """Bytes the server sent to the page, from the last reset: Network.dataReceived's dataLength of the
    page's http requests (the event stream is not compressed, so that is what went over the wire;
    Chrome reports the stream's encodedDataLength late and in bursts, and the pictures' data: URIs,
    decoded in the page, are requests of their own, left out here)."""

    def __init__(self, page):
        self.total, self._http = 0, set()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.dataReceived", self._on)

    def _request(self, e):
        if e["request"]["url"].startswith("http"):
            self._http.add(e["requestId"])

    def _on(self, e):
        if e["requestId"] in self._http:
            self.total += e.get("dataLength", 0)

    def reset(self):
        self.total = 0


def wait_done(page, timeout_s: float = 120) -> dict:
    page.evaluate("() => { window.__pcArmed = true; }")
    page.wait_for_function("() => window.__pcDone", timeout=timeout_s * 1000, polling=20)
    done = page.evaluate("() => window.__pcDone")
    if done.get("timeout"):
        raise RuntimeError(f"the page did not update: {done}")
    return done


def watch(page, needle: str | None, targets=MOVED, timeout_s: float = 120, after_input: bool = True) -> None:
    """Start watching before an action; ``needle`` None: the dx slider's value once the action is over.
    ``after_input``: only a state drawn after a new input event counts (and latency runs from that event;
    otherwise from the start of the watch)."""
    page.evaluate("([t, n, ms, f]) => window.__pcWatch(t, n, ms, f)", [targets, needle, timeout_s * 1000, after_input])


def value_of(page, kind: str = "range") -> float:
    return float(page.input_value(f"#dx input[type={kind}]"))


def measure(page, counter: Bytes, action, settle_ms: int = 400) -> dict:
    """Run ``action`` and wait until every moved target shows the dx slider's final value; returns the
    latency from the last input event to the first frame showing it, the bytes received, the states drawn
    on the way, and whether anything else was drawn within ``settle_ms`` after it (a stale update)."""
    counter.reset()
    watch(page, None)
    action()
    done = wait_done(page)
    page.wait_for_timeout(settle_ms)
    after = page.evaluate("(sel) => window.__pcState(sel)", "#maps_translated")
    return {"ms": done["t"] - done["input"]["t"], "bytes": counter.total, "seen": done["seen"],
            "stale_after": not (after or "").startswith(done["needle"]), "needle": done["needle"]}


def drag(page, target: float):
    box = page.locator("#dx input[type=range]").bounding_box()
    lo, hi = -32.0, 32.0
    x_of = lambda v: box["x"] + 8 + (v - lo) / (hi - lo) * (box["width"] - 16)  # the thumb's centre
    y = box["y"] + box["height"] / 2
    start = value_of(page)
    page.mouse.move(x_of(start), y)
    page.mouse.down()
    for i in range(1, 7):
        page.mouse.move(x_of(start + (target - start) * i / 6), y)
        page.wait_for_timeout(30)
    page.mouse.up()


def moves(page, counter: Bytes, n: int) -> dict:
    out = {}
    # slider drag: alternate between positive and negative targets so that the thumb really moves
    rows = []
    for i in range(n):
        target = (1 if i % 2 else -1) * (0.6 + 0.23 * i)
        r = measure(page, counter, lambda target=target: drag(page, target))
        drawn = max(1, len(r["seen"]) - 1)  # the first state seen is the one before the drag
        rows.append({**r, "drawn_during_drag": drawn, "bytes_per_drag": r["bytes"], "bytes": r["bytes"] / drawn})
    out["drag"] = rows
    # arrow keys on the focused range input, under Chrome's CPU profiler
    page.locator("#dx input[type=range]").focus()
    rows = []
    profiler = Profiler(page)
    for _ in range(n):  # always to the right: every value new (no cached translation)
        rows.append(measure(page, counter, lambda: page.keyboard.press("ArrowRight")))
    out["arrow"] = rows
    out["profile"] = profiler.stop(n)
    # PageUp / PageDown (a few: they move by a tenth of the range)
    rows = []
    page.keyboard.press("Home")  # from -32 up: four new values
    page.wait_for_timeout(1000)
    for _ in range(4):
        rows.append(measure(page, counter, lambda: page.keyboard.press("PageUp")))
    out["page_key"] = rows
    # a number typed into the number box, then Enter
    out["number"] = typed(page, counter, n)
    return out


def typed(page, counter: Bytes, n: int, offset: float = 0.0) -> list[dict]:
    """``n`` values typed into the dx number box, then Enter, each new (``offset``, a multiple of the slider
    step 0.05: another series)."""
    box = page.locator("#dx input[type=number]")
    rows = []
    for i in range(n):
        v = round((-1) ** i * (0.35 + 0.4 * i) + offset, 2)

        def act(v=v):
            box.fill(fmt(v))
            box.press("Enter")
        rows.append(measure(page, counter, act))
    return rows


def fairness(page, counter: Bytes, url: str, n: int) -> dict:
    """Typed dx on this page (CIFAR-10) idle, then while another client computes 17 x 17 Imagenette
    stability maps one after another (each on a new grid: never cached). Goal (issue 36): the loaded
    median <= 2x the idle one. Only the updates made while a map was computing count as loaded."""
    import threading

    from gradio_client import Client, handle_file

    idle = typed(page, counter, n)
    stop, maps, busy = threading.Event(), [], threading.Event()

    def other():
        c = Client(url, verbose=False, download_files=False)
        i = 0
        while not stop.is_set():
            t = time.perf_counter()
            busy.set()
            c.predict(handle_file(str(ROOT / "demo" / "examples" / "rocket.jpg")), "circular",
                      "lscat_skip_imagenette", EXTENTS[i % len(EXTENTS)] + 0.05 * (i // len(EXTENTS)), 17,
                      api_name="/stability")
            maps.append(time.perf_counter() - t)
            i += 1
        busy.clear()

    th = threading.Thread(target=other, daemon=True)
    th.start()
    busy.wait(60)
    time.sleep(2.0)  # the map under way (its models loaded)
    t0, loaded = time.perf_counter(), typed(page, counter, n, offset=0.05)
    span = time.perf_counter() - t0
    stop.set()
    th.join(600)
    ratio = statistics.median(r["ms"] for r in loaded) / statistics.median(r["ms"] for r in idle)
    return {"what": "fairness: typed dx on the CIFAR-10 page, idle and while another client computes 17x17 "
                    "Imagenette stability maps (demo.compute.lanes)",
            "idle": summary(idle), "during_maps": summary(loaded), "median_ratio": round(ratio, 2),
            "goal_ratio": 2.0, "meets_goal": ratio <= 2.0, "maps_completed": len(maps),
            "map_s": stats(maps, 2) if maps else None, "loaded_span_s": round(span, 1)}


class Profiler:
    """Chrome's sampling CPU profiler on the page (Profiler domain): main-thread time per script."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Profiler.enable")
        self.cdp.send("Profiler.setSamplingInterval", {"interval": 250})
        self.cdp.send("Profiler.start")

    def stop(self, updates: int) -> dict:
        prof = self.cdp.send("Profiler.stop")["profile"]
        nodes = {nd["id"]: nd["callFrame"] for nd in prof["nodes"]}
        per: dict[str, float] = {}
        for sample, dt in zip(prof["samples"], prof["timeDeltas"]):
            cf = nodes[sample]
            name = cf["url"].rsplit("/", 1)[-1].split("-")[0] or cf["functionName"] or "?"
            per[name] = per.get(name, 0.0) + dt / 1000
        native = {k: per.pop(k, 0.0) for k in ("(idle)", "(program)", "(garbage collector)")}
        for k in ("requestAnimationFrame", "?"):  # the benchmark's own watcher and polling
            per.pop(k, None)
        top = {k: round(v / updates, 1) for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:6]}
        return {"what": "the page's scripts: main-thread ms per arrow-key update (sampled; the benchmark's own "
                        "watcher left out; '(program)' is the browser's unattributed native work, polling included)",
                "scripts_ms_per_update": round(sum(per.values()) / updates, 1), "top_scripts": top,
                **{k.strip("()").replace(" ", "_") + "_ms_per_update": round(v / updates, 1)
                   for k, v in native.items()}}


def summary(rows: list[dict]) -> dict:
    s = {"latency_ms": stats([r["ms"] for r in rows]), "kB_per_update": stats([r["bytes"] / 1000 for r in rows]),
         "stale_after_final": sum(r["stale_after"] for r in rows)}
    if rows and "drawn_during_drag" in rows[0]:
        s["updates_drawn_per_drag"] = stats([r["drawn_during_drag"] for r in rows], 0)
        s["kB_per_drag"] = stats([r["bytes_per_drag"] / 1000 for r in rows])
    return s


STABILITY_DRAWN = """(want) => {
  const g = document.querySelector("#stability .js-plotly-plot");
  const c = document.querySelector("#invariance_curve .js-plotly-plot");
  const cap = document.querySelector("#curve_caption");
  if (!g || !g.data || !c || !c.data || !c.data.length || !cap) return false;
  const maps = g.data.filter((d) => d.type === "heatmap");
  const last = (d) => d.x[d.x.length - 1];
  if (!maps.length || !maps.every((d) => Math.abs(last(d) - want) < 1e-9)) return false;
  if (!cap.textContent.includes(", " + String(want) + "} px")) return false;
  return {t: performance.now(), maps: maps.length, size: maps[0].x.length};
}"""
EXTENTS = [1.75, 2.25, 1.5, 2.5, 1.25, 2.75, 1.0, 3.0]  # each new: 17 x 17 shifts, never a cached grid


def stability_maps(page, n: int, opened: bool, app_pid: int | None = None, app_log: Path | None = None) -> dict:
    """The invariance view's latency (see the module docstring): opening it (when ``opened`` is False),
    then ``n`` clicks on its button with a new grid half-width each. Per click, where the time goes: the
    app's own time for the request (its log line), the CPU seconds the app and Chromium used meanwhile."""
    def timed(click, want: float) -> dict:
        browser = chromium_pids()
        cpu0 = (cpu_seconds([app_pid] if app_pid else []), cpu_seconds(browser))
        t0 = page.evaluate("() => performance.now()")
        click()
        done = page.wait_for_function(STABILITY_DRAWN, arg=want, polling="raf", timeout=300_000).json_value()
        cpu1 = (cpu_seconds([app_pid] if app_pid else []), cpu_seconds(browser))
        busy = page.evaluate("(t0) => window.__pcLong.filter(([s]) => s >= t0).reduce((a, [, d]) => a + d, 0)", t0)
        return {"ms": done["t"] - t0, "maps": done["maps"], "grid": done["size"], "long_ms": busy,
                "server_ms": server_ms(app_log), "app_cpu_s": cpu1[0] - cpu0[0], "chromium_cpu_s": cpu1[1] - cpu0[1]}

    out = {}
    if not opened:
        header = page.locator("#invariance_view button:has-text('Translation invariance')").first
        out["open_ms"] = round(timed(header.click, 2.0)["ms"])  # opening it computes the default grid
    rows = []
    for want in EXTENTS[:n]:
        box = page.locator("#stability_extent input[type=number]")
        box.fill(fmt(want))
        box.press("Enter")
        rows.append(timed(lambda: page.click("#stability_button"), want))
    out["compute"] = stats([r["ms"] for r in rows], 0)
    out["page_long_tasks_ms"] = stats([r["long_ms"] for r in rows], 0)  # of that, the page's main thread busy
    if rows and all(r["server_ms"] is not None for r in rows):
        out["server_ms"] = stats([r["server_ms"] for r in rows], 0)  # of that, the app's handler
    out["app_cpu_s"] = stats([r["app_cpu_s"] for r in rows], 2)  # CPU seconds meanwhile, all threads
    out["chromium_cpu_s"] = stats([r["chromium_cpu_s"] for r in rows], 2)
    out["maps_shown"] = rows[-1]["maps"] if rows else None
    out["grid"] = f"{rows[-1]['grid']} x {rows[-1]['grid']}" if rows else None
    return out


def pick_model(page, model: str, label: str) -> None:
    page.click("#model input")
    page.locator("[role=option]", has_text=label).first.click()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=20, help="moves of each kind per model (default: %(default)s)")
    ap.add_argument("--models", nargs="*", default=["lscat_skip_cifar10", "lscat_skip_imagenette"])
    ap.add_argument("--fairness", type=int, default=0,
                    help="typed dx updates idle and during another client's Imagenette maps (0: skip)")
    ap.add_argument("--maps", type=int, default=3,
                    help="stability maps computed per model in the invariance view (0: none; at most 8)")
    ap.add_argument("--threads", type=int, default=None, help="PHASE_COLLAPSE_THREADS of the app (default: its own)")
    ap.add_argument("--out", type=Path, default=None, help="append the JSON lines to this file")
    ap.add_argument("--note", default="", help="free text recorded with the run (e.g. what else ran)")
    args = ap.parse_args()

    import gradio
    from playwright.sync_api import sync_playwright

    from core.provenance import append_jsonl, load_average, measured_on
    from demo.models.catalog import DEFAULT, LABELS

    lines = []

    def emit(d):
        print(json.dumps(d), flush=True)
        lines.append(d)

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    if args.threads is not None:
        env["PHASE_COLLAPSE_THREADS"] = str(args.threads)
    head = {"what": "browser latency", **measured_on(paths=("core", "demo", "app.py", "bench")),
            "gradio": gradio.__version__, "app_threads": args.threads or "app default", "viewport": "1400x900",
            "moves": args.moves, "note": args.note, "busy_processes": busy_processes()}
    app_log = Path(tempfile.mkdtemp(prefix="bench_browser_")) / "app.log"  # its INFO lines (server_ms)
    with app_log.open("wb") as log_file:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=log_file)
    url = f"http://127.0.0.1:{port}/"
    try:
        if not wait_http(url, 180):
            emit({**head, "error": "app did not answer within 180 s"})
            return 1
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            head["chromium"] = browser.version
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(INIT)
            counter = Bytes(page)
            page.goto(url)
            page.wait_for_selector("#dx input[type=range]", timeout=120_000)
            interactive = page.evaluate("() => performance.now()")
            watch(page, "dx=", ALL, 300, after_input=False)
            first = wait_done(page, 300)["t"]
            emit({**head, "page_interactive_ms": round(interactive), "page_first_analysis_ms": round(first)})
            if args.fairness:
                emit({"date": head["date"], "commit": head["commit"], "load_before": load_average(),
                      **fairness(page, counter, url, args.fairness), "load_after": load_average()})
            shown, opened = DEFAULT, False
            for model in args.models:
                load0 = load_average()
                if model != shown:
                    watch(page, f";{model};", ALL, 300, after_input=False)
                    pick_model(page, model, LABELS[model])
                    wait_done(page, 300)
                    shown = model
                uploads = []
                for name in EXAMPLES:
                    path = ROOT / "demo" / "examples" / f"{name}.jpg"
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
                    counter.reset()
                    watch(page, digest, ALL)
                    page.set_input_files("#image input[type=file]", str(path))
                    done = wait_done(page)
                    uploads.append({"ms": done["t"] - done["input"]["t"], "bytes": counter.total})
                    page.wait_for_timeout(200)
                rows = moves(page, counter, args.moves)
                if args.maps:
                    rows["invariance_view"] = stability_maps(page, args.maps, opened, proc.pid, app_log)
                    opened = True
                emit({"what": "browser latency", "model": model, "date": head["date"], "commit": head["commit"],
                      "upload_to_full_update_ms": stats([u["ms"] for u in uploads]),
                      "upload_kB": stats([u["bytes"] / 1000 for u in uploads]),
                      **{kind: summary(r) if kind not in ("profile", "invariance_view") else r
                         for kind, r in rows.items()},
                      "load_before": load0, "load_after": load_average()})
            browser.close()
    finally:
        stop(proc)
    for d in lines:
        append_jsonl(args.out, d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
