"""The demo in process: the analyze pipeline, its caches, the figures, and the weights path.

Narrow models stand in for the full-width ones here (same architecture, same filters); the launched
server tests (test_app.py) run the real ones."""

import json
import math

import gradio as gr
import pytest
import torch
from _demo_support import CAT, make_files

from core import pretrained
from core.models import build_model
from demo import models as demo_models
from demo import panels
from demo.models import DemoModel, ModelStore, card_accuracy, freeze
from demo.ui import App

SMALL = {"lscat_skip_cifar10": {"widths": (8,) * 8},
         "lscat_skip_imagenette": {"widths": (4,) * 11, "num_classes": 10, "input_size": 160}}


class SmallStore(ModelStore):
    """Untrained narrow models; counts forward passes."""

    def __init__(self):
        super().__init__()
        self.forwards = 0

    def _load(self, key):
        entry = pretrained.ENTRIES[key]
        torch.manual_seed(0)
        model = freeze(build_model(entry.model, **SMALL[key]))
        inner = model.forward_intermediates

        def counted(*a, **k):
            self.forwards += 1
            return inner(*a, **k)

        model.forward_intermediates = counted
        return DemoModel(key, model, entry, False, None)


@pytest.fixture()
def app():
    return App(SmallStore())


def run(app, dx=0.5, dy=0.5, mode="circular", model="lscat_skip_cifar10", k=0, rank=0, image=CAT):
    out = app.analyze(str(image), dx, dy, mode, model, k, rank)
    assert out[-1] == str(image)  # the session's current image (a gr.State), used by `shift`
    return out[:-1]


def fig(plot_data) -> dict:
    return json.loads(plot_data.plot)


def test_analyze_outputs(app):
    status, po, pt, line, maps, errors, phases, numbers = run(app)
    assert "untrained" in status and "chance" in status
    assert len(po) == len(pt) == 5 and all(0 <= p <= 1 for p in po.values())
    assert "Top class" in line
    assert numbers["model"] == "lscat_skip_cifar10" and numbers["trained"] is False
    assert numbers["tau"] == {"dx": 0.5, "dy": 0.5} and len(numbers["blocks"]) == 8
    m = fig(maps)
    assert [t["type"] for t in m["data"]] == ["image"] * 5
    assert all(t["source"].startswith("data:image/jpeg;base64,") for t in m["data"])
    assert len(m["layout"]["yaxis"]["ticktext"]) == 9  # input + 8 blocks
    e = fig(errors)
    assert [t["name"] for t in e["data"][1:]] == ["single wavelet: linear", "single wavelet: modulus",
                                                  "network θ0: linear", "network θ0: modulus"]
    assert len(numbers["single_wavelet"]) == 8  # one per block, for the displayed orientation
    assert all(b["orientation"] == 0 and len(b["linear_error"]) == 1 for b in numbers["single_wavelet"])
    assert len(fig(phases)["data"]) == 1 + 8
    json.dumps(numbers)  # the API returns it as JSON


def test_invariance_improves_with_depth(app):
    """The theory curve (one wavelet at each block's scale) falls with depth under its bound; the
    network's own curve is reported as measured (its blocks see subsampled, aliased inputs)."""
    numbers = run(app, 0.5, 0.5)[-1]
    single = numbers["single_wavelet"]
    lin = [b["linear_error_all"] for b in single]
    mod = [b["modulus_error_all"] for b in single]
    assert lin[-1] < lin[0] / 4 and mod[-1] < mod[0] / 4
    assert all(e <= b + 1e-4 for r in single for e, b in zip(r["linear_error"], r["bound"]))
    assert all(m <= e + 1e-4 for r in single for e, m in zip(r["linear_error"], r["modulus_error"]))
    blocks = numbers["blocks"]
    assert list(blocks[-1]["tau_block"]) == [0.5 / 8, 0.5 / 8]
    assert all(0 < b["modulus_error_all"] <= b["linear_error_all"] + 1e-4 for b in blocks)


def test_slider_moves_only_recompute_the_translated_branch(app):
    store = app.store
    run(app, 0.5, 0.0)
    assert store.forwards == 2  # original + translated
    run(app, 1.25, -0.5)
    assert store.forwards == 3  # translated only
    run(app, 1.25, -0.5, k=3, rank=2)
    assert store.forwards == 3  # orientation / channel: re-rendering only
    run(app, 1.25, -0.5, mode="zero")
    assert store.forwards == 5  # another boundary mode: both branches again


def test_zero_shift_and_zero_padding(app):
    out = run(app, 0.0, 0.0)
    assert all(b["modulus_error_all"] < 1e-5 for b in out[-1]["blocks"])
    assert "nothing to compare" in out[5].plot
    out = run(app, 3.0, 0.0, mode="zero")
    assert out[-1]["boundary"] == "zero" and out[-1]["blocks"][0]["modulus_error_all"] > 0.01


