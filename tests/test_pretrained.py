"""core.weights: save / load round trip and every failure as a PretrainedError."""

import json

import pytest
import torch

from core import weights as P
from core.weights import store as weights_store

TINY = {"num_classes": 10, "input_size": 16, "widths": [4] * 8}


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(weights_store, "PRETRAINED_DIR", tmp_path)
    torch.manual_seed(0)
    from core.models import build_model

    model = build_model("lscat_skip_cifar10", **TINY).eval()
    card = P.save(model, "lscat_skip_cifar10", {"build": TINY, "top1": 0.5}, half=True)
    return tmp_path, model, card


def test_round_trip_fp16(store):
    d, model, card = store
    assert P.available() == ["lscat_skip_cifar10"]
    assert card["precision"] == "fp16" and card["classes"][0] == "airplane" and len(card["sha256"]) == 64
    loaded, card2 = P.load("lscat_skip_cifar10")
    assert not loaded.training and card2 == card
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-2)  # fp16-rounded weights
    for k, v in loaded.state_dict().items():
        if v.is_floating_point():
            assert v.dtype == torch.float32 and torch.equal(v, model.state_dict()[k].half().float()), k


def test_checksum_mismatch(store):
    d, _, _ = store
    w = d / "lscat_skip_cifar10.safetensors"
    b = bytearray(w.read_bytes())
    b[-5] ^= 0xFF
    w.write_bytes(bytes(b))
    with pytest.raises(P.PretrainedError, match="corrupt or was replaced"):
        P.load("lscat_skip_cifar10")


def test_truncated_file(store):
    d, _, _ = store
    w, c = d / "lscat_skip_cifar10.safetensors", d / "lscat_skip_cifar10.json"
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(P.PretrainedError, match="corrupt"):
        P.load("lscat_skip_cifar10")
    card = json.loads(c.read_text())
    card["sha256"] = P.sha256(w)  # even with a matching checksum, a truncated file is refused
    c.write_text(json.dumps(card))
    with pytest.raises(P.PretrainedError, match="not a readable safetensors"):
        P.load("lscat_skip_cifar10")


def test_missing_card_and_missing_weights(store):
    d, _, _ = store
    (d / "lscat_skip_cifar10.json").rename(d / "card.bak")
    assert P.available() == []
    with pytest.raises(P.PretrainedError, match="card .* is missing"):
        P.load("lscat_skip_cifar10")
    (d / "card.bak").rename(d / "lscat_skip_cifar10.json")
    (d / "lscat_skip_cifar10.safetensors").unlink()
    with pytest.raises(P.PretrainedError, match="weights file .* is missing"):
        P.load("lscat_skip_cifar10")
    with pytest.raises(P.PretrainedError, match="no pretrained entry"):
        P.load("nope")


def test_bad_card(store):
    d, _, _ = store
    c = d / "lscat_skip_cifar10.json"
    c.write_text("{not json")
    with pytest.raises(P.PretrainedError, match="not valid JSON"):
        P.load("lscat_skip_cifar10")
    c.write_text(json.dumps({"model": "lscat_skip_cifar10"}))
    with pytest.raises(P.PretrainedError, match="lacks"):
        P.load("lscat_skip_cifar10")


def test_wrong_architecture(store):
    d, _, card = store
    c = d / "lscat_skip_cifar10.json"
    c.write_text(json.dumps(dict(card, build=dict(TINY, widths=[8] * 8))))  # not the file's widths
    with pytest.raises(P.PretrainedError, match="does not match the architecture"):
        P.load("lscat_skip_cifar10")
    c.write_text(json.dumps(dict(card, model="resnet18_cifar10", build={})))  # another model altogether
    with pytest.raises(P.PretrainedError, match="describes a resnet18_cifar10"):
        P.load("lscat_skip_cifar10")
    c.write_text(json.dumps(dict(card, build=dict(TINY, widths=[4] * 7))))  # cannot be built
    with pytest.raises(P.PretrainedError, match="cannot be built"):
        P.load("lscat_skip_cifar10")


def test_resolve_prefers_the_name_then_its_stand_ins(store):
    d, model, card = store
    assert P.SOURCES["lscat_skip_imagenette"] == ("lscat_skip_imagenette", "lscat_skip_imagenette_small_swa")
    assert P.sources("resnet18_cifar10") == ("resnet18_cifar10", "resnet18_cifar10_small_long")
    assert P.sources("lscat_skip_imagenette_small") == ("lscat_skip_imagenette_small",)  # an entry without stand-ins
    assert P.resolve("lscat_skip_cifar10") == "lscat_skip_cifar10"
    assert P.resolve("lscat_skip_imagenette") is None and P.resolve("resnet18_cifar10") is None
    P.save(model, "lscat_skip_cifar10_small_long", {"build": TINY, "top1": 0.25})
    assert P.resolve("lscat_skip_cifar10") == "lscat_skip_cifar10"  # the paper's widths first
    for f in ("lscat_skip_cifar10.safetensors", "lscat_skip_cifar10.json"):
        (d / f).unlink()
    assert P.resolve("lscat_skip_cifar10") == "lscat_skip_cifar10_small_long"
    loaded, small_card = P.load(P.resolve("lscat_skip_cifar10"))
    assert small_card["name"] == "lscat_skip_cifar10_small_long" and small_card["top1"] == 0.25


