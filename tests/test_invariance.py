"""Translation invariance at a glance (core/invariance.py, demo/invariance.py): the stability map over a
grid of sub-pixel shifts, the per-block curve, the side-by-side ResNet-18 when its weights are shipped,
the translation GIF, and the endpoints' input validation."""

import json
import math
import re

import numpy as np
import pytest
import torch
from PIL import Image

from core import weights as pretrained
from core.analysis.explain import feature_change
from core.analysis.invariance import StabilityMap, default_workers, stability_map
from core.analysis.phases import compare_blocks, wavelet_padding
from core.analysis.shifts import shift_grid, shift_offsets, translate, translate_batch
from core.models import build_model, kind

CAT = "demo/examples/cat.jpg"

# --------------------------------------------------------------------------------------------
# The grid and the translates
# --------------------------------------------------------------------------------------------


def test_default_grid_is_17_by_17_quarter_pixels():
    o = shift_offsets()
    assert len(o) == 17 and o[0] == -2 and o[-1] == 2 and o[8] == 0
    assert np.allclose(np.diff(o), 0.25, atol=1e-15)
    g = shift_grid(o)
    assert g.shape == (289, 2)
    assert g[0].tolist() == [-2, -2] and g[1].tolist() == [-2, -1.75] and g[17].tolist() == [-1.75, -2]  # (dy, dx)
    assert shift_offsets(1.0, 5) == [-1.0, -0.5, 0.0, 0.5, 1.0]


@pytest.mark.parametrize("extent, steps, error", [
    (2.0, 16, ValueError), (2.0, 1, ValueError), (2.0, 35, ValueError), (0.0, 17, ValueError),
    (-1.0, 17, ValueError), (float("nan"), 17, ValueError), (100.0, 17, ValueError), (2.0, 17.0, TypeError),
    (2.0, True, TypeError)])
def test_bad_grids_are_refused(extent, steps, error):
    with pytest.raises(error):
        shift_offsets(extent, steps)


@pytest.mark.parametrize("mode", ["circular", "zero"])
def test_translate_batch_is_translate_for_every_shift(mode):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 12, 10, generator=g)
    taus = torch.tensor([[0, 0], [0.25, -1.75], [-2, 2], [1, 0], [0.5, 0.5], [-0.75, 3.5]], dtype=torch.float64)
    ys = translate_batch(x, taus, mode)
    assert ys.shape == (6, 3, 12, 10) and ys.dtype == x.dtype
    for tau, y in zip(taus.tolist(), ys):
        assert torch.allclose(y, translate(x, tuple(tau), mode)[0], atol=1e-6)
    with pytest.raises(ValueError, match="boundary mode"):
        translate_batch(x, taus, "reflect")


# --------------------------------------------------------------------------------------------
# The stability map
# --------------------------------------------------------------------------------------------


class SpectrumModel(torch.nn.Module):
    """Logits from the modulus of the image's 2-D spectrum: exactly invariant to circular (Fourier)
    translations of an odd-sized image (no Nyquist bin: the shifted image's spectrum is the
    original's times a unit-modulus ramp)."""

    def __init__(self, c: int, h: int, w: int, classes: int = 5):
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(c * h * w, classes)

    def forward(self, x):
        return self.fc(torch.fft.fft2(x.double()).abs().flatten(1).float())


