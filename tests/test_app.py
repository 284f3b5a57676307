"""`python app.py` launched on a free port, driven through gradio_client: the `analyze` endpoint,
bad inputs (clear messages, server keeps answering), upload limit, and 8 concurrent clients."""

import json
import re
import threading
import time
import urllib.error
import urllib.request

import pytest
from _demo_support import ACCEPTED, CAT, REFUSED, launched_app, make_files, rss_mb
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from demo.images import MAX_BYTES

pytestmark = pytest.mark.slow
MODEL = "lscat_skip_cifar10"


@pytest.fixture(scope="module")
def server():
    with launched_app() as (url, proc):
        yield url, proc


@pytest.fixture(scope="module")
def client(server):
    return Client(server[0], verbose=False, download_files=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("odd"))


def analyze(client, path=CAT, dx=0.5, dy=0.25, mode="circular", model=MODEL, k=0, rank=0):
    return client.predict(handle_file(str(path)), dx, dy, mode, model, k, rank, api_name="/analyze")


def test_page_references_nothing_outside_the_server(server):
    """No external script, stylesheet or font in the page, its config or its theme (the browser test
    also watches the requests); the theme uses system fonts."""
    get = lambda path: urllib.request.urlopen(server[0] + path, timeout=10).read().decode()
    html, config, css = get(""), json.loads(get("config")), get("theme.css")
    external = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
    assert not external.search(html), external.findall(html)
    assert config.get("stylesheets") == [] and config.get("analytics_enabled") is False
    for u in re.findall(r"url\(([^)]*)\)", css):
        u = u.strip("'\" ")
        assert u.startswith("data:") or not re.match(r"(?i)(https?:)?//", u), u
    assert re.search(r"--font: system-ui", css)


def test_analyze_endpoint(client):
    assert "/analyze" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    status, po, pt, line, maps, errors, phases, numbers = analyze(client)
    assert "LScat+skip" in status and ("untrained" in status) != numbers["trained"]
    if numbers["trained"]:  # the shipped weights, named in the banner
        assert numbers["weights"] and (f"`{numbers['weights']}`" in status or "trained weights" in status)
    assert len(po["confidences"]) == 5 and po["label"] == po["confidences"][0]["label"]
    assert len(pt["confidences"]) == 5 and "Top class" in line
    assert "class='pc-maps'" in maps and maps.count("data:image/webp;base64,") == 17 + 26
    # phases: a ring (two round dots "Mx yh0") and a filled point per block and orientation, the selected
    # orientation's filled points as circles with their hover text (test_demo.test_analyze_outputs)
    assert errors.count("<polyline") == 6 and phases.count("<circle") == 8 + 2 and phases.count("h0") == 88
    assert numbers["tau"] == {"dx": 0.5, "dy": 0.25} and len(numbers["blocks"]) == 8
    single = [b["linear_error_all"] for b in numbers["single_wavelet"]]
    assert single[-1] < single[0] / 4  # invariance improves with depth


