"""A real browser (Debian's chromium, driven by playwright) on `python app.py`, at 1400x900 as a person
sees it: the first view without scrolling, uploads, examples, the slider by pointer and keyboard, a bad
file and what the page shows after it, no page errors, no request leaving localhost; and a newcomer's
path: nothing overlapping or cut off at 1400x900 and 1024x768, the notes in view, refused files, the
photo model's button. Saves artifacts/browser/first_view.png and layer_by_layer.png (the screenshots
in docs/ come from here).

Skipped only when chromium is absent and PHASE_COLLAPSE_REQUIRE_BROWSER is unset (.ci/run sets it
whenever it could install chromium); otherwise a missing browser fails the test."""

import hashlib
import time
from urllib.parse import urlparse

import pytest
from _demo_support import ROOT, launched_app

from bench import bench_browser  # (the benchmark's in-page instrumentation: the same states it waits for)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARGS = bench_browser.ARGS
ARTIFACTS = ROOT / "artifacts" / "browser"
VIEW = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def url():
    with launched_app() as (u, _):
        yield u


def open_page(browser, url, viewport=VIEW):
    """A fresh page with the first analysis drawn; records page errors and requests leaving localhost."""
    host = urlparse(url).hostname
    page = browser.new_page(viewport=viewport)
    page.errors, page.outside = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.outside.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).hostname not in (host, "localhost", "127.0.0.1") else None)
    page.add_init_script(bench_browser.INIT)
    page.goto(url)
    page.wait_for_selector("#dx input[type=range]", timeout=180_000)
    wait_state(page, "dx=0.5;", bench_browser.ALL, after_input=False)
    return page


def close_page(page):
    assert not page.errors, page.errors
    assert not page.outside, page.outside
    page.close()


@pytest.fixture()
def page(browser, url):
    page = open_page(browser, url)
    yield page
    close_page(page)


def wait_state(page, needle, targets=bench_browser.MOVED, after_input=True, timeout_s=120, action=None):
    """Wait until every target shows a state containing ``needle`` (None: the dx slider's value), drawn
    after ``action`` (watched from before it) and, with ``after_input``, after an input event."""
    bench_browser.watch(page, needle, targets, timeout_s, after_input)
    if action:
        action()
    return bench_browser.wait_done(page, timeout_s)


def state(page, sel: str):
    return page.evaluate("(s) => window.__pcState(s)", sel)


def plot_data(page, elem_id: str):
    """The data of a Plotly chart (the explainer's) in the page, or None."""
    return page.evaluate(f"() => {{ const g = document.querySelector('#{elem_id} .js-plotly-plot'); "
                         f"return g && g.data ? JSON.parse(JSON.stringify(g.data)) : null; }}")


def wait_changed(page, fn, before, timeout=120_000):
    """Poll ``fn(page)`` until it differs from ``before`` (and is not None)."""
    end = time.monotonic() + timeout / 1000
    while time.monotonic() < end:
        now = fn(page)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError("the page did not update")


def inside_view(page, sel: str) -> bool:
    box = page.locator(sel).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEW["height"] and box["x"] >= 0 \
        and box["x"] + box["width"] <= VIEW["width"]


def test_first_view(page):
    """At 1400x900, without scrolling: where to drop an image, the eight examples (none clipped), both
    pictures and both top-5s."""
    assert page.evaluate("() => window.scrollY") == 0
    assert page.locator("#image :text('Drop File Here')").is_visible() and inside_view(page, "#image")
    assert inside_view(page, "#examples")
    thumbs = page.locator("#examples button[aria-label^='Thumbnail']")
    assert thumbs.count() == 8
    frame = page.locator("#examples .grid-wrap").bounding_box()
    for i in range(8):
        b = thumbs.nth(i).bounding_box()
        assert frame["x"] <= b["x"] and b["x"] + b["width"] <= frame["x"] + frame["width"] + 1, i
        assert frame["y"] <= b["y"] and b["y"] + b["height"] <= frame["y"] + frame["height"] + 1, i
    for sel in ("#picture_original img", "#picture_translated img", "#pred_original", "#pred_translated", "#dx"):
        assert inside_view(page, sel), sel
    assert "cat" in page.inner_text("#pred_original")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "first_view.png"))
    # the layer-by-layer section, after the 0.5 px shift the page opens with
    top = page.locator("h2:has-text('Layer by layer')").bounding_box()["y"] - 10
    page.screenshot(path=str(ARTIFACTS / "layer_by_layer.png"), full_page=True,
                    clip={"x": 0, "y": top, "width": VIEW["width"], "height": 1480})


