"""A run's data: train and test loaders on the device (decoded once as uint8) or with workers, and
what the final evaluation and the card need.
"""

from __future__ import annotations

from core import data as D
from core.training.errors import TrainError


class Data:
    """Train and test loaders plus what the final evaluation and the card need."""

    def __init__(self, cfg: dict, device, rank: int, world: int, progress: bool):
        if not cfg["data"]:
            raise TrainError("no data root: pass --data ROOT (or set config['data'])")
        try:
            train_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split"], cfg["download"])
            test_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["test_split"], cfg["download"])
        except D.DataError as e:
            raise TrainError(str(e)) from None
        self.num_classes = D.NUM_CLASSES.get(cfg["dataset"]) or len(train_ds.classes)
        self.description = describe_data(cfg, train_ds, test_ds)
        kw = dict(rank=rank, world_size=world, device=device, channels_last=cfg["channels_last"])
        if cfg["loader"] == "gpu":
            self._on_device(cfg, train_ds, test_ds, kw, progress)
        else:
            self._with_workers(cfg, train_ds, test_ds, kw)
        if len(self.train) == 0:
            raise TrainError(f"{self.n_train} training images is less than one batch of {cfg['batch_size']}")

    def _on_device(self, cfg: dict, train_ds, test_ds, kw: dict, progress: bool) -> None:
        """Decoded once into uint8 tensors on the device (core.data.GpuLoader)."""
        if cfg["test_size"] != cfg["store_size"]:
            raise TrainError("the gpu loader evaluates at store_size: set test_size = store_size")
        xtr, ytr = D.decode(train_ds, cfg["store_size"], cfg["limit_train"], cfg["workers"], progress)
        xte, yte = D.decode(test_ds, cfg["store_size"], cfg["limit_test"], cfg["workers"], progress)
        self.train = D.GpuLoader(xtr, ytr, cfg["batch_size"], train=True, aug=cfg["aug"], seed=cfg["seed"], **kw)
        self.test = D.GpuLoader(xte, yte, cfg["eval_batch_size"], train=False, **kw)
        self.n_train, self.n_test = len(ytr), len(yte)
        self.final_batches = lambda: D.tensor_batches(xte, yte, cfg["eval_batch_size"])
        self.n_final_batches = -(-len(yte) // cfg["eval_batch_size"])

    def _with_workers(self, cfg: dict, train_ds, test_ds, kw: dict) -> None:
        """DataLoaders with workers (core.data.FolderLoader); the final evaluation reads the whole test
        split with the same preprocessing."""
        from torch.utils.data import DataLoader

        if cfg["limit_train"] or cfg["limit_test"]:
            raise TrainError("limit_train / limit_test are implemented for the gpu loader only")
        self.train = D.FolderLoader(train_ds, cfg["batch_size"], train=True, size=cfg["aug"]["size"], aug=cfg["aug"],
                                    seed=cfg["seed"], workers=cfg["workers"], **kw)
        self.test = D.FolderLoader(test_ds, cfg["eval_batch_size"], train=False, size=cfg["test_size"],
                                   workers=cfg["workers"], crop_fraction=cfg["crop_fraction"], **kw)
        self.n_train, self.n_test = len(train_ds), len(test_ds)
        loader = DataLoader(test_ds, batch_size=cfg["eval_batch_size"], num_workers=cfg["workers"],
                            collate_fn=D.collate_uint8)  # test_ds.transform: the test loader's Preprocess
        self.final_batches = lambda: iter(loader)
        self.n_final_batches = len(loader)


def describe_data(cfg: dict, train_ds, test_ds) -> str:
    kind = type(train_ds).__name__
    counts = f"{len(train_ds):,} {cfg['train_split']} / {len(test_ds):,} {cfg['test_split']} images"
    if cfg["dataset"] == "cifar10" and kind == "ImageFolder":
        what = "CIFAR-10, JPEG copy (32x32, quality 75; an ImageFolder, e.g. shared/data/cifar10-jpeg)"
    elif cfg["dataset"] == "cifar10":
        what = "CIFAR-10 (torchvision's original binary batches)"
    elif cfg["dataset"] == "imagenette":
        what = f"Imagenette v2 at 160 px ({kind}; the shared/data copy is 160x160 JPEG quality 80)"
    else:
        what = f"image folder {cfg['data']}"
    subset = "" if not (cfg["limit_train"] or cfg["limit_test"]) else \
        f"; subsets used: {cfg['limit_train'] or 'all'} train / {cfg['limit_test'] or 'all'} test"
    return f"{what}: {counts}{subset}"