def test_every_output_is_named(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in ("/analyze", "/shift", "/morlet", "/relu", "/separation"):
        labels = [r["label"] for r in api[name]["returns"]] + [p["label"] for p in api[name]["parameters"]]
        assert labels and not any(str(label).startswith(("value_", "parameter_")) for label in labels), (name, labels)
    assert [r["label"] for r in api["/analyze"]["returns"]] == [
        "status line", "Original: top-5", "Translated: top-5", "top class line", "maps", "error chart", "phase chart",
        "analysis"]


def test_shift_endpoint_reuses_the_session_image(server):
    c = Client(server[0], verbose=False, download_files=False)  # its own session
    with pytest.raises(AppError, match="No image in this session"):
        c.predict(1.0, 0.0, "circular", MODEL, 0, 0, api_name="/shift")
    first = analyze(c, dx=0.5, dy=0.0)
    moved = c.predict(1.25, -0.5, "circular", MODEL, 0, 0, api_name="/shift")
    assert len(moved) == len(first) == 8  # the session state is not part of the API
    assert moved[-1]["tau"] == {"dx": 1.25, "dy": -0.5} and moved[1] == first[1]  # same original, cached


def test_analyze_imagenette_zero_padded(client):
    out = analyze(client, dx=-1.5, dy=2.0, mode="zero", model="lscat_skip_imagenette", k=5, rank=1)
    numbers = out[-1]
    assert numbers["model"] == "lscat_skip_imagenette" and numbers["boundary"] == "zero"
    assert len(numbers["blocks"]) == 11 and len(numbers["blocks"][0]["predicted_phase"]) == 8
    assert {c["label"] for c in out[1]["confidences"]} <= {"tench", "English springer", "cassette player",
                                                          "chain saw", "church", "French horn", "garbage truck",
                                                          "gas pump", "golf ball", "parachute"}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_images_get_a_clear_message(client, files, name):
    with pytest.raises(AppError, match=REFUSED[name][1]):
        analyze(client, files[name])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_odd_images_are_analysed_with_a_note(client, files, name):
    status = analyze(client, files[name])[0]
    if ACCEPTED[name][1]:
        assert ACCEPTED[name][1] in status


def test_wrong_extension_and_bad_values(client, tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(AppError, match="Invalid file type"):
        analyze(client, txt)
    with pytest.raises(AppError, match="dx must be a number between -32 and 32 pixels; got 1000.0"):
        analyze(client, dx=1000.0)
    with pytest.raises(AppError, match="boundary must be one of 'circular', 'zero'; got 'reflect'"):
        analyze(client, mode="reflect")
    with pytest.raises(AppError, match="model must be one of"):
        analyze(client, model="resnet50")
    with pytest.raises(AppError, match="orientation must be a whole number between 0 and 7"):
        analyze(client, k=9)


def raw_call(url: str, endpoint: str, data: list) -> str:
    """POST /gradio_api/call/<endpoint> as any HTTP client would, then read the result's event stream."""
    req = urllib.request.Request(f"{url}gradio_api/call/{endpoint}", json.dumps({"data": data}).encode(),
                                 {"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(req, timeout=30).read())["event_id"]
    return urllib.request.urlopen(f"{url}gradio_api/call/{endpoint}/{event}", timeout=120).read().decode()


@pytest.mark.parametrize("value", ["abc", None, [1.0], True])
def test_a_wrong_type_over_raw_http_gets_the_same_message(server, value):
    text = raw_call(server[0], "shift", [value, 0.0, "circular", MODEL, 0, 0])
    assert "event: error" in text and "dx must be a number between -32 and 32 pixels" in text, text
    text = raw_call(server[0], "shift", [0.5, 0.0, "circular", MODEL, "two", 0])
    assert "orientation must be a whole number between 0 and 7" in text, text


def new_log(server, before: str) -> str:
    time.sleep(0.5)
    return server[1].log_path.read_text()[len(before):] if server[1].log_path else ""


@pytest.mark.parametrize("payload", ["abc", 5, {}, {"path": "/etc/passwd"}, "/etc/passwd"])
def test_a_malformed_file_payload_gets_a_message(server, payload):
    """Not {"error": null} and a traceback: a message saying how to send a file; nothing read from disk."""
    log = server[1].log_path
    before = log.read_text() if log else ""
    for endpoint, data in (("analyze", [payload, 0.5, 0.0, "circular", MODEL, 0, 0]),
                           ("stability", [payload, "circular", MODEL, 1.0, 3]),
                           ("animation", [payload, "circular", MODEL, -1, 0, 0, 2.0])):
        text = raw_call(server[0], endpoint, data)
        assert "event: error" in text and "send the image as a file" in text, (endpoint, text)
        assert "passwd" not in text.replace(json.dumps(payload), "")
    assert "Traceback" not in new_log(server, before)


def test_an_unknown_endpoint_gets_a_message(server):
    log = server[1].log_path
    before = log.read_text() if log else ""
    req = urllib.request.Request(f"{server[0]}gradio_api/call/nope", json.dumps({"data": []}).encode(),
                                 {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 404 and "nope" in json.loads(e.value.read())["error"]
    assert "Traceback" not in new_log(server, before)


def test_every_endpoint_validates_the_same_way(server, client):
    """The issue's hostile values, on every endpoint that takes the setting: the same title and message."""
    log = server[1].log_path
    before = log.read_text() if log else ""
    img = handle_file(str(CAT))
    orientation = "orientation must be a whole number between 0 and 7; got 99"
    model = "model must be one of 'lscat_skip_cifar10'"
    cases = [
        ("/analyze", (img, 0.5, 0.0, "circular", MODEL, 99, 0), orientation),
        ("/animation", (img, "circular", MODEL, -1, 99, 0, 2.0), orientation),
        ("/morlet", (MODEL, 2, 99), orientation),
        ("/analyze", (img, 0.5, 0.0, "circular", MODEL, 0, 99), "channel must be a whole number between 0 and 15"),
        ("/animation", (img, "circular", MODEL, -1, 0, 99, 2.0), "channel must be a whole number between 0 and 15"),
        ("/animation", (img, "circular", MODEL, 99, 0, 0, 2.0), "block must be a whole number between -1 and 10"),
        ("/morlet", (MODEL, 99, 0), "block must be a whole number between 0 and 10"),
        ("/animation", (img, "circular", MODEL, -1, 0, 0, 9.0), "the animation's shift must be a number between"),
        ("/analyze", (img, 0.5, 0.0, "circular", "bogus", 0, 0), model),
        ("/stability", (img, "circular", "bogus", 1.0, 3), model),
        ("/invariance_curve", (img, "circular", "bogus", 1.0, 3), model),
        ("/animation", (img, "circular", "bogus", -1, 0, 0, 2.0), model),
        ("/morlet", ("bogus", 2, 0), model),
        ("/stability", (img, "circular", MODEL, 99, 3), "extent (the grid's half-width) must be a number between 0"),
        ("/invariance_curve", (img, "circular", MODEL, 1.0, "x"), "steps (shifts per axis) must be a whole number"),
        ("/stability", (img, "circular", MODEL, 1.0, 16), "steps must be odd"),
        ("/stability", (img, "reflect", MODEL, 1.0, 3), "boundary must be one of 'circular', 'zero'; got 'reflect'"),
        ("/animation", (img, "reflect", MODEL, -1, 0, 0, 2.0), "boundary must be one of 'circular', 'zero'"),
    ]
    for name, args, says in cases:
        with pytest.raises(AppError) as e:
            client.predict(*args, api_name=name)
        assert says in str(e.value), (name, args, str(e.value))
    assert "Traceback" not in new_log(server, before)


def test_every_output_has_a_distinct_name(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name, spec in api.items():
        labels = [r["label"] for r in spec["returns"]]
        assert len(set(labels)) == len(labels), (name, labels)
        assert not any(str(label).startswith(("value_", "parameter_")) for label in labels), (name, labels)


def test_validation_errors_write_one_log_line(server, client):
    log = server[1].log_path
    if log is None:
        pytest.skip("no .pytest_cache directory for the server log")
    before = log.read_text()
    refused = (({"dx": 1000.0}, "dx must be"), ({"mode": "reflect"}, "boundary"), ({"model": "resnet50"}, "model"),
               ({"k": -1}, "orientation"))
    for kw, says in refused:
        with pytest.raises(AppError, match=says):
            analyze(client, **kw)
    raw_call(server[0], "shift", ["abc", 0.0, "circular", MODEL, 0, 0])
    time.sleep(0.5)
    new = log.read_text()[len(before):]
    assert "Traceback" not in new, new
    assert len([line for line in new.splitlines() if "refused" in line]) == 5, new


def test_upload_size_is_limited(server, client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES + 1024))
    with pytest.raises(Exception, match="(?i)413|too large|size|exceeds"):
        analyze(client, big)
    assert analyze(client)[-1]["model"] == MODEL  # still answering


def test_eight_concurrent_clients(server):
    """8 clients x 20 requests, each with its own shift: no errors, memory bounded."""
    url, proc = server
    errors, done = [], []
    rss = [rss_mb(proc.pid)]

    def worker(i):
        c = Client(url, verbose=False, download_files=False)
        img = handle_file(str(CAT))
        for n in range(20):
            try:
                out = c.predict(img, round(0.1 + 0.13 * n + i, 2), 0.5, "circular", MODEL, n % 4, i % 3,
                                api_name="/analyze")
                assert len(out[-1]["blocks"]) == 8
                done.append(1)
            except Exception as e:  # collected, asserted below
                errors.append(repr(e))
            if n == 10 and i == 0:
                rss.append(rss_mb(proc.pid))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    rss.append(rss_mb(proc.pid))
    assert not errors, errors[:3]
    assert len(done) == 160
    assert max(rss) < 3000, rss  # MB: bounded caches (6 originals, 6 translated branches)
    assert rss[-1] - rss[1] < 400, rss  # no growth with the number of requests
    print(f"160 requests in {time.monotonic() - t0:.1f} s, RSS MB {rss}")


def test_still_answering_after_everything(server, client):
    assert proc_alive(server[1])
    assert analyze(client, dx=3.0)[-1]["tau"]["dx"] == 3.0


def proc_alive(proc) -> bool:
    return proc.poll() is None
