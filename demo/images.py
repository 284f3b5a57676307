"""Decoding untrusted uploads into an RGB PIL image, under limits, with a plain-words message for
every way a file can be odd (all of them are exercised in tests/test_demo_images.py)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
# (file, caption) in gallery order; sources and licences in examples/LICENSES.md.
EXAMPLES = [("cat.jpg", "cat"), ("horse.jpg", "horse (drawing)"), ("rocket.jpg", "rocket"), ("coffee.jpg", "coffee"),
            ("astronaut.jpg", "astronaut"), ("grass.jpg", "grass"), ("gravel.jpg", "gravel"), ("brick.jpg", "brick")]
MAX_BYTES = 10 * 1024 * 1024  # also passed to gradio's launch(max_file_size=...)
MAX_PIXELS = 40_000_000  # width x height, checked from the header before decoding
MIN_SIDE = 8
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "PPM")  # JPEG covers MPO too
EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm"]

# PIL's own bomb guard (DecompressionBombError above twice this) backs up the header check.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
Image.init()  # register every plugin, so that ``formats=FORMATS`` knows them all
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(ValueError):
    """An upload that cannot be analysed; the message is meant for the user."""


def _to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 65535.0
            notes.append("16-bit image: scaled to 8 bits.")
        else:
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
            notes.append(f"{'32-bit integer' if mode == 'I' else 'floating-point'} image: rescaled to 8 bits.")
        g = Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8), "L")
        notes.append("Grayscale image: copied to the three colour channels.")
        return g.convert("RGB")
    if mode in ("1", "L"):
        notes.append("Grayscale image: copied to the three colour channels.")
        return im.convert("RGB")
    if mode == "CMYK":
        notes.append("CMYK image: converted to RGB.")
        return im.convert("RGB")
    if mode in ("P", "PA", "LA", "RGBA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        if rgba.getchannel("A").getextrema() != (255, 255):
            notes.append("Transparent image: composited on white.")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    notes.append(f"{mode} image: converted to RGB.")
    return im.convert("RGB")


def load_image(path: str | os.PathLike, target: int = 320) -> tuple[Image.Image, list[str]]:
    """Open an uploaded file as an upright RGB image no larger than needed.

    ``target``: the caller needs at least this many pixels on the shorter side; large JPEGs are
    decoded at a reduced scale. Returns (image, notes); raises :class:`ImageError`."""
    notes: list[str] = []
    try:
        size = os.path.getsize(path)
    except OSError:
        raise ImageError("The uploaded file could not be read. Please upload it again.") from None
    if size == 0:
        raise ImageError("The file is empty.")
    if size > MAX_BYTES:
        raise ImageError(too_large(size))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path, formats=FORMATS)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise ImageError(f"The image is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels); the limit is "
                                 f"{MAX_PIXELS / 1e6:.0f} megapixels.")
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                im.seek(0)
                notes.append(f"Animated image: using the first of its {frames} frames.")
            if im.format in ("JPEG", "MPO") and min(w, h) > 2 * target:
                im.draft("RGB", (max(target, w * target // min(w, h)), max(target, h * target // min(w, h))))
            im.load()
            im = _upright(im, notes)
            im = _to_rgb(im, notes)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("This file is not an image the demo can read (JPEG, PNG, WebP, GIF, BMP or TIFF).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"The image is too large to decode safely (limit {MAX_PIXELS / 1e6:.0f} megapixels).") \
            from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, struct_error()) as e:
        raise ImageError(f"The image file is truncated or corrupt ({type(e).__name__}).") from None
    if min(im.size) < MIN_SIDE:
        raise ImageError(f"The image is {im.size[0]}x{im.size[1]} pixels; the demo needs at least "
                         f"{MIN_SIDE}x{MIN_SIDE}.")
    return im, notes


def too_large(size: int) -> str:
    return f"The file is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB."


def refused_in_browser(name: str, size) -> str:
    """Why the browser refused a file before sending it (gradio checks the type and the size on the page, so the
    server sees only the name and the size): the same limits and words as :func:`load_image`."""
    ext = os.path.splitext(name)[1].lower()
    if ext not in EXTENSIONS:
        what = f"A {ext} file" if ext else "A file without an extension"
        return f"{what} is not an image the demo can read (JPEG, PNG, WebP, GIF, BMP or TIFF)."
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > MAX_BYTES:
        return too_large(int(size))
    return "The browser did not send the file."


def _upright(im: Image.Image, notes: list[str]) -> Image.Image:
    """Apply the EXIF orientation tag (a broken EXIF block is not worth failing for)."""
    try:
        orientation = im.getexif().get(0x0112)
    except Exception:
        return im
    if orientation in (None, 1):
        return im
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:
        notes.append("The photo's EXIF orientation tag could not be applied; shown as stored.")
        return im
    notes.append("Rotated upright according to the photo's EXIF orientation.")
    return im


def struct_error():
    import struct

    return struct.error


def example_path(name: str) -> str:
    return str(EXAMPLES_DIR / name)
