"""core.pretrained: save / load round trip and every failure as a PretrainedError."""

import json

import pytest
import torch

from core import pretrained as P

TINY = {"num_classes": 10, "input_size": 16, "widths": [4] * 8}


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "PRETRAINED_DIR", tmp_path)
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