def test_integer_shift_by_the_total_stride_is_exact_on_the_torus(app):
    """Circular mode, tau = 16 px = the network's total stride: every block's coefficients are its
    original ones rolled by whole block pixels (SPEC §8), which the cached branches show."""
    blocks = run(app, 16.0, -16.0)[-1]["blocks"]
    assert blocks[0]["modulus_error_all"] > 0.1  # the maps did move
    (_, orig), = [(k, v) for k, v in app.pipeline.originals._d.items() if k[1] == "circular"]
    (comp,) = app.pipeline.translated._d.values()
    for a, b in zip(orig.blocks, comp.branch.blocks):
        s = 16 // (a["info"].scale * a["info"].filters.stride)
        assert torch.allclose(b["wavelet"], torch.roll(a["wavelet"], (s, -s), dims=(-2, -1)), atol=2e-4)


def test_imagenette_model_and_orientation_clamp(app):
    out = run(app, 1.0, 0.0, model="lscat_skip_imagenette", k=7, rank=99)
    assert len(out[-1]["blocks"]) == 11
    assert len(fig(out[4])["layout"]["yaxis"]["ticktext"]) == 12
    assert "θ7" in fig(out[4])["layout"]["yaxis"]["ticktext"][1]
    out = run(app, 1.0, 0.0, k=7)  # CIFAR has 4 orientations: clamped to the last one
    assert "θ3" in fig(out[4])["layout"]["yaxis"]["ticktext"][1]


@pytest.mark.parametrize("args,match", [
    ({"mode": "reflect"}, "boundary mode"), ({"model": "resnet50"}, "Unknown or unavailable model"),
    ({"dx": 1e9}, "between"), ({"dy": math.nan}, "between"), ({"k": -1}, ">= 0"),
])
def test_invalid_inputs_are_refused_with_a_message(app, args, match):
    kw = {"dx": 0.5, "dy": 0.5, "mode": "circular", "model": "lscat_skip_cifar10", "k": 0, "rank": 0, "image": CAT}
    kw.update(args)
    image = kw.pop("image")
    with pytest.raises(gr.Error, match=match):
        app.analyze(None if image is None else str(image), kw["dx"], kw["dy"], kw["mode"], kw["model"], kw["k"],
                    kw["rank"])


def test_no_image_says_so_and_leaves_the_rest(app):
    out = app.analyze(None, 0.5, 0.5, "circular", "lscat_skip_cifar10", 0, 0)
    assert "No image" in out[0] and all(o == gr.skip() for o in out[1:])
    with pytest.raises(gr.Error, match="No image in this session"):
        app.shift(None, 0.5, 0.5, "circular", "lscat_skip_cifar10", 0, 0)