class Recorder(torch.nn.Module):
    """A logits-only model that keeps every image it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []
        self.fc = torch.nn.Linear(3, 4)

    def forward(self, x):
        self.seen.append(x.clone())
        return self.fc(x.mean((-2, -1)))


def test_map_of_a_circularly_invariant_model_is_flat():
    x = torch.randn(1, 3, 15, 15, generator=torch.Generator().manual_seed(1))
    model = SpectrumModel(3, 15, 15).eval()
    assert kind(model) == "logits"
    sm = stability_map(model, x)
    assert sm.probs.shape == (17, 17) and sm.stable_fraction == 1.0
    lo, hi = sm.prob_range
    assert hi - lo < 1e-5 and abs(sm.reference_prob - lo) < 1e-5
    assert (sm.top == sm.reference_class).all() and sm.changes() == []
    assert sm.block_errors is None and sm.curve is None and sm.measure is None
    # the same model is not invariant to zero-padded shifts: the map is not flat (the test can fail)
    zero = stability_map(model, x, mode="zero")
    assert np.ptp(zero.probs) > 1e-3


def test_the_map_runs_the_grid_the_caption_states():
    from demo.invariance.text import grid_text

    x = torch.randn(1, 3, 9, 9, generator=torch.Generator().manual_seed(2))
    rec = Recorder().eval()
    sm = stability_map(rec, x, shift_offsets(), "circular", chunk=50, workers=1)  # one thread: in order
    seen = torch.cat(rec.seen)
    assert [len(s) for s in rec.seen] == [50] * 5 + [40]  # 290 images: the unshifted one first
    assert torch.equal(seen[0], x[0])
    taus = shift_grid(sm.offsets)
    for i in (0, 1, 16, 17, 144, 200, 288):
        assert torch.allclose(seen[1 + i], translate(x, tuple(taus[i].tolist()))[0], atol=1e-6)
    # the caption: "17 × 17 = 289 shifts: dx and dy each in {−2, −1.75, …, 2} px (step 0.25 px, sub-pixel), ..."
    text = grid_text(sm).replace("−", "-")
    m = re.search(r"(\d+) × (\d+) = (\d+) shifts: dx and dy each in \{(\S+), (\S+), …, (\S+)\} px \(step (\S+) px",
                  text)
    assert m, text
    n, n2, total, first, second, last, step = m.groups()
    assert int(n) == int(n2) == sm.steps == 17 and int(total) == taus.shape[0] == 289
    assert [float(first), float(second), float(last)] == [sm.offsets[0], sm.offsets[1], sm.offsets[-1]]
    assert float(step) == sm.step == 0.25
    assert "circular Fourier shift" in text
    assert "zero-padded" in grid_text(stability_map(rec, x, shift_offsets(1, 3), "zero"))


def test_chunks_and_progress_do_not_change_the_map():
    x = torch.randn(1, 3, 15, 15, generator=torch.Generator().manual_seed(3))
    model = SpectrumModel(3, 15, 15).eval()
    calls = []
    a = stability_map(model, x, shift_offsets(1.5, 7), progress=lambda d, t: calls.append((d, t)))
    b = stability_map(model, x, shift_offsets(1.5, 7), chunk=1)
    assert np.allclose(a.probs, b.probs, atol=1e-6) and (a.top == b.top).all()
    assert calls[0] == (0, 49) and calls[-1] == (49, 49) and all(p[0] <= q[0] for p, q in zip(calls, calls[1:]))


@pytest.mark.parametrize("mode", ["circular", "zero"])
def test_parallel_chunks_give_the_same_map(tiny_lscat, mode):
    """Chunks computed two or three at a time, in threads, give the map and the block errors of the
    one-at-a-time pass, and leave the wavelets' padding as it was."""
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    one = stability_map(tiny_lscat, x, shift_offsets(1.0, 5), mode, chunk=4, workers=1)
    paddings = [m.padding for m in tiny_lscat.modules() if hasattr(m, "padding") and isinstance(m.padding, str)]
    for workers in (2, 3):
        calls: list[int] = []
        par = stability_map(tiny_lscat, x, shift_offsets(1.0, 5), mode, chunk=4, workers=workers,
                            progress=lambda d, t, calls=calls: calls.append(d))
        assert par.reference_class == one.reference_class and (par.top == one.top).all()
        assert np.allclose(par.probs, one.probs, atol=1e-6)
        assert np.allclose(par.block_errors, one.block_errors, rtol=1e-5, atol=1e-7)
        assert calls[0] == 0 and calls[-1] == 25 and calls == sorted(calls)
        assert len(calls) == 2 + math.ceil(math.ceil((25 - 3) / 4) / workers)  # 0, the first chunk, each group
    assert [m.padding for m in tiny_lscat.modules() if hasattr(m, "padding") and isinstance(m.padding, str)] == paddings
    with pytest.raises(ValueError, match="workers must be >= 1"):
        stability_map(tiny_lscat, x, shift_offsets(1.0, 3), workers=0)


def test_default_workers_share_the_cores_out():
    assert default_workers(threads=1, cores=2) == 2  # the app on 2 cores: one torch thread per chunk
    assert default_workers(threads=2, cores=2) == 1
    assert default_workers(threads=8, cores=16) == 2 and default_workers(threads=1, cores=64) == 4
    assert default_workers(threads=4, cores=1) == 1


