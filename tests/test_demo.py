"""The demo in process: the analyze pipeline, its caches, the figures, and the weights path.

Narrow models stand in for the full-width ones here (same architecture, same filters); the launched
server tests (test_app.py) run the real ones."""

import dataclasses
import json
import math

import gradio as gr
import pytest
import torch
from _demo_support import CAT, make_files

from core import weights as pretrained
from core.models import CIFAR10_SMALL, build_model
from demo.draw import explainer, panels, render
from demo.handlers import page as page_handlers
from demo.handlers.page import NO_IMAGE
from demo.images import EXAMPLES, example_path
from demo.models import catalog
from demo.models.store import DemoModel, ModelStore, card_accuracy, freeze
from demo.ui.app import App

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
    out = app.analysis.analyze(str(image), dx, dy, mode, model, k, rank)
    assert out[-1] == str(image)  # the session's current image (a gr.State), used by `shift`
    return out[:-1]


def rows(maps_html: str) -> int:
    """Rows of one half of the maps (the header excluded)."""
    return maps_html.count("<div class='pc-r'>")


def test_analyze_outputs(app):
    status, po, pt, line, maps, errors, phases, numbers = run(app)
    assert "untrained" in status and "chance" in status and "cat.jpg" in status
    assert len(po) == len(pt) == 5 and all(0 <= p <= 1 for p in po.values())
    assert "Top class" in line
    assert numbers["model"] == "lscat_skip_cifar10" and numbers["trained"] is False
    assert numbers["tau"] == {"dx": 0.5, "dy": 0.5} and len(numbers["blocks"]) == 8
    assert rows(maps) == 2 * 9  # input + 8 blocks, in the original's half and the translated one's
    assert maps.count("data:image/webp;base64,") == (9 * 2 - 1) + (9 * 3 - 1)  # no phase for the input row
    for name in ("single wavelet: linear", "single wavelet: modulus", "network θ0: linear", "network θ0: modulus",
                 "bound for a shift of each block's input"):
        assert name in errors
    assert errors.count("<polyline") == 6 and "<svg" in phases
    # per block and orientation a hollow point (a ring: two round dots "Mx yh0") and a filled one (a dot, or a
    # circle with its hover text for the selected orientation), and 2 legend keys
    assert phases.count("<circle") == 8 + 2 and phases.count("h0") == 2 * 8 * 4 + 8 * 3
    assert len(numbers["single_wavelet"]) == 8  # one per block, for the displayed orientation
    assert all(b["orientation"] == 0 and len(b["linear_error"]) == 1 for b in numbers["single_wavelet"])
    assert all(len(b["predicted_phase_local"]) == 4 for b in numbers["blocks"])
    json.dumps(numbers)  # the API returns it as JSON
    state = "data-state='dx=0.5;dy=0.5;k=0;ch=0;circular;lscat_skip_cifar10;"
    assert all(state in html for html in (maps, errors, phases))


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
    assert "nothing to compare" in out[5]
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
    out = run(app, 1.0, 0.0, model="lscat_skip_imagenette", k=7, rank=15)
    assert len(out[-1]["blocks"]) == 11
    assert rows(out[4]) == 2 * 12
    assert "θ7" in out[4] and "θ3" not in out[4]
    assert "1 map px = 2 input px" in out[4]  # block 0 subsamples (psi3/2 at 160 px)
    assert "×" not in out[5]  # the error chart numbers blocks, it does not label their scale another way
    out = run(app, 1.0, 0.0, k=7)  # CIFAR has 4 orientations: clamped to the last one
    assert "θ3" in out[4] and "θ7" not in out[4]


@pytest.mark.parametrize("size", [112, 128])
def test_any_input_size(size):
    """The Imagenette slot at another input size (the CPU-trained stand-ins are smaller than 160 px)."""

    class Store(SmallStore):
        def _load(self, key):
            if key != "lscat_skip_imagenette":
                return super()._load(key)
            torch.manual_seed(0)
            model = freeze(build_model("lscat_skip_imagenet", widths=(4,) * 11, num_classes=10, input_size=size))
            entry = pretrained.ENTRIES["lscat_skip_imagenette_small"]
            return DemoModel(key, model, dataclasses.replace(entry, input_size=size), False, None)

    app = App(Store())
    for mode in ("circular", "zero"):
        out = run(app, 1.0, 0.5, mode=mode, model="lscat_skip_imagenette", k=3)
        assert rows(out[4]) == 2 * 12 and f"{size}×{size} px" in out[4]
        assert len(out[-1]["blocks"]) == 11 and out[-1]["single_wavelet"][0]["linear_error"]
    dm = app.store.get("lscat_skip_imagenette")
    assert f"dx = {panels.last_input_pixel(dm)}," in panels.errors_caption(dm, "circular")