def test_entry_transforms(store):
    from PIL import Image

    from core.data import MEAN, Preprocess

    entry = P.ENTRIES["lscat_skip_imagenette"]
    pre = entry.transforms()
    assert isinstance(pre, Preprocess) and (pre.size, pre.mean, pre.std) == (160, entry.mean, entry.std)
    img = Image.new("RGB", (300, 200), (255, 0, 0))
    x = pre(img)
    assert x.shape == (3, 160, 160)
    assert torch.allclose(x[:, 0, 0], torch.tensor([(1 - MEAN[0]) / entry.std[0], -MEAN[1] / entry.std[1],
                                                    -MEAN[2] / entry.std[2]]), atol=1e-5)
    assert P.ENTRIES["lscat_skip_cifar10"].transforms().size == 32
    # an exported card describes the weights it holds (a smaller test model, other statistics)
    odd = P.ENTRIES["lscat_skip_cifar10"].transforms({"input_size": 8, "mean": [0.5] * 3, "std": [0.25] * 3})
    assert (odd.size, odd.mean, odd.std) == (8, (0.5,) * 3, (0.25,) * 3)


def test_load_an_explicit_file(store, tmp_path):
    d, model, card = store
    w = d / "lscat_skip_cifar10.safetensors"
    m1, c1 = P.load("lscat_skip_cifar10", weights=w)  # its card beside it
    assert c1 == card and not m1.training
    bare = tmp_path / "elsewhere" / "bare.safetensors"
    bare.parent.mkdir()
    bare.write_bytes(w.read_bytes())
    with pytest.raises(P.PretrainedError, match="does not match the architecture in its card"):
        P.load("lscat_skip_cifar10", weights=bare)  # no card: the entry's full widths, not this file's
    (bare.with_suffix(".json")).write_text(json.dumps({"model": "lscat_skip_cifar10", "build": TINY}))
    m2, _ = P.load("anything", weights=bare)  # the card says what to build, without a checksum
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(m1(x), m2(x))
    (bare.with_suffix(".json")).write_text(json.dumps({"model": "lscat_skip_cifar10", "build": TINY,
                                                       "sha256": "0" * 64}))
    with pytest.raises(P.PretrainedError, match="corrupt or was replaced"):
        P.load("anything", weights=bare)
    bare.with_suffix(".json").unlink()
    with pytest.raises(P.PretrainedError, match="unknown model 'nothing' and no card beside"):
        P.load("nothing", weights=bare)
    with pytest.raises(P.PretrainedError, match="does not exist"):
        P.load("lscat_skip_cifar10", weights=tmp_path / "none.safetensors")
    with pytest.raises(P.PretrainedError, match="must be a .safetensors file"):
        P.load("lscat_skip_cifar10", weights=d / "lscat_skip_cifar10.json")


def test_every_stand_in_is_an_entry_of_the_same_model_and_data():
    """The stand-ins of each name (SOURCES) build the same architecture family for the same data and
    classes, and each scattering model's CPU stand-ins have ResNet-18 partners trained with the same
    recipe but for the model (same data, input size, epochs)."""
    from core.training.recipes import make_config

    for name, chain in P.SOURCES.items():
        assert chain[0] == name and len(set(chain)) == len(chain)
        for other in chain:
            e, base = P.ENTRIES[other], P.ENTRIES[name]
            assert (e.model, e.dataset, e.classes) == (base.model, base.dataset, base.classes), other
    pairs = {"lscat_skip_cifar10": "resnet18_cifar10", "lscat_skip_imagenette": "resnet18_imagenette"}
    for lscat, resnet in pairs.items():
        stand_ins = [n.replace(lscat, resnet) for n in P.SOURCES[lscat][1:]]
        assert list(P.SOURCES[resnet][1:]) == stand_ins
        for a, b in zip(P.SOURCES[lscat][1:], stand_ins):
            ea, eb = P.ENTRIES[a], P.ENTRIES[b]
            assert ea.input_size == eb.input_size
            ca, cb = make_config(ea.recipe), make_config(eb.recipe)
            warm = {"init_from"} if ca["init_from"] else set()  # each from its own earlier weights
            assert {k for k in ca if ca[k] != cb[k]} == {"name", "model", "build"} | warm, (a, b)
            assert ca["build"].get("num_classes") == cb["build"].get("num_classes")
            assert eb.build["width"] < 64 and P.build_untrained(b).width == eb.build["width"]


def test_small_resnet_round_trip_and_stand_in(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(weights_store, "PRETRAINED_DIR", tmp_path)
    assert P.resolve("resnet18_imagenette") is None
    torch.manual_seed(0)
    model = P.build_untrained("resnet18_imagenette_small_swa")
    assert model.width == 17 and model.fc.out_features == 10
    P.save(model, "resnet18_imagenette_small_swa", {"top1": 0.5}, half=True)
    assert P.resolve("resnet18_imagenette") == "resnet18_imagenette_small_swa"
    loaded, card = P.load(P.resolve("resnet18_imagenette"))
    assert card["build"] == {"num_classes": 10, "width": 17} and card["input_size"] == 112
    x = P.ENTRIES["resnet18_imagenette_small_swa"].transforms(card)(Image.new("RGB", (160, 160), (200, 30, 90)))
    assert x.shape == (3, 112, 112)
    with torch.no_grad():
        assert torch.allclose(loaded(x[None]), model(x[None]), atol=2e-2)  # fp16-rounded weights
