"""core.training.evaluate: shifts, shift consistency, top-k, and the CLI's last JSON line."""

import json

import pytest
import torch
from torch import nn

from core.cli import evaluate as evaluate_cli
from core.data import loaders
from core.training import evaluate as E
from tests.helpers_data import make_folder


def test_random_shifts_cover_the_square_without_zero():
    g = torch.Generator().manual_seed(0)
    for k in (1, 2, 4):
        t = E.random_shifts(5000, k, g)
        assert t.abs().max() == k and not ((t[:, 0] == 0) & (t[:, 1] == 0)).any()
        assert len(torch.unique(t, dim=0)) == (2 * k + 1) ** 2 - 1


def test_shift_images_circular_is_roll_and_zero_brings_zeros():
    x = torch.rand(3, 3, 8, 8)
    taus = torch.tensor([[1, 0], [0, -2], [1, 0]])
    c = E.shift_images(x, taus, "circular")
    for i, (dy, dx) in enumerate(taus.tolist()):
        assert torch.allclose(c[i], torch.roll(x[i], (dy, dx), dims=(-2, -1)), atol=1e-5)
    z = E.shift_images(x, taus, "zero")
    assert torch.allclose(z[0, :, 1:], x[0, :, :-1], atol=1e-5) and z[0, :, 0].abs().max() < 1e-5
    assert torch.allclose(z[1, :, :, :-2], x[1, :, :, 2:], atol=1e-5) and z[1, :, :, -2:].abs().max() < 1e-5


class MeanColour(nn.Module):
    """Translation invariant under circular shifts: a linear map of the mean colour."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 10)

    def forward(self, x):
        return self.fc(x.mean(dim=(2, 3)))


class Corner(nn.Module):
    """Reads one pixel: its prediction changes with almost any shift of a noisy image."""

    def forward(self, x):
        return torch.cat([x[:, :, 0, 0], x[:, :, 0, 1], x[:, :, 1, 0], x[:, :1, 1, 1]], 1) * 100


def test_shift_consistency_distinguishes_invariant_models():
    torch.manual_seed(0)
    x = torch.randint(0, 256, (40, 3, 12, 12), dtype=torch.uint8)
    y = torch.randint(0, 10, (40,))
    inv = E.run_evaluation(MeanColour(), loaders.tensor_batches(x, y, 16))
    assert all(v == 1.0 for v in inv["shift_consistency"]["circular"].values())
    assert inv["shift_consistency"]["zero"]["4"] < 1.0  # zeros come in: the mean colour changes
    cor = E.run_evaluation(Corner(), loaders.tensor_batches(x, y, 16))
    assert max(cor["shift_consistency"]["circular"].values()) < 0.6
    assert set(inv) >= {"n", "top1", "top5", "loss"} and inv["n"] == 40


def test_shifts_do_not_depend_on_the_batching():
    """Image i is shifted by the same tau whatever the batch sizes: training's final evaluation (its
    eval batch) and the CLI (its --batch-size) measure the same shift consistency."""
    torch.manual_seed(0)
    x = torch.randint(0, 256, (40, 3, 12, 12), dtype=torch.uint8)
    y = torch.randint(0, 10, (40,))
    runs = [E.run_evaluation(Corner(), loaders.tensor_batches(x, y, b), shifts=(1, 2)) for b in (40, 16, 7)]
    assert runs[0]["shift_consistency"] == runs[1]["shift_consistency"] == runs[2]["shift_consistency"]
    s = E.ShiftStream(2, seed=0)
    t = E.ShiftStream(2, seed=0).take(3000)
    assert torch.equal(torch.cat([s.take(5), s.take(1500), s.take(1495)]), t)
    assert not torch.equal(E.ShiftStream(2, seed=1).take(50), t[:50])


def test_top1_top5_and_padding_labels_ignored():
    m = MeanColour()
    x = torch.randint(0, 256, (20, 3, 4, 4), dtype=torch.uint8)
    with torch.no_grad():
        from core.data import normalize

        logits = m(normalize(x.float() / 255))
    y = logits.argmax(1)
    y5 = logits.topk(5, 1).indices[:, 4]  # in the top 5, not the top 1
    yb = torch.cat([y[:10], y5[10:], torch.full((4,), -1)])
    xb = torch.cat([x, x[:4]])
    r = E.run_evaluation(m, loaders.tensor_batches(xb, yb, 8), shifts=())
    assert r["n"] == 20 and r["top1"] == 0.5 and r["top5"] == 1.0
    assert "correct" not in r
    each = E.run_evaluation(m, loaders.tensor_batches(xb, yb, 8), shifts=(), per_image=True)["correct"]
    assert each == [True] * 10 + [False] * 10  # per image, in order, padding left out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny trained lscat_skip_cifar10 exported as a pretrained entry, and its data."""
    from core.training.loop import train
    from core.training.recipes import make_config

    tmp = tmp_path_factory.mktemp("exported")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    data = make_folder(tmp / "data", n_per_class=3, size=16)
    cfg = make_config("cifar10_lscat_skip", data=str(data), build={"widths": [4] * 8, "input_size": 16},
                      store_size=16, test_size=16, epochs=1, batch_size=10, bf16=False, compile=False,
                      channels_last=False, final_shifts=[1, 2, 4], workers=1)
    final = train(cfg, tmp / "run", progress=False, export="lscat_skip_cifar10", export_dir=tmp / "pre")
    torch.set_num_threads(n)
    card = json.loads((tmp / "pre" / "lscat_skip_cifar10.json").read_text())
    assert card["build"]["widths"] == [4] * 8 and card["input_size"] == 16  # the tiny architecture
    return data, tmp / "pre", final