def test_keyboard_moves_like_the_pointer(page):
    rng = page.locator("#dx input[type=range]")
    rng.focus()
    key = lambda k: lambda: page.keyboard.press(k)
    assert wait_state(page, None, action=key("ArrowRight"))["needle"] == "dx=0.55;"
    done = wait_state(page, None, action=key("PageUp"))  # a tenth of the range
    assert done["needle"] != "dx=0.55;" and float(rng.input_value()) > 0.55
    assert wait_state(page, None, action=key("Home"))["needle"] == "dx=-32;"
    box = page.locator("#dx input[type=number]")

    def typed():
        box.fill("1.25")
        box.press("Enter")  # focus stays in the box
    assert wait_state(page, "dx=1.25;", action=typed)["states"][0].startswith("dx=1.25;")
    assert page.evaluate("() => document.activeElement.type") == "number"
    assert state(page, "#errors").startswith("dx=1.25;") and "1.25" in page.inner_text("#picture_translated")


def test_pointer_drag_streams_and_the_last_value_wins(page):
    done = wait_state(page, None, action=lambda: bench_browser.drag(page, 6.0))
    assert len(done["seen"]) >= 3  # updates were drawn during the drag, not only at its end
    page.wait_for_timeout(800)
    assert state(page, "#maps_translated").startswith(done["needle"])  # nothing stale arrived after it