@pytest.mark.parametrize("args,match", [
    ({"mode": "reflect"}, "boundary must be one of"), ({"model": "resnet50"}, "model must be one of"),
    ({"dx": 1e9}, "dx must be a number between -32 and 32"), ({"dx": "abc"}, "dx must be a number between -32 and 32"),
    ({"dx": None}, "dx must be a number between -32 and 32"), ({"dy": math.nan}, "dy must be a number between"),
    ({"dy": [1]}, "dy must be a number between"), ({"k": -1}, "orientation must be a whole number"),
    ({"k": 1.5}, "orientation must be a whole number"), ({"rank": "x"}, "channel must be a whole number"),
    ({"image": None}, "No image"),
])
def test_invalid_inputs_are_refused_with_a_message(app, args, match):
    kw = {"dx": 0.5, "dy": 0.5, "mode": "circular", "model": "lscat_skip_cifar10", "k": 0, "rank": 0, "image": CAT}
    kw.update(args)
    image = kw.pop("image")
    with pytest.raises(gr.Error, match=match):
        app.analysis.analyze(None if image is None else str(image), kw["dx"], kw["dy"], kw["mode"], kw["model"],
                             kw["k"], kw["rank"])


def test_shift_without_an_image_says_so(app):
    with pytest.raises(gr.Error, match="No image in this session"):
        app.analysis.shift(None, 0.5, 0.5, "circular", "lscat_skip_cifar10", 0, 0)