@pytest.fixture
def exported(trained, monkeypatch):
    from core import weights as pretrained

    data, pre, final = trained
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", pre)
    return data, pre / "lscat_skip_cifar10.safetensors", final


def test_cli_prints_json_last_line(exported, capsys):
    data, weights, final = exported
    assert evaluate_cli.main(["--model", "lscat_skip_cifar10", "--data", str(data), "--workers", "0",
                                                                             "--no-progress"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    res = json.loads(out[-1])
    assert out[1].startswith("top-1")
    assert res["n"] == 30 and res["split"] == "test" and res["dataset"] == "cifar10"
    assert set(res["shift_consistency"]) == {"circular", "zero"}
    assert set(res["shift_consistency"]["zero"]) == {"1", "2", "4"}
    # the shipped-weights path and training's final evaluation agree (same weights, same preprocessing)
    assert res["top1"] == pytest.approx(final["top1"]) and res["shift_consistency"] == final["shift_consistency"]
    # explicit --weights, --limit and --split val (a synonym of test for this folder)
    assert evaluate_cli.main(["--model", "lscat_skip_cifar10", "--weights", str(weights), "--data", str(data),

                                                                                                       "--split", "val",
                   "--limit", "7", "--workers", "0", "--no-progress", "--shifts", "1"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["n"] == 7 and set(res["shift_consistency"]["circular"]) == {"1"}


def test_cli_evaluates_a_stand_in_and_says_so(trained, tmp_path, monkeypatch, capsys):
    """--model lscat_skip_cifar10 with only the interim lscat_skip_cifar10_small_long shipped: that one is
    evaluated (a note on stderr says so); with nothing shipped, one line naming what was looked for."""
    from core import weights as pretrained

    data, pre, final = trained
    stand_in = tmp_path / "pre"
    stand_in.mkdir()
    weights = (pre / "lscat_skip_cifar10.safetensors").read_bytes()
    (stand_in / "lscat_skip_cifar10_small_long.safetensors").write_bytes(weights)
    card = json.loads((pre / "lscat_skip_cifar10.json").read_text())
    (stand_in / "lscat_skip_cifar10_small_long.json").write_text(json.dumps(dict(card,
                                                                                 name="lscat_skip_cifar10_small_long")))
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", stand_in)
    assert evaluate_cli.main(["--model", "lscat_skip_cifar10", "--data", str(data), "--workers", "0",
                                                                             "--no-progress"]) == 0
    out = capsys.readouterr()
    res = json.loads(out.out.strip().splitlines()[-1])
    assert "stand-in lscat_skip_cifar10_small_long" in out.err and res["entry"] == "lscat_skip_cifar10_small_long"
    assert res["weights"].endswith("lscat_skip_cifar10_small_long.safetensors") and res["top1"] == final["top1"]
    monkeypatch.setattr(pretrained.store, "PRETRAINED_DIR", tmp_path / "empty")
    assert evaluate_cli.main(["--model", "lscat_skip_cifar10", "--data", str(data), "--workers", "0",
                                                                             "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "looked for lscat_skip_cifar10, lscat_skip_cifar10_small_long" in err[0]
    assert "weights present: none" in err[0]


def test_cli_errors_are_one_line(exported, tmp_path, capsys):
    data, weights, _ = exported
    bare = weights.with_name("bare.safetensors")  # no card beside it
    bare.write_bytes(weights.read_bytes())
    cases = [
        ["--model", "lscat_skip_cifar10", "--data", str(tmp_path / "nowhere")],
        ["--model", "lscat_skip_cifar10", "--weights", str(tmp_path / "none.safetensors"), "--data", str(data)],
        ["--model", "resnet18_imagenette", "--data", str(data)],  # no shipped weights in this folder
        ["--model", "no_such_model", "--weights", str(bare), "--data", str(data)],
        ["--model", "resnet18_cifar10", "--weights", str(bare), "--data", str(data), "--dataset", "cifar10"],
    ]
    for argv in cases:
        assert evaluate_cli.main(argv + ["--workers", "0", "--no-progress"]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:"), err
    with pytest.raises(SystemExit, match="^0$") as e:
        evaluate_cli.main(["--help"])
    assert e.value.code == 0 and "--limit" in capsys.readouterr().out