def test_a_bad_file_leaves_no_earlier_analysis(page, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_text("this is plain text, not a picture\n" * 20)
    page.set_input_files("#image input[type=file]", str(bad))
    page.wait_for_selector("#status:has-text('Cannot use x.jpg')", timeout=60_000)
    for sel in ("#picture_original", "#picture_translated", "#maps_original", "#maps_translated", "#errors",
                "#phases"):
        assert page.locator(f"{sel} img, {sel} svg").count() == 0, sel
    assert page.locator("#image :text('Drop File Here')").is_visible()  # ready for the next file
    # a slider move analyses nothing and the status keeps saying why
    page.locator("#dx input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(1500)
    assert "Cannot use x.jpg" in page.inner_text("#status")
    assert page.locator("#maps_translated img").count() == 0
    # the next good input: an example
    brick = lambda: page.click("#examples button[aria-label='Thumbnail 8 of 8']")
    assert wait_state(page, None, bench_browser.ALL, after_input=False, action=brick)["needle"] == "dx=0.55;"
    assert "brick (example)" in page.inner_text("#status")


def test_the_invariance_view_never_shows_another_images_map(page, tmp_path):
    """The issue's sequence: the Imagenette model, one photo, its map; then another photo: the map, curve,
    summary and GIF of the first must not stay. Then the same after a model change and after a bad file."""
    from demo.models.catalog import LABELS

    summary, cleared = "#stability_summary", "Another image, model or boundary"
    first, second = ROOT / "demo" / "examples" / "rocket.jpg", ROOT / "demo" / "examples" / "coffee.jpg"
    bench_browser.pick_model(page, "lscat_skip_imagenette", LABELS["lscat_skip_imagenette"])
    wait_state(page, "lscat_skip_imagenette", bench_browser.ALL, after_input=False)
    wait_state(page, hashlib.sha256(first.read_bytes()).hexdigest()[:8], bench_browser.ALL,
               action=lambda: page.set_input_files("#image input[type=file]", str(first)))

    def computed():
        page.click("#stability_button") if page.locator("#stability_button").is_visible() else \
            page.click("button:has-text('Translation invariance')")
        page.wait_for_selector(f"{summary}:has-text('shifts')", timeout=180_000)
        assert plot_data(page, "stability") and plot_data(page, "invariance_curve")
        page.click("#animation_button")
        page.wait_for_selector("#animation img[src*='.gif']", timeout=120_000)

    def stale_gone(what):
        page.wait_for_selector(f"{summary}:has-text('{cleared}')", timeout=30_000)
        assert not plot_data(page, "stability") and not plot_data(page, "invariance_curve"), what
        assert page.locator("#animation img[src*='.gif']").count() == 0, what
        assert "kept at" not in page.inner_text(summary), what

    computed()
    page.set_input_files("#image input[type=file]", str(second))  # another photo
    stale_gone("new image")
    computed()
    bench_browser.pick_model(page, "lscat_skip_cifar10", LABELS["lscat_skip_cifar10"])  # another model
    stale_gone("model change")
    computed()
    bad = tmp_path / "x.jpg"
    bad.write_text("this is plain text, not a picture\n" * 20)
    page.set_input_files("#image input[type=file]", str(bad))  # a bad file
    page.wait_for_selector("#status:has-text('Cannot use x.jpg')", timeout=60_000)
    stale_gone("bad file")
    page.screenshot(path=str(ARTIFACTS / "invariance_cleared.png"), full_page=True)


def test_upload_translate_and_look(page):
    rocket = ROOT / "demo" / "examples" / "rocket.jpg"
    wait_state(page, hashlib.sha256(rocket.read_bytes()).hexdigest()[:8], bench_browser.ALL,
               action=lambda: page.set_input_files("#image input[type=file]", str(rocket)))
    assert "rocket.jpg" in page.inner_text("#status") and state(page, "#maps_original").startswith("dx=0.5;")
    assert page.locator("#image :text('Drop File Here')").is_visible()
    top1 = page.inner_text("#pred_original")
    assert any(c in top1 for c in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                   "truck"))
    # the numbers, once their accordion is open
    page.click("button:has-text('The numbers')")
    page.wait_for_selector("#numbers :text('predicted_phase_local')", timeout=60_000)
    # the explainer's plotly charts are drawn
    assert plot_data(page, "relu") and plot_data(page, "morlet")


def test_p90_is_the_nearest_rank_percentile():
    assert bench_browser.p90([4, 1, 3, 2]) == 4  # of 4 values: the largest
    assert bench_browser.p90(list(range(1, 21))) == 18 and bench_browser.p90([7]) == 7
    assert bench_browser.stats([1, 2])["p90"] == 2 >= bench_browser.stats([1, 2])["median"]


def test_where_the_invariance_views_time_goes(tmp_path):
    """The helpers that split the browser's latency: CPU seconds of processes, the app's own time."""
    import os
    import time

    before = bench_browser.cpu_seconds([os.getpid()])
    t = time.process_time()
    while time.process_time() - t < 0.3:  # 0.3 s of this process's CPU
        pass
    assert bench_browser.cpu_seconds([os.getpid()]) - before >= 0.25
    assert bench_browser.cpu_seconds([2 ** 22 + 7]) == 0.0  # no such process: nothing
    log = tmp_path / "app.log"
    assert bench_browser.server_ms(log) is None and bench_browser.server_ms(None) is None
    log.write_text("2026-12-06 21:00:00,000 demo INFO page lscat_skip_imagenette dx=0 dy=0: 80 ms, 9 outputs\n"
                   "2026-12-06 21:00:01,000 demo INFO invariance view lscat_skip_imagenette extent=1.75 steps=17 "
                   "circular: 1934 ms\n"
                   "2026-12-06 21:00:04,000 demo INFO invariance view lscat_skip_imagenette extent=2.25 steps=17 "
                   "circular: 2011 ms\n")
    assert bench_browser.server_ms(log) == 2011.0  # the last request's


# ---- The newcomer's path: the layout at two window sizes, the notes, refused files, the photo model ----

VIEWS = {"1400x900": {"width": 1400, "height": 900}, "1024x768": {"width": 1024, "height": 768}}
PLOTS = ("#stability", "#invariance_curve", "#morlet", "#relu", "#separation")
# A Plotly chart's texts: titles (annotations, axis and colour-bar titles, legend entries) that overlap another
# title or a tick label or reach outside the chart, and tick labels cut at its sides.
CLASHES = """(sel) => {
  const plot = document.querySelector(sel + ' .js-plotly-plot');
  if (!plot) return null;
  const f = plot.getBoundingClientRect();
  const box = (e) => { const r = e.getBoundingClientRect();
                       return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, text: e.textContent}; };
  const shown = (b) => b.x1 - b.x0 > 0.5 && b.y1 - b.y0 > 0.5 && b.text.trim() !== '';
  const titles = [...plot.querySelectorAll('.annotation-text, .legendtext, .cbtitle text, text[class$="title"]')]
    .map(box).filter(shown);
  const ticks = [...plot.querySelectorAll('[class$="tick"] > text')].map(box).filter(shown);
  const hit = (a, b) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 1
                        && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 1;
  const out = (a) => a.x0 < f.left - 1 || a.x1 > f.right + 1 || a.y0 < f.top - 1 || a.y1 > f.bottom + 1;
  const problems = [];
  titles.forEach((a, i) => {
    if (out(a)) problems.push(['cut', a.text]);
    titles.slice(i + 1).forEach((b) => { if (hit(a, b)) problems.push(['overlap', a.text, b.text]); });
    ticks.forEach((b) => { if (hit(a, b)) problems.push(['on a tick label', a.text, b.text]); });
  });
  ticks.forEach((a) => { if (out(a)) problems.push(['cut', a.text]); });
  return {titles: titles.length, problems};
}"""
FITS = "(sel) => [...document.querySelectorAll(sel)].map(e => [e.textContent || e.value, e.scrollWidth, e.clientWidth])"


@pytest.mark.parametrize("size", sorted(VIEWS))
def test_nothing_overlaps_or_is_cut_off(browser, url, tmp_path, size):
    """At 1400x900 and 1024x768: the examples' captions whole, every model's name whole in the menu (not
    under its arrow), and in the stability maps, the curve and the explainer's charts no title on another
    title or on a tick label, none outside its chart. Screenshots in tmp_path."""
    from demo.models.catalog import LABELS, offered

    page = open_page(browser, url, VIEWS[size])
    page.screenshot(path=str(tmp_path / f"first_view_{size}.png"))
    captions = page.evaluate(FITS, "#examples .caption-label")
    assert len(captions) == 8 and all(text and width <= room for text, width, room in captions), captions
    shown = "lscat_skip_cifar10"
    for model in [m for m in offered() if m != "lscat_skip_imagenette"] + ["lscat_skip_imagenette"]:
        if model != shown:  # last: the photo model, whose map has its ResNet-18 beside it when shipped
            wait_state(page, f";{model};", bench_browser.ALL, after_input=False,
                       action=lambda model=model: bench_browser.pick_model(page, model, LABELS[model]))
            shown = model
        [(text, width, room)] = page.evaluate(FITS, "#model input")
        assert text == LABELS[model] and width <= room, (text, width, room)
    page.click("button:has-text('Translation invariance')")
    page.wait_for_selector("#stability_summary:has-text('shifts')", timeout=180_000)
    for sel in PLOTS:
        page.locator(sel).scroll_into_view_if_needed()
        clashes = page.evaluate(CLASHES, sel)
        assert clashes["titles"] and not clashes["problems"], (sel, clashes)
        page.screenshot(path=str(tmp_path / f"{sel[1:]}_{size}.png"))
    close_page(page)


def test_the_computing_note_is_where_the_user_looks(page):
    """The invariance view opened from the bottom of the window: its "Computing…" note is in view (beside its
    button, scrolled to), and again after the button with another grid."""
    header = page.locator("button:has-text('Translation invariance')")
    header.scroll_into_view_if_needed()
    box = header.bounding_box()
    page.evaluate(f"() => window.scrollBy(0, {box['y'] + box['height'] + 2 - VIEW['height']})")  # at the bottom edge
    assert inside_view(page, "button:has-text('Translation invariance')")
    header.click()
    page.wait_for_selector("#stability_status:has-text('Computing')", timeout=10_000)
    page.wait_for_timeout(400)  # (its scroll)
    assert inside_view(page, "#stability_status") and "Computing" in page.inner_text("#stability_status")
    page.wait_for_selector("#stability_summary:has-text('shifts')", timeout=180_000)
    assert "Computing" not in page.inner_text("#stability_status")  # gone with the map drawn
    box = page.locator("#stability_extent input[type=number]")
    box.fill("1.5")
    box.press("Enter")
    page.click("#stability_button")
    page.wait_for_selector("#stability_status:has-text('Computing')", timeout=10_000)
    assert inside_view(page, "#stability_status") and inside_view(page, "#stability_button")
    page.wait_for_selector("#stability_summary:has-text('{−1.5,')", timeout=180_000)


def test_a_waiting_update_is_marked(page):
    """A page update whose answer is late (held back here) shows the page's "Waiting" marker, a static one
    (no status tracker), and the answer removes it."""
    held = []
    page.route("**/gradio_api/run/predict", lambda route: held.append(route) if not held else route.continue_())
    marked = ("() => { const e = document.getElementById('pc-pending');"
              " return !!e && getComputedStyle(e).visibility === 'visible'; }")
    page.locator("#dx input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(marked, timeout=10_000)
    assert held and "Waiting" in page.inner_text("#pc-pending") and inside_view(page, "#pc-pending")
    wait_state(page, "dx=0.55;", after_input=False, action=held[0].continue_)  # (the input was before)
    page.wait_for_function(f"() => !({marked})()", timeout=10_000)
    page.unroute("**/gradio_api/run/predict")


def test_a_refused_file_is_named_in_the_status_line(page, tmp_path):
    """gradio refuses an SVG or an 11 MB file in the page, without sending it: the status line says so and
    why, and no longer names the image before it; no panel shows that image."""
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="9" height="9"/></svg>')
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + bytes(11 * 2**20))
    for path, why in ((svg, "not an image"), (big, "11.0 MB; the limit is 10 MB")):
        page.set_input_files("#image input[type=file]", str(path))
        page.wait_for_selector(f"#status:has-text('Refused {path.name}')", timeout=60_000)
        status = page.inner_text("#status")
        assert why in status and "cat (example)" not in status, status
        for sel in ("#picture_original", "#picture_translated", "#maps_original", "#maps_translated"):
            assert page.locator(f"{sel} img").count() == 0, sel


def test_a_photo_suggests_the_photo_model_in_one_click(page):
    """A photo larger than 32 px uploaded with the CIFAR-10 model: a button beside the status line switches to
    the photo model and analyses again; the line beside the upload box lists the classes of each model (its
    weights' own list)."""
    from core import weights
    from demo.models.catalog import LABELS

    classes = lambda key: weights.ENTRIES[weights.resolve(key) or key].classes
    assert all(c in page.inner_text("#classes") for c in classes("lscat_skip_cifar10"))
    assert not page.locator("#suggest").is_visible()  # not for the examples
    rocket = ROOT / "demo" / "examples" / "rocket.jpg"
    wait_state(page, hashlib.sha256(rocket.read_bytes()).hexdigest()[:8], bench_browser.ALL,
               action=lambda: page.set_input_files("#image input[type=file]", str(rocket)))
    page.wait_for_selector("#suggest", state="visible", timeout=10_000)
    assert "A photo?" in page.inner_text("#status") and inside_view(page, "#suggest")
    wait_state(page, ";lscat_skip_imagenette;", bench_browser.ALL, after_input=False,
               action=lambda: page.click("#suggest"))
    assert page.input_value("#model input") == LABELS["lscat_skip_imagenette"]
    assert "A photo?" not in page.inner_text("#status") and "rocket.jpg" in page.inner_text("#status")
    page.wait_for_selector("#suggest", state="hidden", timeout=10_000)
    assert all(c in page.inner_text("#classes") for c in classes("lscat_skip_imagenette"))


def test_the_boundary_radio_keeps_its_value_drawn(page):
    """After a model change, with the pointer over it, the checked boundary is still drawn checked."""
    from demo.models.catalog import LABELS

    checked = ("() => { const i = document.querySelector('#boundary input:checked');"
               " return i && [i.value, getComputedStyle(i).backgroundColor, getComputedStyle(i).backgroundImage]; }")
    before = page.evaluate(checked)
    assert before[0] == "circular" and before[1] != "rgb(255, 255, 255)"
    wait_state(page, ";lscat_skip_imagenette;", bench_browser.ALL, after_input=False,
               action=lambda: bench_browser.pick_model(page, "lscat_skip_imagenette", LABELS["lscat_skip_imagenette"]))
    page.hover("#boundary input[value=circular]")
    assert page.evaluate(checked) == before
