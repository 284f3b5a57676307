"""demo/images.py: every odd upload is either decoded to an upright RGB image with a note, or
refused with a plain-words message (never a crash)."""

import numpy as np
import pytest
from _demo_support import ACCEPTED, REFUSED, make_files
from PIL import Image

from demo.images import MAX_BYTES, ImageError, load_image


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("odd"))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_a_clear_message(files, name):
    with pytest.raises(ImageError, match=REFUSED[name][1]):
        load_image(files[name])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_as_rgb_with_a_note(files, name):
    img, notes = load_image(files[name])
    assert img.mode == "RGB" and min(img.size) >= 8
    if ACCEPTED[name][1]:
        assert any(ACCEPTED[name][1] in n for n in notes), notes


def test_exif_rotation_and_sixteen_bit_values(files):
    img, _ = load_image(files["exif_rotated"])
    assert img.size == (48, 64)  # stored 64 wide x 48 high, orientation 6: displayed portrait
    img, _ = load_image(files["sixteen_bit"])
    a = np.asarray(img)[..., 0].astype(int)
    assert a[:, 0].max() < 10 and a[:, -1].min() > 245  # the full 16-bit ramp, not clipped to white
    img, _ = load_image(files["animated"])
    assert np.asarray(img)[0, 0].tolist() == [255, 0, 0]  # the first frame


def test_too_many_bytes(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (MAX_BYTES + 1))
    with pytest.raises(ImageError, match="limit is 10 MB"):
        load_image(big)
    with pytest.raises(ImageError, match="could not be read"):
        load_image(tmp_path / "missing.png")


def test_large_jpeg_is_decoded_reduced(tmp_path):
    p = tmp_path / "large.jpg"
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(p, quality=80)
    img, notes = load_image(p, target=160)
    assert not notes and 160 <= min(img.size) < 3000