def test_shift_reanalyses_the_session_image(app):
    a = app.analyze(str(CAT), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    b = app.shift(a[-1], 1.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    c = app.analyze(str(CAT), 1.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert b[-2]["tau"] == {"dx": 1.5, "dy": 0.0} and b[-2] == c[-2]


def test_shift_after_the_upload_was_deleted_says_so(app, tmp_path):
    import shutil

    path = tmp_path / "upload.jpg"
    shutil.copy(CAT, path)
    app.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    path.unlink()  # gradio's delete_cache removed it
    with pytest.raises(gr.Error, match="no longer on the server"):
        app.shift(str(path), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)


def test_an_edited_file_is_analysed_afresh(app, tmp_path):
    from PIL import Image

    path = tmp_path / "img.png"
    Image.new("RGB", (40, 40), (250, 10, 10)).save(path)
    a = app.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    Image.new("RGB", (48, 48), (10, 10, 250)).save(path)  # same path, new content (and size)
    b = app.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert a[-2]["original_top5"] != b[-2]["original_top5"] or a[4] != b[4]


@pytest.mark.filterwarnings("ignore:CMYK image")  # gr.Warning outside a request context warns
def test_bad_images_raise_gr_error_and_odd_ones_get_notes(app, tmp_path):
    files = make_files(tmp_path)
    with pytest.raises(gr.Error, match="not an image"):
        run(app, image=files["not_an_image"])
    with pytest.raises(gr.Error, match="megapixels"):
        run(app, image=files["bomb"])
    status = run(app, image=files["cmyk"])[0]
    assert "CMYK" in status


def test_caches_are_bounded(app, tmp_path):
    from PIL import Image

    for i in range(9):
        p = tmp_path / f"img{i}.png"
        Image.new("RGB", (40, 40), (20 * i, 100, 200)).save(p)
        run(app, 0.5 + i, 0.0, image=p)
    assert len(app.pipeline.originals) <= app.pipeline.originals.size
    assert len(app.pipeline.translated) <= app.pipeline.translated.size


def test_freeze_keeps_the_outputs():
    torch.manual_seed(0)
    m = build_model("lscat_skip_cifar10", widths=(8,) * 8).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        y = m(x)
        assert torch.allclose(freeze(m)(x), y, atol=1e-5)


def test_explainer_figures():
    f, text = panels.morlet_figure("lscat_skip_cifar10", 2, 1)
    assert [t["type"] for t in f["data"]] == ["heatmap"] * 4 and "ξ" in text and "σ" in text
    f, text = panels.morlet_figure("lscat_skip_imagenette", 10, 7)
    assert max(len(t["z"]) for t in f["data"]) <= 61
    f = panels.relu_figure(0.5)
    assert [t["line"]["color"] for t in f["data"]] == [panels.render.GREEN, panels.render.BLUE, panels.render.ORANGE]
    f, text = panels.separation_figure("grass", "brick", 0, 1)
    assert len(f["data"]) == 6 and "Fisher" in json.dumps(f["layout"])
    with pytest.raises(ValueError):
        panels.separation_figure("grass", "cat", 0, 1)


def test_card_accuracy_spellings():
    assert card_accuracy({"top1": 0.923}) == "92.3%"
    assert card_accuracy({"top1": True}) is None and card_accuracy({}) is None


# --------------------------------------------------------------------------------------------
# When weights land: trained models load, the ResNet baseline appears, broken files fall back
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(1)
    small = build_model("lscat_skip_cifar10", widths=(4,) * 8)
    pretrained.save(small, "lscat_skip_cifar10", {"build": {"widths": [4] * 8}, "top1": 0.5})
    pretrained.save(build_model("resnet18_cifar10"), "resnet18_cifar10", {"top1": 0.25}, half=True)
    return tmp_path


def test_shipped_weights_light_up(weights_dir):
    assert demo_models.offered() == ["lscat_skip_cifar10", "lscat_skip_imagenette", "resnet18_cifar10"]
    app = App(ModelStore())
    status, po, pt, line, maps, errors, phases, numbers = run(app, 1.0, 0.0)
    assert "trained weights (test accuracy 50.0%)" in status and numbers["trained"] is True
    assert "untrained" not in line
    out = run(app, 1.0, 0.0, model="resnet18_cifar10")
    assert "ResNet-18" in out[0] and "25.0%" in out[0]
    assert [b["block"] for b in out[-1]["blocks"]] == [0, 1, 2, 3, 4]
    assert all(b["feature_change"] > 0 for b in out[-1]["blocks"])
    assert "no wavelet filters" in out[6].plot
    assert fig(out[4])["layout"]["xaxis"]["ticktext"][0].startswith("feature map")


def test_interim_weights_stand_in_under_the_same_key(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(2)
    model = build_model("lscat_skip_cifar10", widths=pretrained.CIFAR10_SMALL)
    pretrained.save(model, "lscat_skip_cifar10_small", {"top1": 0.7}, half=True)
    assert demo_models.offered()[0] == "lscat_skip_cifar10"  # the API key does not change
    dm = ModelStore().get("lscat_skip_cifar10")
    assert dm.trained and dm.weights == "lscat_skip_cifar10_small"
    assert "interim weights" in dm.banner() and "70.0%" in dm.banner()
    out = App(ModelStore()).analyze(str(CAT), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert out[-2]["weights"] == "lscat_skip_cifar10_small" and "untrained" not in out[3]
    # the paper's widths win once they are shipped
    pretrained.save(build_model("lscat_skip_cifar10", widths=(4,) * 8), "lscat_skip_cifar10",
                    {"build": {"widths": [4] * 8}, "top1": 0.9})
    assert ModelStore().get("lscat_skip_cifar10").weights == "lscat_skip_cifar10"


def test_corrupt_weights_fall_back_to_untrained(weights_dir, monkeypatch):
    path = pretrained.weights_path("lscat_skip_cifar10")
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)

    def small_untrained(name, seed=0):  # keep the test fast: a narrow untrained model
        torch.manual_seed(seed)
        return build_model(pretrained.ENTRIES[name].model, **SMALL[name]).eval()

    monkeypatch.setattr(pretrained, "build_untrained", small_untrained)
    dm = ModelStore().get("lscat_skip_cifar10")
    assert not dm.trained and "corrupt" in dm.problem and "could not be loaded" in dm.banner()
    out = App(ModelStore()).analyze(str(CAT), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert "untrained" in out[0] and out[-2]["trained"] is False
