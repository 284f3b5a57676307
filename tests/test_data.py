"""Data sources, decoding and the on-device augmentations (on CPU tensors)."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core import data as D
from tests.helpers_data import make_folder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_pad_images_reflect_and_zero():
    x = torch.arange(2 * 3 * 5 * 6, dtype=torch.uint8).reshape(2, 3, 5, 6)
    ref = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    assert torch.equal(D.pad_images(x, 2, "reflect"), torch.from_numpy(ref))
    z = D.pad_images(x, 2, "zero")
    assert z.shape == (2, 3, 9, 10) and z[:, :, :2].sum() == 0 and torch.equal(z[:, :, 2:-2, 2:-2], x)
    with pytest.raises(ValueError, match="pad mode must be 'reflect' or 'zero'"):
        D.pad_images(x, 1, "edge")


def test_crop_flip_matches_slicing():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8, generator=g)
    xp = D.pad_images(x, 2, "zero")
    dy, dx, flip = D.random_crop_flip_params(6, 2, g, "cpu")
    out = D.crop_flip(xp, 8, dy, dx, flip)
    assert out.shape == (6, 3, 8, 8) and out.dtype == torch.uint8
    for b in range(6):
        ref = xp[b, :, dy[b]:dy[b] + 8, dx[b]:dx[b] + 8]
        assert torch.equal(out[b], ref.flip(-1) if flip[b] else ref)
    # centred crop without flip is the identity; with flip, the mirror image
    c = torch.full((6,), 2)
    assert torch.equal(D.crop_flip(xp, 8, c, c, torch.zeros(6, dtype=torch.bool)), x)
    assert torch.equal(D.crop_flip(xp, 8, c, c, torch.ones(6, dtype=torch.bool)), x.flip(-1))
    dy, dx, flip = D.random_crop_flip_params(2000, 2, g, "cpu")
    assert set(dy.tolist()) == set(range(5)) == set(dx.tolist()) and 0.4 < flip.float().mean() < 0.6


def test_resized_crop_flip():
    x = torch.rand(3, 3, 12, 12) * 255
    whole = torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 3)
    no, yes = torch.zeros(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool)
    assert torch.allclose(D.resized_crop_flip(x, 12, whole, no), x, atol=1e-3)
    assert torch.allclose(D.resized_crop_flip(x, 12, whole, yes), x.flip(-1), atol=1e-3)
    # the top-left quarter, upsampled 2x: output pixel 2m+1 samples source position m + 1/4
    quarter = torch.tensor([[-0.5, -0.5, 0.5, 0.5]] * 3)
    out = D.resized_crop_flip(x, 12, quarter, no)
    rows = 0.75 * x[..., :6, :] + 0.25 * x[..., 1:7, :]
    ref = 0.75 * rows[..., :6] + 0.25 * rows[..., 1:7]
    assert out.shape == (3, 3, 12, 12) and torch.allclose(out[..., 1::2, 1::2], ref, atol=1e-3)
    g = torch.Generator().manual_seed(1)
    box, flip = D.random_resized_crop_params(1000, (0.25, 1.0), (0.75, 4 / 3), g, "cpu")
    cy, cx, h, w = box.unbind(1)
    assert (h <= 1).all() and (w <= 1).all() and (cy.abs() + h <= 1 + 1e-6).all() and (cx.abs() + w <= 1 + 1e-6).all()
    area = h * w
    assert area.min() >= 0.25 - 1e-4 and area.max() <= 1 and 0.4 < flip.float().mean() < 0.6


def test_gpu_loader_train_is_seeded_and_sharded():
    x = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    y = torch.arange(40) % 10
    aug = {"kind": "crop_flip", "pad": 2, "pad_mode": "reflect"}
    one = D.GpuLoader(x, y, 8, train=True, aug=aug, seed=3)
    assert len(one) == 5
    b1 = list(one)
    assert all(xb.shape == (8, 3, 8, 8) and xb.dtype == torch.float32 for xb, _ in b1)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(b1, list(one)))  # same epoch, same batches
    one.set_epoch(1)
    assert not torch.equal(b1[0][0], next(iter(one))[0])
    one.set_epoch(0)
    # two ranks see the two halves of every global batch
    shards = [list(D.GpuLoader(x, y, 8, train=True, aug=aug, seed=3, rank=r, world_size=2)) for r in (0, 1)]
    for (xa, ya), (xb, yb), (xf, yf) in zip(*shards, b1):
        assert torch.equal(torch.cat([xa, xb]), xf) and torch.equal(torch.cat([ya, yb]), yf)
    # every label of the epoch appears once
    assert sorted(torch.cat([yb for _, yb in b1]).tolist()) == sorted(y.tolist())
    ev = list(D.GpuLoader(x[:19], y[:19], 8, train=False))
    assert len(ev) == 3 and ev[-1][1].tolist()[-5:] == [-1] * 5
    expected = D.normalize(x[:8].float() / 255)
    assert torch.allclose(ev[0][0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="not divisible by the 2 ranks"):
        D.GpuLoader(x, y, 9, train=True, world_size=2)
    with pytest.raises(ValueError, match="unknown augmentation 'cutout'"):
        D.GpuLoader(x, y, 8, train=True, aug={"kind": "cutout"})


@pytest.mark.parametrize("aug", [{"kind": "crop_flip", "pad": 2, "pad_mode": "reflect"},
                                 {"kind": "resized_crop_flip", "size": 6, "scale": [0.3, 1], "ratio": [0.75, 1.33]},
                                 None])
def test_gpu_loader_starts_mid_epoch_on_the_same_batches(aug):
    """set_epoch(e, start=k): batches k, k+1, ... of epoch e exactly (what a mid-epoch resume needs)."""
    x = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    y = torch.arange(40) % 10
    loader = D.GpuLoader(x, y, 8, train=True, aug=aug, seed=1)
    loader.set_epoch(3)
    full = list(loader)
    loader.set_epoch(3, start=2)
    tail = list(loader)
    assert len(tail) == 3 and len(loader) == 5
    for (xa, ya), (xb, yb) in zip(full[2:], tail):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    loader.set_epoch(4)
    assert len(list(loader)) == 5  # a new epoch starts at its beginning


def test_folder_loader_starts_mid_epoch_in_the_same_order(tmp_path):
    root = make_folder(tmp_path / "f", n_per_class=4, size=12, classes=("a", "b", "c"), splits=("train",))
    ds = D.open_dataset("folder", root, "train")
    ds.samples = [(p, i) for i, (p, _) in enumerate(ds.samples)]  # labels = image indices, to see the order
    loader = D.FolderLoader(ds, 3, train=True, size=8, aug={"scale": [0.5, 1], "ratio": [0.75, 1.33]}, workers=0)
    loader.set_epoch(2)
    full = [yb.tolist() for _, yb in loader]
    loader.set_epoch(2, start=1)
    assert [yb.tolist() for _, yb in loader] == full[1:] and len(full) == 4
    assert sorted(sum(full, [])) == list(range(12))


def test_padding_and_tensor_batches():
    x, y = torch.arange(5 * 3 * 2 * 2, dtype=torch.uint8).reshape(5, 3, 2, 2), torch.arange(5)
    plain = list(D.tensor_batches(x, y, 2))
    assert [len(b[1]) for b in plain] == [2, 2, 1] and torch.equal(torch.cat([b[0] for b in plain]), x)
    padded = list(D.tensor_batches(x, y, 2, pad=True))
    assert padded[-1][1].tolist() == [4, -1] and torch.equal(padded[-1][0][1], x[4])
    xp, yp = D.pad_batch(x[:1], y[:1], 4)
    assert xp.shape == (4, 3, 2, 2) and yp.tolist() == [0, -1, -1, -1] and torch.equal(xp[3], x[0])


@pytest.mark.parametrize("size,crop_fraction", [(16, 1.0), (16, 0.875), (15, 0.8), (7, 0.9)])
def test_preprocess_is_resize_centre_crop_normalize(size, crop_fraction):
    """Preprocess = torchvision's Resize-shorter-side (our bicubic centre square) + CenterCrop + Normalize,
    the evaluation transform of every path (pil_to_uint8 the one PIL conversion)."""
    import torchvision.transforms as T

    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (23, 31, 3), dtype=np.uint8))
    pre = D.Preprocess(size, crop_fraction=crop_fraction)
    ref = T.Compose([D.CenterSquare(round(size / crop_fraction)), T.CenterCrop(size), T.PILToTensor()])(img)
    assert torch.equal(pre.to_uint8(img), ref)
    assert torch.allclose(pre(img), D.normalize(ref.float() / 255), atol=1e-6)
    assert torch.equal(D.pil_to_uint8(img.convert("L")), T.PILToTensor()(img.convert("L").convert("RGB")))
    assert torch.equal(D.to_tensor(img), T.ToTensor()(img))


def test_open_dataset_and_decode(tmp_path):
    root = make_folder(tmp_path / "cifar", n_per_class=2, size=16)
    ds = D.open_dataset("cifar10", root, "test")
    assert len(ds) == 20 and ds.classes == list(D.CIFAR10_CLASSES)
    assert len(D.open_dataset("cifar10", root, "val")) == 20  # val <-> test
    images, labels = D.decode(ds, 16)
    assert images.shape == (20, 3, 16, 16) and images.dtype == torch.uint8
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 2)
    img, lab = ds[5]
    assert torch.equal(images[5], D.to_tensor(img).mul(255).round().to(torch.uint8)) and labels[5] == lab
    sub, _ = D.decode(ds, 8, limit=7)  # resized to 8 px like preprocess does
    assert sub.shape == (7, 3, 8, 8)
    assert torch.allclose(D.normalize(sub[:1].float() / 255),
                          D.preprocess(ds[int(torch.randperm(20, generator=torch.Generator().manual_seed(0))[0])][0],
                                       8), atol=1e-5)
    with pytest.raises(D.DataError, match="does not exist"):
        D.open_dataset("cifar10", tmp_path / "nowhere", "train")
    with pytest.raises(D.DataError, match="no 'train' folder"):
        D.open_dataset("folder", tmp_path, "train")
    with pytest.raises(D.DataError, match="expected the imagenette classes"):
        D.open_dataset("imagenette", root, "train")


def test_decode_non_square_uses_center_square(tmp_path):
    d = tmp_path / "f" / "val" / "a"
    d.mkdir(parents=True)
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8))
    img.save(d / "x.png")
    ds = D.open_dataset("folder", tmp_path / "f", "val")
    x, _ = D.decode(ds, 10)
    ref = D.preprocess(img, 10)
    assert torch.allclose(D.normalize(x.float() / 255), ref, atol=1e-5)


def test_folder_loader(tmp_path):
    root = make_folder(tmp_path / "f", n_per_class=2, size=20, classes=("a", "b", "c"), splits=("train", "val"))
    train = D.FolderLoader(D.open_dataset("folder", root, "train"), 4, train=True, size=16,
                           aug={"scale": [0.5, 1], "ratio": [0.75, 1.33]}, workers=0)
    batches = list(train)
    assert len(batches) == len(train) == 1 and batches[0][0].shape == (4, 3, 16, 16)
    ev = D.FolderLoader(D.open_dataset("folder", root, "val"), 4, train=False, size=16, workers=0)
    out = list(ev)
    assert len(out) == 2 and out[1][1].tolist() == [2, 2, -1, -1]


@pytest.mark.integration
def test_shared_cifar_copy(tmp_path):
    tar = SHARED / "cifar10-jpeg.tar.gz"
    if not tar.is_file():
        pytest.skip("../shared/data is not here")
    subprocess.run(["tar", "-xzf", str(tar), "-C", str(tmp_path), "cifar10-jpeg/test"], check=True)
    ds = D.open_dataset("cifar10", tmp_path, "test")
    assert len(ds) == 10_000 and ds.classes == list(D.CIFAR10_CLASSES)
    x, y = D.decode(ds, 32, limit=200)
    assert x.shape == (200, 3, 32, 32) and set(y.tolist()) == set(range(10))


@pytest.mark.integration
def test_shared_imagenette_copy(tmp_path):
    tar = SHARED / "imagenette2-160-val.tar"
    if not tar.is_file():
        pytest.skip("../shared/data is not here")
    subprocess.run(["tar", "-xf", str(tar), "-C", str(tmp_path)], check=True)
    ds = D.open_dataset("imagenette", tmp_path, "val")  # torchvision.datasets.Imagenette, 160px
    assert type(ds).__name__ == "Imagenette" and len(ds) == 3925 and list(ds.wnids) == list(D.IMAGENETTE_WNIDS)
    x, y = D.decode(ds, 160, limit=40)
    assert x.shape == (40, 3, 160, 160) and len(set(y.tolist())) > 5
