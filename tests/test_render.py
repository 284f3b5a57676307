"""demo.render: colour maps, tiles and strips (presentation, but what the user looks at)."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from demo.draw import render


def test_lookup_table_matches_the_exact_colour_map():
    t = np.random.default_rng(0).uniform(-0.2, 1.2, size=5000)  # out of range values saturate
    for stops in (render.SEQUENTIAL, render.DIVERGING):
        assert np.abs(render._ramp(stops, t) - render._interp(stops, t)).max() <= 1.0


def test_colour_map_end_points_and_nan():
    assert render.modulus_rgb(np.array([0.0]), 1.0)[0] == pytest.approx([255, 255, 255])
    assert render.modulus_rgb(np.array([5.0]), 1.0)[0] == pytest.approx(render._hex("#08306b"))  # saturates
    assert render.signed_rgb(np.array([0.0]), 1.0)[0] == pytest.approx([255, 255, 255])
    neg, pos = render.signed_rgb(np.array([-0.5, 0.5]), 1.0)
    assert neg == pytest.approx(render._hex(render.ORANGE)) and pos == pytest.approx(render._hex(render.BLUE))
    assert np.isfinite(render.modulus_rgb(np.array([np.nan]), 1.0)).all()


def test_phase_colours_hue_is_phase_and_brightness_is_modulus():
    z = np.array([1.0 + 0j, -1.0 + 0j, 0.5 + 0j, 0j])
    rgb = render.phase_rgb(z, 1.0)
    assert rgb[3] == pytest.approx([0, 0, 0])                 # no modulus: black
    assert rgb[2] == pytest.approx(rgb[0] * 0.5)             # half the modulus: half the brightness
    assert not np.allclose(rgb[0], rgb[1])                    # opposite phases: other hues
    assert rgb.max() <= 255 and rgb.min() >= 0


@pytest.mark.parametrize("h,size", [(5, 80), (10, 80), (7, 72), (160, 80), (80, 80), (3, 8)])
def test_tile_is_a_nearest_neighbour_resize(h, size):
    rgb = np.random.default_rng(h).uniform(0, 255, size=(h, h, 3))
    out = render.tile(rgb, size)
    idx = np.arange(size) * h // size
    expected = np.clip(np.round(rgb), 0, 255).astype(np.uint8)[idx][:, idx]
    assert out.dtype == np.uint8 and out.shape == (size, size, 3)
    np.testing.assert_array_equal(out, expected)


def test_strip_decodes_to_the_tiles_with_white_gaps():
    tiles = [np.full((4, 4, 3), v, dtype=np.float64) for v in (0.0, 128.0, 255.0)]
    strip = render.stack([render.tile(t, 16) for t in tiles], gap=4)
    assert strip.shape == (3 * 16 + 2 * 4, 16, 3) and strip.dtype == np.uint8
    assert (strip[16:20] == 255).all() and (strip[:16] == 0).all()
    uri = render.jpeg_uri(strip)
    assert uri.startswith("data:image/jpeg;base64,")
    jpg = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert jpg.size == (16, 56) and jpg.mode == "RGB"
    back = np.asarray(jpg).astype(int)
    assert np.abs(back - strip.astype(int)).mean() < 2  # full-chroma JPEG: close to the tiles


def test_webp_tiles_lossless_when_small_and_close_when_lossy():
    noise = np.random.default_rng(1).integers(0, 255, size=(16, 16, 3)).astype(np.uint8)
    ramp = np.stack([*np.meshgrid(np.linspace(0, 255, 64), np.linspace(255, 0, 64)), np.full((64, 64), 128.0)], -1)
    for rgb, lossless, tol in ((noise, True, 0), (ramp.astype(np.uint8), False, 3)):
        uri = render.webp_uri(rgb, lossless=lossless)
        assert uri.startswith("data:image/webp;base64,")
        back = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")).astype(int)
        assert back.shape == rgb.shape and np.abs(back - rgb).mean() <= tol


def test_css_ramp_is_the_colour_map():
    assert render.css_ramp(render.SEQUENTIAL) == "linear-gradient(to right, #ffffff 0%, #9ecae1 35%, #2f78b7 70%, " \
                                                 "#08306b 100%)"
