"""A real browser (Debian's chromium, driven by playwright) on `python app.py`: upload an image, pick an
example, change the translation; predictions and plots update; no page errors; no request leaves
localhost. Saves artifacts/browser/demo.png.

Skipped only when chromium is absent and PHASE_COLLAPSE_REQUIRE_BROWSER is unset (.ci/run sets it
whenever it could install chromium); otherwise a missing browser fails the test."""

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from _demo_support import ROOT, launched_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts" / "browser"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("PHASE_COLLAPSE_REQUIRE_BROWSER"):
            pytest.fail("PHASE_COLLAPSE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def url():
    with launched_app() as (u, _):
        yield u


def plot_data(page, elem_id: str):
    return page.evaluate(f"() => {{ const g = document.querySelector('#{elem_id} .js-plotly-plot'); "
                         f"return g && g.data ? JSON.parse(JSON.stringify(g.data)) : null; }}")


def numbers(page):
    text = page.evaluate("() => { const e = document.querySelector('#numbers'); return e ? e.innerText : ''; }")
    return text


def wait_changed(page, fn, before, timeout=120_000):
    """Poll ``fn(page)`` until it differs from ``before`` (and is not None)."""
    import time

    end = time.monotonic() + timeout / 1000
    while time.monotonic() < end:
        now = fn(page)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError("the page did not update")


def test_upload_translate_and_look(browser, url):
    host = urlparse(url).hostname
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page_errors, outside = [], []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).hostname not in (host, "localhost", "127.0.0.1") else None)
    page.goto(url)

    # the initial analysis of the default example (cat.jpg) arrives
    page.wait_for_selector("#pred_original .confidence-set, #pred_original [data-testid='label-output-value']",
                           timeout=180_000)
    maps0 = wait_changed(page, lambda p: plot_data(p, "maps"), None)
    errors0 = wait_changed(page, lambda p: plot_data(p, "errors"), None)
    assert len(maps0) == 5 and maps0[0]["type"] == "image"

    # upload another image: the original column and the predictions change
    page.click("#image button[aria-label=Clear]")
    page.wait_for_selector("#status:has-text('No image')")
    page.set_input_files("#image input[type=file]", str(ROOT / "demo" / "examples" / "rocket.jpg"))
    maps1 = wait_changed(page, lambda p: plot_data(p, "maps"), maps0)
    assert maps1[0]["source"] != maps0[0]["source"]
    page.click("#numbers-accordion button, button:has-text('The numbers')")
    n1 = wait_changed(page, numbers, "")
    top1 = page.inner_text("#pred_original")
    assert any(c in top1 for c in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                   "truck"))

    # change the translation: the translated branch, the charts and the numbers update
    box = page.locator("#dx input[type=number]")
    box.fill("2.5")
    box.press("Enter")
    box.blur()
    errors2 = wait_changed(page, lambda p: plot_data(p, "errors"), plot_data(page, "errors"))
    assert errors2 != errors0
    n2 = wait_changed(page, numbers, n1)
    assert '"dx": 2.5' in n2.replace("dx\n", "dx") or "2.5" in n2
    maps2 = plot_data(page, "maps")
    assert maps2[1]["source"] != maps1[1]["source"]  # the translated column was redrawn
    phases = plot_data(page, "phases")
    assert len(phases) == 9

    # pick an example from the gallery: it replaces the upload and is analysed
    page.click("#examples button[aria-label='Thumbnail 8 of 8']")
    page.wait_for_selector("#image :text('brick')", timeout=60_000)
    maps3 = wait_changed(page, lambda p: plot_data(p, "maps"), maps2)
    assert maps3[0]["source"] != maps2[0]["source"]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    assert not page_errors, page_errors
    assert not outside, outside
    json.dumps(phases)
    page.close()