def test_shift_reanalyses_the_session_image(app):
    a = app.analysis.analyze(str(CAT), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    b = app.analysis.shift(a[-1], 1.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    c = app.analysis.analyze(str(CAT), 1.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert b[-2]["tau"] == {"dx": 1.5, "dy": 0.0} and b[-2] == c[-2]


def test_shift_after_the_upload_was_deleted_says_so(app, tmp_path):
    import shutil

    path = tmp_path / "upload.jpg"
    shutil.copy(CAT, path)
    app.analysis.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    path.unlink()  # gradio's delete_cache removed it
    with pytest.raises(gr.Error, match="no longer on the server"):
        app.analysis.shift(str(path), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)


def test_an_edited_file_is_analysed_afresh(app, tmp_path):
    from PIL import Image

    path = tmp_path / "img.png"
    Image.new("RGB", (40, 40), (250, 10, 10)).save(path)
    a = app.analysis.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    Image.new("RGB", (48, 48), (10, 10, 250)).save(path)  # same path, new content (and size)
    b = app.analysis.analyze(str(path), 0.5, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
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
    f, text = explainer.morlet_figure("lscat_skip_cifar10", 2, 1)
    assert [t["type"] for t in f["data"]] == ["heatmap"] * 4 and "ξ" in text and "σ" in text
    f, text = explainer.morlet_figure("lscat_skip_imagenette", 10, 7)
    assert max(len(t["z"]) for t in f["data"]) <= 61
    for model, n in (("lscat_skip_cifar10", 8), ("lscat_skip_imagenette", 11)):  # readable filter names only
        assert not any("psi" in explainer.morlet_figure(model, j, 0)[1] for j in range(n))
    f = explainer.relu_figure(0.5)
    assert [t["line"]["color"] for t in f["data"]] == [render.GREEN, render.BLUE, render.ORANGE]
    f, text = explainer.separation_figure("grass", "brick", 0, 1)
    assert len(f["data"]) == 6 and "Fisher" in json.dumps(f["layout"])
    with pytest.raises(ValueError, match="pick two of"):
        explainer.separation_figure("grass", "cat", 0, 1)


def test_card_accuracy_spellings():
    assert card_accuracy({"top1": 0.923}) == "test accuracy 92.3%"
    assert card_accuracy({"top1": 0.807, "eval_split": "val"}) == "val accuracy 80.7%"
    held = {"top1": 0.81, "eval_split": "holdout"}
    assert card_accuracy(held) == "hold-out accuracy 81.0%"
    assert card_accuracy({**held, "quoted_result": {"split": "val", "top1": 0.795}}) == "val accuracy 79.5%"
    assert card_accuracy({"top1": True}) is None and card_accuracy({}) is None


# --------------------------------------------------------------------------------------------
# The page: Page.update sends what changed, never raises, never shows a stale analysis
# --------------------------------------------------------------------------------------------


class Page:
    """Page.update driven as the browser drives it: the session's states fed back after each update."""

    def __init__(self, app):
        self.app = app
        self.shown, self.numbers_open = {}, False
        self.source = {"path": str(CAT), "name": "cat (example)"}
        self.settings = dict(dx=0.5, dy=0.0, boundary="circular", model="lscat_skip_cifar10", orientation=0, channel=0)
        self.status = None

    def move(self, **changes) -> set[str]:
        self.settings.update(changes)
        s = self.settings
        out = self.app.page.update(self.source, self.shown, self.numbers_open, s["dx"], s["dy"], s["boundary"],
                                   s["model"], s["orientation"], s["channel"])
        self.shown = out.get("shown", self.shown)
        self.status = out.get("status", self.status)
        self.out = out
        assert set(out) <= set(page_handlers.OUTPUTS)
        return set(out) - {"shown"}


@pytest.fixture()
def page(app):
    return Page(app)


PANELS = {"picture_o", "pred_o", "picture_t", "pred_t", "change", "maps_o", "maps_t", "errors", "phases"}


def test_page_sends_only_what_changed(page):
    first = page.move()
    assert PANELS | {"status", "errors_caption", "phases_caption", "maps_caption"} <= first
    assert page.move(dx=0.75) == {"picture_t", "pred_t", "change", "maps_t", "errors", "phases"}
    assert page.move(dx=0.75) == set()  # the slider's release after its last input: nothing to send
    assert page.move(orientation=2) == {"maps_o", "maps_t", "errors", "phases"}
    assert "numbers" not in page.move(dx=1.0)  # the numbers' accordion is closed
    page.numbers_open = True
    assert page.move() == {"numbers"}  # opened: the numbers of what is shown
    assert page.out["numbers"]["tau"] == {"dx": 1.0, "dy": 0.0}
    assert "numbers" in page.move(dx=1.25)
    changed = page.move(boundary="zero")
    assert {"picture_o", "maps_o", "errors_caption", "maps_caption"} <= changed
    assert "Zero padding" in page.out["errors_caption"]


def test_page_after_a_bad_file_shows_no_earlier_analysis(page, tmp_path):
    page.move()
    bad = tmp_path / "x.jpg"
    bad.write_text("not a picture\n" * 10)
    page.source = {"path": str(bad), "name": "x.jpg"}
    changed = page.move()
    assert PANELS <= changed and "status" in changed
    assert "Cannot use x.jpg" in page.status and "not an image" in page.status
    assert all(page.out[k] in (None, "") or "no image" in page.out[k]
               for k in PANELS)
    forwards = page.app.store.forwards
    assert page.move(dx=2.0) == set()  # a slider move: the same message stays, the panels stay empty
    assert "Cannot use x.jpg" in page.status and page.app.store.forwards == forwards
    page.source = {"path": str(CAT), "name": "cat (example)"}  # the next good input
    assert PANELS <= page.move() and "Cannot use" not in page.status


def test_page_without_an_image_says_why_and_computes_nothing(page):
    page.move()
    page.source = None
    assert PANELS <= page.move() and page.status == NO_IMAGE
    forwards = page.app.store.forwards
    assert page.move(dx=3.0) == set() and page.status == NO_IMAGE and page.app.store.forwards == forwards


def test_page_settings_are_checked_and_partial_numbers_ignored(page):
    page.move()
    assert page.move(dx=None) == set() and page.out == {}  # "-" typed in the number box: wait for the number
    changed = page.move(dx=99.0)
    assert "status" in changed and "dx must be a number between -32 and 32" in page.status
    page.move(dx=1.0)
    assert "Invalid" not in page.status


def test_uploads_become_the_page_image_and_empty_the_box(page):
    source, box = page_handlers.uploaded("/tmp/upload/abc/photo.png")
    assert source == {"path": "/tmp/upload/abc/photo.png", "name": "photo.png", "upload": True} and box is None


def test_the_page_says_which_classes_the_model_knows(page):
    assert "classes" in page.move()
    for model in ("lscat_skip_cifar10", "lscat_skip_imagenette"):
        if model != page.settings["model"]:
            assert "classes" in page.move(model=model)
        dm = page.app.store.get(model)  # the weights' own list, not one written for the page
        assert all(c in page.out["classes"] for c in dm.classes) and f"{dm.size}×{dm.size} px" in page.out["classes"]
        assert "classes" not in page.move(dx=page.settings["dx"] + 0.25)  # sent again only for another model
    page.source = None
    assert "classes" in page.move(model="lscat_skip_cifar10")  # also without an image to analyse
    assert "airplane" in page.out["classes"]


def test_a_photo_uploaded_with_a_32px_model_suggests_the_photo_model(page, tmp_path):
    from PIL import Image

    page.source = page_handlers.uploaded(example_path("rocket.jpg"))[0]  # 320 px: more than CIFAR-10's 32
    assert "suggest" in page.move() and page.out["suggest"].visible is True
    assert "A photo?" in page.status and catalog.LABELS["lscat_skip_imagenette"] in page.status
    assert "suggest" not in page.move(dx=2.0)  # shown once, not re-sent
    # the button puts the photo model in the menu; its change analyses the image again
    assert page_handlers.switch_to_photo_model("lscat_skip_cifar10") == "lscat_skip_imagenette"
    assert page_handlers.switch_to_photo_model("lscat_skip_imagenette") == gr.skip()
    changed = page.move(model="lscat_skip_imagenette")
    assert "suggest" in changed and page.out["suggest"].visible is False and "A photo?" not in page.status
    # nothing to suggest for an example (chosen for the model) nor for an upload of the model's own size
    page.source = {"path": example_path("rocket.jpg"), "name": "rocket (example)"}
    page.move(model="lscat_skip_cifar10")
    assert "A photo?" not in page.status
    Image.new("RGB", (32, 32), (90, 120, 30)).save(tmp_path / "tiny.png")
    page.source = page_handlers.uploaded(str(tmp_path / "tiny.png"))[0]
    page.move()
    assert "tiny.png" in page.status and "A photo?" not in page.status


def test_a_file_the_browser_refused_is_named_with_the_reason(page):
    """gradio refuses a wrong type or an oversized file in the page, without sending it: the page's script
    reports its name and size (demo.ui.theme.HEAD), and the status line must not name the previous image."""
    page.move()
    page.source = page_handlers.refused(json.dumps({"name": "drawing.svg", "size": 2000}))[0]
    changed = page.move()
    assert PANELS <= changed and "cat (example)" not in page.status
    assert "Refused drawing.svg" in page.status and "A .svg file is not an image" in page.status
    page.source = page_handlers.refused(json.dumps({"name": "big.jpg", "size": 11 * 2**20}))[0]
    page.move()
    assert "Refused big.jpg" in page.status and "11.0 MB; the limit is 10 MB" in page.status
    for junk in ("", "not json", "[1, 2]", json.dumps({"name": None, "size": "x"}), None, 5):
        source, box = page_handlers.refused(junk)
        assert source["refused"] and box is None
    assert page_handlers.refused(json.dumps({"name": "../../etc/passwd.svg"}))[0]["name"] == "passwd.svg"


# --------------------------------------------------------------------------------------------
# When weights land: trained models load, the ResNet baseline appears, broken files fall back
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(1)
    small = build_model("lscat_skip_cifar10", widths=(4,) * 8)
    pretrained.save(small, "lscat_skip_cifar10", {"build": {"widths": [4] * 8}, "top1": 0.5})
    pretrained.save(build_model("resnet18_cifar10"), "resnet18_cifar10", {"top1": 0.25}, half=True)
    return tmp_path


def test_shipped_weights_light_up(weights_dir):
    assert catalog.offered() == ["lscat_skip_cifar10", "lscat_skip_imagenette", "resnet18_cifar10"]
    app = App(ModelStore())
    status, po, pt, line, maps, errors, phases, numbers = run(app, 1.0, 0.0)
    assert "trained weights (test accuracy 50.0%)" in status and numbers["trained"] is True
    assert "untrained" not in line
    out = run(app, 1.0, 0.0, model="resnet18_cifar10")
    assert "ResNet-18" in out[0] and "25.0%" in out[0]
    assert [b["block"] for b in out[-1]["blocks"]] == [0, 1, 2, 3, 4]
    assert all(b["feature_change"] > 0 for b in out[-1]["blocks"])
    assert "no wavelet filters" in out[6]
    assert "feature map original" in out[4] and "stage 4" in out[4]
    assert "stage 4: " in out[5]  # the feature-change chart


def test_interim_weights_stand_in_under_the_same_key(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(2)
    model = build_model("lscat_skip_cifar10", widths=CIFAR10_SMALL)
    pretrained.save(model, "lscat_skip_cifar10_small_long", {"top1": 0.7}, half=True)
    assert catalog.offered()[0] == "lscat_skip_cifar10"  # the API key does not change
    dm = ModelStore().get("lscat_skip_cifar10")
    assert dm.trained and dm.weights == "lscat_skip_cifar10_small_long"
    assert "interim weights" in dm.banner() and "70.0%" in dm.banner()
    out = App(ModelStore()).analysis.analyze(str(CAT), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert out[-2]["weights"] == "lscat_skip_cifar10_small_long" and "untrained" not in out[3]
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
    out = App(ModelStore()).analysis.analyze(str(CAT), 1.0, 0.0, "circular", "lscat_skip_cifar10", 0, 0)
    assert "untrained" in out[0] and out[-2]["trained"] is False


# --------------------------------------------------------------------------------------------
# The captions, checked on the shipped weights and the eight example images
# --------------------------------------------------------------------------------------------


def _slope(x, y) -> float:
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    return float((x * y).sum() / (x * x).sum().clamp_min(1e-12))


@pytest.fixture(scope="module")
def shipped():
    return App(ModelStore())


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lscat_skip_cifar10", "lscat_skip_imagenette"])
def test_the_captions_say_what_the_charts_show(shipped, model):
    """Each sentence of panels.errors_caption / phases_caption / maps_caption, in both boundary modes."""
    numbers = lambda name, dx, mode: shipped.analysis.analyze(example_path(name), dx, 0.0, mode, model, 0, 0)[7]
    dm = shipped.store.get(model)
    crossed, first, deep = 0, {}, {}
    for name, _ in EXAMPLES:
        for mode in ("circular", "zero"):
            n = numbers(name, 0.5, mode)
            blocks, single = n["blocks"], n["single_wavelet"]
            # blue under orange: the moduli change less than the coefficients (pointwise ||a|-|b|| <= |a-b|)
            assert all(m <= e + 1e-6 for b in blocks + single for m, e in zip(b["modulus_error"], b["linear_error"]))
            # the dotted curves fall with depth
            assert single[-1]["linear_error"][0] < single[0]["linear_error"][0]
            # phases: block 0's filled points near the diagonal, the hollow ones below it; deeper blocks' points
            # (pooled over the images below) short of the diagonal, the filled ones nearer it
            b0 = blocks[0]
            assert 0.8 < _slope(b0["predicted_phase_local"], b0["measured_phase"]) < 1.35
            assert _slope(b0["predicted_phase"], b0["measured_phase"]) < 0.95  # smaller than -xi.tau
            for key in ("predicted_phase", "predicted_phase_local", "measured_phase"):
                first.setdefault((mode, key), []).extend(b0[key])
            for b in blocks[1:]:
                for key in ("predicted_phase", "predicted_phase_local", "measured_phase"):
                    deep.setdefault((mode, key), []).extend(b[key])
            if mode == "circular":
                assert all(s["linear_error"][0] <= s["bound"][0] + 1e-6 for s in single)  # under the dashed bound
                assert any(b["linear_error"][0] > b["bound"][0] for b in blocks)  # solid above grey
            else:
                crossed += any(s["linear_error"][0] > s["bound"][0] for s in single)
        # a shift by the last block's input pixel: the solid curves stay under the grey line
        n = numbers(name, float(panels.last_input_pixel(dm)), "circular")
        assert all(b["linear_error"][0] <= b["bound"][0] for b in n["blocks"])
        # zero padding, a few pixels: the deepest maps change visibly
        assert numbers(name, 2.5, "zero")["blocks"][-1]["modulus_error_all"] > 0.15
    assert crossed >= 2  # zero padding: the dotted curves can cross their bound
    for mode in ("circular", "zero"):
        xi, local, measured = (first[(mode, k)] for k in ("predicted_phase", "predicted_phase_local", "measured_phase"))
        assert abs(1 - _slope(local, measured)) < 0.15 and 1 - _slope(xi, measured) > 0.3
        xi, local, measured = (deep[(mode, k)] for k in ("predicted_phase", "predicted_phase_local", "measured_phase"))
        assert _slope(xi, measured) < _slope(local, measured) < 1


# --------------------------------------------------------------------------------------------
# Lanes: a page update never waits behind another visitor's heavy work; heavy work is bounded
# --------------------------------------------------------------------------------------------


def test_light_work_does_not_wait_behind_heavy_work():
    import threading
    import time

    from demo.compute.lanes import Lanes

    lanes = Lanes()
    started, paused = threading.Event(), []

    def heavy():  # a map of 40 chunks of 25 ms, giving way between them
        started.set()
        for _ in range(40):
            t = time.perf_counter()
            while time.perf_counter() - t < 0.025:
                pass
            t = time.perf_counter()
            lanes.give_way()
            paused.append(time.perf_counter() - t)
        return "map"

    th = threading.Thread(target=lambda: lanes.heavy(heavy))
    th.start()
    started.wait(5)
    waits = []
    for _ in range(5):
        t = time.perf_counter()
        assert lanes.light(lambda: "update") == "update"
        waits.append(time.perf_counter() - t)
        time.sleep(0.05)
    th.join(30)
    # one lane: each update would wait for the whole second of the map
    assert max(waits) < 0.5, waits
    assert lanes.pending == {"light": 0, "heavy": 0}


def test_heavy_work_is_one_per_visitor_and_bounded():
    import threading

    from demo.compute.lanes import Busy, Lanes

    lanes = Lanes(heavy_queue=2)
    release, told = threading.Event(), []
    first = threading.Thread(target=lambda: lanes.heavy(release.wait, 10, visitor="a"))
    first.start()
    while lanes.pending["heavy"] < 1:
        pass
    with pytest.raises(Busy, match="Your previous map"):
        lanes.heavy(lambda: None, visitor="a")
    second = threading.Thread(target=lambda: lanes.heavy(lambda: None, visitor="b", waiting=told.append))
    second.start()
    while lanes.pending["heavy"] < 2:
        pass
    with pytest.raises(Busy, match="for other visitors"):
        lanes.heavy(lambda: None, visitor="c")
    release.set()
    first.join(10)
    second.join(10)
    assert told == [1] and lanes.pending["heavy"] == 0
    assert lanes.heavy(lambda: "again", visitor="a") == "again"


def test_busy_is_said_to_the_caller(app):
    from demo.compute.lanes import Busy
    from demo.handlers.errors import refusal

    e = refusal(Busy("The server is computing 8 maps"), "stability")
    assert e.title == "Busy" and "8 maps" in e.message


def test_the_same_hostile_values_get_the_same_messages_in_process(app):
    """Every endpoint, in process, with the issue's hostile values: the message of analyze."""
    from demo.handlers import explainer

    inv = app.invariance
    orientation = "orientation must be a whole number between 0 and 7; got 99."
    for call in (lambda: app.analysis.analyze(str(CAT), 0.5, 0, "circular", "lscat_skip_cifar10", 99, 0),
                 lambda: inv.animation(str(CAT), "circular", "lscat_skip_cifar10", -1, 99, 0, 2.0),
                 lambda: explainer.morlet("lscat_skip_cifar10", 2, 99)):
        with pytest.raises(gr.Error) as e:
            call()
        assert e.value.title == "Invalid input" and e.value.message == orientation
    for call in (lambda: inv.stability(str(CAT), "circular", "bogus", 1.0, 3, None),
                 lambda: inv.invariance_curve(str(CAT), "circular", "bogus", 1.0, 3, None),
                 lambda: inv.animation(str(CAT), "circular", "bogus"), lambda: explainer.morlet("bogus", 2, 0)):
        with pytest.raises(gr.Error, match="model must be one of 'lscat_skip_cifar10', 'lscat_skip_imagenette'"):
            call()
    with pytest.raises(gr.Error, match="block must be a whole number between -1 and 10"):
        inv.animation(str(CAT), "circular", "lscat_skip_cifar10", 99)