class TwoClass(torch.nn.Module):
    """Class 0 when the image's left half is brighter, class 1 otherwise: its top class flips for
    some shifts of a two-tone image."""

    def forward(self, x):
        left, right = x[..., : x.shape[-1] // 2].mean((1, 2, 3)), x[..., x.shape[-1] // 2:].mean((1, 2, 3))
        return torch.stack([left - right, right - left], 1) * 5


def test_changes_are_the_shifts_where_the_top_class_differs():
    x = torch.zeros(1, 1, 8, 8)
    x[..., 1:4] = 1  # a bright band left of the middle: shifted right by 2 px, most of it is on the right
    sm = stability_map(TwoClass(), x, shift_offsets(2.0, 5), "zero")
    assert sm.reference_class == 0
    changes = sm.changes()
    assert [(c["dy"], c["dx"], c["class"]) for c in changes] == [(dy, 2.0, 1) for dy in (-2.0, -1.0, 0.0, 1.0, 2.0)]
    assert sm.stable_fraction == pytest.approx(1 - len(changes) / 25)
    d = sm.to_dict(("left", "right"))
    assert d["reference_class"] == "left" and d["changes"][0]["class"] == "right" and d["shifts"] == 25
    json.dumps(d, allow_nan=False)


@pytest.fixture(scope="module")
def tiny_lscat():
    torch.manual_seed(0)
    return build_model("lscat_skip_cifar10", widths=(4,) * 8).eval().requires_grad_(False)


@pytest.mark.parametrize("mode", ["circular", "zero"])
def test_block_errors_are_compare_blocks_modulus_errors(tiny_lscat, mode):
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    sm = stability_map(tiny_lscat, x, shift_offsets(1.0, 5), mode)
    assert sm.measure == "modulus" and sm.block_errors.shape == (5, 5, 8)
    assert sm.block_scales == [1, 2, 2, 4, 4, 8, 8, 16]
    assert np.all(sm.block_errors[2, 2] < 1e-5)  # the shift 0
    padding = "circular" if mode == "circular" else "reflect"
    for i, j in ((0, 4), (1, 2), (3, 3)):
        tau = (sm.offsets[i], sm.offsets[j])
        with torch.inference_mode(), wavelet_padding(tiny_lscat, padding):
            _, a = tiny_lscat.forward_intermediates(x, keys=("wavelet", "modulus", "input"))
            _, b = tiny_lscat.forward_intermediates(translate(x, tau, mode), keys=("wavelet",))
        expected = [r["modulus_error_all"] for r in compare_blocks(a, b, tau)]
        assert np.allclose(sm.block_errors[i, j], expected, rtol=1e-4, atol=1e-6)
    # the curve averages the non-zero shifts only
    nonzero = [sm.block_errors[i, j] for i in range(5) for j in range(5) if (i, j) != (2, 2)]
    assert np.allclose(sm.curve, np.mean(nonzero, 0))


def test_whole_pixel_circular_shifts_roll_the_moduli(tiny_lscat):
    """A circular shift by a multiple of a block's grid (and of every grid before it) moves its maps
    by whole pixels: the shifted image's moduli are the original's, rolled, so the block's error is
    that of the rolled moduli against the original ones."""
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    sm = stability_map(tiny_lscat, x, shift_offsets(8.0, 3), "circular")
    with torch.inference_mode(), wavelet_padding(tiny_lscat, "circular"):
        _, inter = tiny_lscat.forward_intermediates(x, keys=("modulus",))
    # offsets -8, 0, 8 px: whole pixels on the output grids of blocks 0-6 (1 to 8 px); block 7's is 16 px
    for (i, j), (dy, dx) in {(1, 0): (0, -8), (0, 2): (-8, 8)}.items():
        for b, s in enumerate(sm.block_scales[:7]):
            m = inter[b]["modulus"][0]
            rolled = torch.roll(m, (dy // s, dx // s), dims=(-2, -1))
            expected = float((rolled - m).norm() / m.norm())
            assert sm.block_errors[i, j, b] == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_resnet_block_errors_are_feature_change():
    torch.manual_seed(0)
    model = build_model("resnet18_cifar10").eval().requires_grad_(False)
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    sm = stability_map(model, x, shift_offsets(1.0, 3), "circular")
    assert kind(model) == "features" and sm.measure == "feature" and sm.block_errors.shape == (3, 3, 5)
    assert sm.block_scales == [1, 1, 2, 4, 8]
    tau = (sm.offsets[0], sm.offsets[2])
    with torch.inference_mode():
        _, a = model.forward_intermediates(x)
        _, b = model.forward_intermediates(translate(x, tau))
    assert np.allclose(sm.block_errors[0, 2], feature_change(a, b), rtol=1e-4)


def test_dataclass_properties():
    probs = np.array([[0.2, 0.5, 0.9], [0.4, 0.8, 0.6], [0.1, 0.3, 0.7]])
    top = np.array([[1, 0, 0], [0, 0, 0], [2, 1, 0]])
    sm = StabilityMap([-1.0, 0.0, 1.0], "circular", 0, 0.8, probs, top, probs)
    assert sm.stable_fraction == pytest.approx(6 / 9) and sm.prob_range == (0.1, 0.9)
    assert sm.step == 1.0 and sm.extent == 1.0
    assert [(c["dy"], c["dx"], c["class"]) for c in sm.changes()] == [(-1.0, -1.0, 1), (1.0, -1.0, 2), (1.0, 0.0, 1)]


# --------------------------------------------------------------------------------------------
# The demo view: alone, and beside a shipped ResNet-18
# --------------------------------------------------------------------------------------------


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A temporary pretrained directory (core.weights.PRETRAINED_DIR, i.e. PHASE_COLLAPSE_PRETRAINED)
    with a tiny LScat+skip CIFAR-10 model; ``weights.resnet()`` adds a ResNet-18 baseline."""
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(0)
    pretrained.save(build_model("lscat_skip_cifar10", widths=(4,) * 8), "lscat_skip_cifar10",
                    {"build": {"widths": [4] * 8}, "top1": 0.5})

    class W:
        path = tmp_path

        @staticmethod
        def resnet():
            torch.manual_seed(0)
            pretrained.save(build_model("resnet18_cifar10"), "resnet18_cifar10", {"top1": 0.925}, half=True)

    return W


def _app_parts():
    from demo.compute.pipeline import Pipeline
    from demo.models.store import ModelStore

    store = ModelStore()
    return store, Pipeline(store)


def test_view_without_a_baseline(weights):
    from demo.invariance import maps
    from demo.models.catalog import models_for

    store, pipe = _app_parts()
    assert models_for("lscat_skip_cifar10") == ["lscat_skip_cifar10"]
    seen = []
    fig, text, curve, numbers = maps.stability_view(store, pipe, CAT, "lscat_skip_cifar10", "circular", 1.0, 5,
                                                          progress=lambda p, desc=None, unit=None: seen.append(p))
    heat = [d for d in fig["data"] if d["type"] == "heatmap"]
    assert len(heat) == 1 and len(heat[0]["z"]) == 5 and heat[0]["x"] == [-1, -0.5, 0, 0.5, 1]
    assert "5 × 5 = 25 shifts" in text and "test accuracy 50.0%" in text and "No ResNet-18 baseline" in text
    assert re.search(r"kept at \d+ of 25 shifts \(\*\*\d+\.\d%\*\*\); its probability \d\.\d\d–\d\.\d\d", text)
    assert len(curve["data"]) == 1 and len(curve["data"][0]["y"]) == 8
    assert seen[0] == (0, 25) and seen[-1] == (25, 25)
    assert numbers["models"][0]["weights"] == "lscat_skip_cifar10" and len(numbers["models"][0]["probs"]) == 5
    json.dumps([fig, curve, numbers], allow_nan=False)
    # cached: a second call computes nothing
    seen.clear()
    maps.stability_view(store, pipe, CAT, "lscat_skip_cifar10", "circular", 1.0, 5,
                              progress=lambda p, desc=None, unit=None: seen.append(p))
    assert seen == []


def test_view_beside_a_shipped_resnet(weights):
    from demo.handlers.invariance import curve_endpoint
    from demo.invariance import maps
    from demo.models.catalog import models_for, offered

    weights.resnet()
    assert "resnet18_cifar10" in offered()
    store, pipe = _app_parts()
    for key in ("lscat_skip_cifar10", "resnet18_cifar10"):  # either model selected: both drawn, LScat first
        assert models_for(key) == ["lscat_skip_cifar10", "resnet18_cifar10"]
    fig, text, curve, numbers = maps.stability_view(store, pipe, CAT, "resnet18_cifar10", "zero", 1.0, 3)
    assert len([d for d in fig["data"] if d["type"] == "heatmap"]) == 2
    assert {"xaxis2", "yaxis2"} <= set(fig["layout"])
    # the caption names both test accuracies, from the cards, and warns against reading a gap as invariance
    assert "test accuracy 50.0%" in text and "test accuracy 92.5%" in text
    assert "A gap in accuracy is not a gap in invariance" in text
    assert [len(d["y"]) for d in curve["data"]] == [8, 5]
    assert [m["model"] for m in numbers["models"]] == ["lscat_skip_cifar10", "resnet18_cifar10"]
    assert numbers["models"][1]["measure"] == "feature" and numbers["models"][1]["test_accuracy"] == 0.925
    _, caption, curves = curve_endpoint(store, pipe, CAT, "zero", "lscat_skip_cifar10", 1.0, 3)
    assert "ResNet-18" in caption and [m["model"] for m in curves["models"]] == ["lscat_skip_cifar10",
                                                                                   "resnet18_cifar10"]


# --------------------------------------------------------------------------------------------
# The endpoints validate their inputs as `analyze` does
# --------------------------------------------------------------------------------------------


def test_endpoints_validate_inputs(weights, tmp_path):
    import gradio as gr

    from demo.compute.lanes import Lanes
    from demo.handlers import invariance
    from demo.handlers.invariance import Invariance

    store, pipe = _app_parts()
    handler = Invariance(store, pipe, Lanes())
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image\n" * 10)
    cases = [
        ((CAT, "circular", "resnet18_cifar10"), "Invalid input", "model must be one of 'lscat_skip_cifar10'"),
        ((CAT, "circular", "nope"), "Invalid input", "got 'nope'"),
        ((CAT, "reflect", "lscat_skip_cifar10"), "Invalid input", "boundary must be one of 'circular', 'zero'"),
        ((None, "circular", "lscat_skip_cifar10"), "Invalid input", "No image"),
        (("", "circular", "lscat_skip_cifar10"), "Invalid input", "No image"),
        ((str(bad), "circular", "lscat_skip_cifar10"), "Cannot use this image", "not an image"),
        ((str(tmp_path / "gone.png"), "circular", "lscat_skip_cifar10"), "Cannot use this image", "no longer"),
    ]
    for fn in (handler.stability, handler.invariance_curve, handler.animation):
        for args, title, text in cases:
            with pytest.raises(gr.Error) as e:
                fn(*args)
            assert e.value.title == title and text in e.value.message, (fn.__name__, args, e.value.message)
    for extent, steps in ((2, 16), (0, 17), (9, 17), ("x", 17), (2, 17.5), (2, None)):
        with pytest.raises(gr.Error) as e:
            handler.stability(CAT, "circular", "lscat_skip_cifar10", extent, steps, None)
        assert e.value.title == "Invalid input"
    for kw in ({"max_shift": 0}, {"max_shift": 9}, {"max_shift": float("nan")}, {"orientation": -1},
               {"block": "x"}):
        with pytest.raises(gr.Error) as e:
            handler.animation(CAT, "circular", "lscat_skip_cifar10", **kw)
        assert e.value.title == "Invalid input"
    # a slider's float 17.0 is a valid count
    plot, text, numbers = invariance.stability_endpoint(store, pipe, CAT, "circular", "lscat_skip_cifar10", 0.5, 3.0)
    assert numbers["models"][0]["grid"]["steps"] == 3 and "3 × 3 = 9 shifts" in text
    assert json.loads(plot.plot)["data"][0]["type"] == "heatmap"


# --------------------------------------------------------------------------------------------
# The translation played
# --------------------------------------------------------------------------------------------


def test_animation_gif_plays_phases_turning(weights, tmp_path):
    from demo.invariance import animation as invariance

    store, pipe = _app_parts()
    gif, caption, numbers = invariance.animation(store, pipe, CAT, "lscat_skip_cifar10", "circular", block=3, k=0,
                                                 max_shift=4.0, frames=9, directory=tmp_path / "gifs")
    im = Image.open(gif)
    assert im.format == "GIF" and im.n_frames == 2 * 9 - 2 and im.info["loop"] == 0 and im.info["duration"] == 70
    frames = numbers["frames"]
    assert [f["dx"] for f in frames] == pytest.approx([0.5 * i for i in range(9)]) and numbers["block"] == 3
    assert frames[0]["coefficient_change"] < 1e-5 and frames[0]["modulus_change"] < 1e-5
    dm = store.get("lscat_skip_cifar10")
    info = dm.model.block_info[3]
    xi = info.xi_block[0].tolist()
    for f in frames:  # predicted phase turn -xi . tau, tau in the block input's pixels
        p = -(xi[0] * f["dy"] + xi[1] * f["dx"]) / info.scale
        assert math.isclose(math.remainder(f["predicted_phase"] - p, 2 * math.pi), 0, abs_tol=1e-6)
    # the moduli change less than the coefficients: the phase carries the translation
    assert all(f["modulus_change"] < f["coefficient_change"] for f in frames[1:])
    assert "block 3" in caption and "dx from 0 to 4 px in 9 frames" in caption
    # the ResNet's selection animates its LScat+skip pair; cached per settings
    weights.resnet()
    g2, _, n2 = invariance.animation(store, pipe, CAT, "resnet18_cifar10", "circular", block=3, k=0, max_shift=4.0,
                                     frames=9, directory=tmp_path / "gifs")
    assert n2["model"] == "lscat_skip_cifar10" and g2 == gif
    # default block: deepest with >= 8 px maps, block pixel <= the shift, input not just subsampled
    assert invariance.default_block(dm, 4.0) == 3 and invariance.default_block(dm, 1.0) == 1


def test_forty_animations_stay_within_the_disk_bound(weights, tmp_path, monkeypatch):
    """40 distinct animations: at most GIF_KEEP files and GIF_BYTES bytes stay, the newest, each written once."""
    from demo.invariance import animation as anim

    store, pipe = _app_parts()
    d = tmp_path / "gifs"
    made = []
    for i in range(40):
        gif, _, _ = anim.animation(store, pipe, CAT, "lscat_skip_cifar10", "circular", block=1, k=0,
                                   max_shift=0.1 * (i + 1), frames=3, directory=d)
        made.append(gif)
    files = sorted(d.iterdir())
    assert len(files) == anim.GIF_KEEP and set(files) == set(made[-anim.GIF_KEEP:])
    assert sum(f.stat().st_size for f in files) <= anim.GIF_BYTES
    assert not list(d.glob("*.tmp"))
    # the size bound: a few GIFs' worth of bytes keeps only the newest few
    size = made[-1].stat().st_size
    monkeypatch.setattr(anim, "GIF_BYTES", int(3.5 * size))
    gif, _, _ = anim.animation(store, pipe, CAT, "lscat_skip_cifar10", "circular", block=1, k=0, max_shift=7.5,
                               frames=3, directory=d)
    assert 1 <= len(list(d.iterdir())) <= 3 and gif.is_file()


def test_write_gif_bounces_and_loops(tmp_path):
    from demo.invariance.animation import write_gif

    frames = [Image.new("RGB", (8, 8), (40 * i, 0, 0)) for i in range(4)]
    p = write_gif(frames, tmp_path / "a" / "t.gif", duration_ms=50)
    im = Image.open(p)
    assert im.n_frames == 6 and im.info["loop"] == 0
    reds = []
    for i in range(im.n_frames):
        im.seek(i)
        reds.append(im.convert("RGB").getpixel((0, 0))[0])
    assert reds == [0, 40, 80, 120, 80, 40]
    assert list((tmp_path / "a").iterdir()) == [p]  # no temporary file left


# --------------------------------------------------------------------------------------------
# The served app: the named endpoints, and the browser opens the view
# --------------------------------------------------------------------------------------------


url_uploads = {}  # served app -> its gradio upload folder


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`python app.py` with a temporary weights directory (PHASE_COLLAPSE_PRETRAINED): the tiny LScat+skip
    CIFAR-10 model and a ResNet-18 baseline, so that both maps are drawn side by side."""
    from _demo_support import launched_app

    d = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    pretrained.save(build_model("lscat_skip_cifar10", widths=(4,) * 8), "lscat_skip_cifar10",
                    {"build": {"widths": [4] * 8}, "top1": 0.5}, directory=d)
    pretrained.save(build_model("resnet18_cifar10"), "resnet18_cifar10", {"top1": 0.925}, half=True, directory=d)
    uploads = tmp_path_factory.mktemp("uploads")
    with launched_app({"PHASE_COLLAPSE_PRETRAINED": str(d), "GRADIO_TEMP_DIR": str(uploads)}) as (url, _):
        url_uploads[url] = uploads
        yield url


@pytest.mark.slow
def test_named_endpoints(served, tmp_path):
    from gradio_client import Client, handle_file

    c = Client(served, verbose=False)
    names = set(c.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/stability", "/invariance_curve", "/animation"} <= names
    plot, text, numbers = c.predict(handle_file(CAT), "circular", "lscat_skip_cifar10", 1.0, 5, api_name="/stability")
    assert "5 × 5 = 25 shifts" in text and "test accuracy 92.5%" in text
    assert [m["model"] for m in numbers["models"]] == ["lscat_skip_cifar10", "resnet18_cifar10"]
    _, caption, curves = c.predict(handle_file(CAT), "circular", "lscat_skip_cifar10", 1.0, 5,
                                   api_name="/invariance_curve")
    assert [len(m["curve"]) for m in curves["models"]] == [8, 5]
    gif, download, caption = c.predict(handle_file(CAT), "circular", "lscat_skip_cifar10", -1, 0, 0, 2.0,
                                       api_name="/animation")
    assert Image.open(gif).format == "GIF" and "block" in caption
    # written once, in the app's GIF folder: gradio serves it from there, without a copy in its cache
    assert not list(url_uploads[served].rglob("*.gif"))
    for args, text in (((handle_file(CAT), "reflect", "lscat_skip_cifar10", 2, 17), "boundary"),
                       ((handle_file(CAT), "circular", "nope", 2, 17), "model must be one of"),
                       ((handle_file(CAT), "circular", "lscat_skip_cifar10", 2, 16), "steps must be odd")):
        with pytest.raises(Exception, match=text):
            c.predict(*args, api_name="/stability")


@pytest.mark.browser
@pytest.mark.slow
def test_browser_opens_the_invariance_view(served, browser, tmp_path):
    from tests.test_browser import bench_browser, plot_data, wait_changed  # bench/ on the path

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served)
        page.wait_for_selector("#invariance_view", timeout=180_000)
        # while it computes: a static note (demo.ui.quietly), cleared when the result is drawn
        page.evaluate("""() => { window.__notes = [];
            new MutationObserver(() => {
                const n = document.querySelector('#stability_status');
                if (n && n.textContent.trim()) window.__notes.push(n.textContent.trim());
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
        page.click("#invariance_view button:has-text('Translation invariance'), "
                   "button:has-text('Translation invariance')")  # opening the view computes it
        data = wait_changed(page, lambda pg: plot_data(pg, "stability"), None, timeout=180_000)
        assert [d["type"] for d in data].count("heatmap") == 2
        page.wait_for_selector("#stability_summary:has-text('test accuracy 92.5%')", timeout=60_000)
        curve = wait_changed(page, lambda pg: plot_data(pg, "invariance_curve"), None)
        assert len(curve) == 2
        # what bench/bench_browser.py waits for: every heatmap and the curve's caption on the new grid
        drawn = page.wait_for_function(bench_browser.STABILITY_DRAWN, arg=2.0, timeout=30_000).json_value()
        assert drawn["maps"] == 2 and drawn["size"] == 17
        assert page.evaluate(bench_browser.STABILITY_DRAWN, 1.75) is False
        assert any(n.startswith("Computing") for n in page.evaluate("window.__notes"))
        page.wait_for_function("() => !document.querySelector('#stability_status').textContent.trim()", timeout=10_000)
        page.click("#animation_button")
        page.wait_for_selector("#animation img[src*='.gif']", timeout=120_000)
        page.screenshot(path=str(tmp_path / "invariance.png"), full_page=True)
        assert not errors, errors
    finally:
        page.close()


def test_the_page_logs_the_views_time(weights, caplog):
    """bench/bench_browser.py splits the browser's latency with this line (server_ms)."""
    import logging

    from bench import bench_browser
    from demo.ui.app import App

    app = App()
    source = {"path": str(CAT)}
    with caplog.at_level(logging.INFO, logger="demo"):
        out = app.invariance.page(source, "circular", "lscat_skip_cifar10", 1.0, 3, progress=None)
    assert out[0] == [str(CAT), "circular", "lscat_skip_cifar10"]  # the stamp: what the result is of
    assert out[1] is not None and "3 × 3 = 9 shifts" in out[2]
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("invariance view")]
    assert len(lines) == 1 and bench_browser.SERVER_LINE.search(lines[0])
