"""Shared by the demo tests: odd image files, and a launched `python app.py` on a free port."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CAT = ROOT / "demo" / "examples" / "cat.jpg"

# name -> (file name, substring of the error message) for files the demo must refuse, and
# name -> (file name, substring of a note) for files it must accept with a note.
REFUSED = {
    "not_an_image": ("notes.jpg", "not an image"),
    "truncated": ("truncated.jpg", "truncated or corrupt"),
    "corrupt": ("corrupt.png", "truncated or corrupt"),
    "bomb": ("bomb.png", "megapixels"),
    "one_pixel": ("one.png", "at least 8x8"),
    "empty": ("empty.png", "empty"),
}
ACCEPTED = {
    "grayscale": ("gray.png", "Grayscale"),
    "rgba": ("rgba.png", "Transparent"),
    "sixteen_bit": ("gray16.png", "16-bit"),
    "cmyk": ("cmyk.jpg", "CMYK"),
    "animated": ("animated.gif", "first of its 3 frames"),
    "exif_rotated": ("rotated.jpg", "EXIF orientation"),
    "palette": ("palette.png", None),
}


def make_files(d: Path) -> dict[str, Path]:
    """Write every odd file into ``d``; returns name -> path."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), "RGB")
    p = {}

    def path(name):
        p[name] = d / (REFUSED.get(name) or ACCEPTED.get(name))[0]
        return p[name]

    path("not_an_image").write_text("this is plain text, not a picture\n" * 20)
    buf = io.BytesIO()
    Image.open(CAT).save(buf, "JPEG")
    path("truncated").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    raw = bytearray(buf.getvalue())
    raw[60:] = bytes(rng.integers(0, 255, len(raw) - 60, dtype=np.uint8))  # keep the header, garble the data
    path("corrupt").write_bytes(bytes(raw))
    Image.new("1", (9000, 9000)).save(path("bomb"), "PNG")  # 81 megapixels in a few kB
    Image.new("RGB", (1, 1), (200, 10, 10)).save(path("one_pixel"))
    path("empty").write_bytes(b"")
    rgb.convert("L").save(path("grayscale"))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    rgba.save(path("rgba"))
    ramp = (np.linspace(0, 65535, 64)[None, :] * np.ones((48, 1))).astype(np.uint16)
    Image.fromarray(ramp).save(path("sixteen_bit"))
    rgb.convert("CMYK").save(path("cmyk"), "JPEG")
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(path("animated"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rgb.save(path("exif_rotated"), "JPEG", exif=exif)
    rgb.convert("P", palette=Image.Palette.ADAPTIVE).save(path("palette"))
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    total = 0
    for p in [pid] + _children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


@contextmanager
def launched_app(env: dict | None = None, timeout: float = 180):
    """``python app.py`` on a free port (GRADIO_SERVER_NAME/PORT); yields (url, process)."""
    port = free_port()
    full_env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    log_path = ROOT / ".pytest_cache" / f"app-{port}.log"
    log = open(log_path, "w") if log_path.parent.is_dir() else None
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    proc.log_path = log_path if log else None  # the server's log (tests read it)
    url = f"http://127.0.0.1:{port}/"
    try:
        end = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError("app.py did not answer in time")
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            log.close()
