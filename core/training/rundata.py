"""A run's data: train and evaluation loaders on the device (decoded once as uint8) or with workers,
and what the final evaluation and the card need.

The evaluation split is the recipe's ``test_split``, or, when the recipe has a ``holdout``, the
hold-out carved from ``train_split`` (``core.data.holdout``): training then uses the rest of
``train_split`` and never opens ``test_split``.
"""

from __future__ import annotations

from torch.utils.data import Subset

from core import data as D
from core.training.errors import TrainError


class Data:
    """Train and evaluation loaders plus what the final evaluation and the card need.

    ``eval_split``: "holdout" or the test split's name; ``eval_prefix``: the prefix of the per-epoch
    metrics in log.jsonl ("holdout" or "test"); ``n_test``: the images of the evaluation split."""

    def __init__(self, cfg: dict, device, rank: int, world: int, progress: bool):
        if not cfg["data"]:
            raise TrainError("no data root: pass --data ROOT (or set config['data'])")
        hold = cfg["holdout"] is not None
        try:
            train_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split"], cfg["download"])
            # a hold-out is a second view of the training split, with its own (evaluation) transform
            test_ds = D.open_dataset(cfg["dataset"], cfg["data"], cfg["train_split" if hold else "test_split"],
                                     cfg["download"])
            self.split = D.carve(train_ds, cfg["holdout"], cfg["holdout_seed"]) if hold else None
        except D.DataError as e:
            raise TrainError(str(e)) from None
        self.eval_split, self.eval_prefix = ("holdout", "holdout") if hold else (cfg["test_split"], "test")
        self.num_classes = D.NUM_CLASSES.get(cfg["dataset"]) or len(train_ds.classes)
        kw = dict(rank=rank, world_size=world, device=device, channels_last=cfg["channels_last"])
        if cfg["loader"] == "gpu":
            self._on_device(cfg, train_ds, test_ds, kw, progress)
        else:
            self._with_workers(cfg, train_ds, test_ds, kw)
        self.description = describe_data(cfg, train_ds, test_ds, self.n_train, self.n_test)
        if len(self.train) == 0:
            raise TrainError(f"{self.n_train} training images is less than one batch of {cfg['batch_size']}")

    def _on_device(self, cfg: dict, train_ds, test_ds, kw: dict, progress: bool) -> None:
        """Decoded once into uint8 tensors on the device (core.data.GpuLoader)."""
        if cfg["test_size"] != cfg["store_size"]:
            raise TrainError("the gpu loader evaluates at store_size: set test_size = store_size")
        if self.split is None:
            xtr, ytr = D.decode(train_ds, cfg["store_size"], cfg["limit_train"], cfg["workers"], progress)
            xte, yte = D.decode(test_ds, cfg["store_size"], cfg["limit_test"], cfg["workers"], progress)
        else:  # the whole training split decoded once, then cut: the hold-out, and the rest (limited)
            x, y = D.decode(train_ds, cfg["store_size"], None, cfg["workers"], progress)
            keep, held = self.split
            keep = keep[D.fixed_subset(len(keep), cfg["limit_train"])]
            xtr, ytr, xte, yte = x[keep], y[keep], x[held], y[held]
        self.train = D.GpuLoader(xtr, ytr, cfg["batch_size"], train=True, aug=cfg["aug"], seed=cfg["seed"], **kw)
        self.test = D.GpuLoader(xte, yte, cfg["eval_batch_size"], train=False, **kw)
        self.n_train, self.n_test = len(ytr), len(yte)
        self.final_batches = lambda: D.tensor_batches(xte, yte, cfg["eval_batch_size"])
        self.n_final_batches = -(-len(yte) // cfg["eval_batch_size"])

    def _with_workers(self, cfg: dict, train_ds, test_ds, kw: dict) -> None:
        """DataLoaders with workers (core.data.FolderLoader); the final evaluation reads the whole
        evaluation split with the same preprocessing."""
        from torch.utils.data import DataLoader

        if cfg["limit_train"] or cfg["limit_test"]:
            raise TrainError("limit_train / limit_test are implemented for the gpu loader only")
        if self.split is not None:
            train_ds, test_ds = Subset(train_ds, self.split[0].tolist()), Subset(test_ds, self.split[1].tolist())
        self.train = D.FolderLoader(train_ds, cfg["batch_size"], train=True, size=cfg["aug"]["size"], aug=cfg["aug"],
                                    seed=cfg["seed"], workers=cfg["workers"], **kw)
        self.test = D.FolderLoader(test_ds, cfg["eval_batch_size"], train=False, size=cfg["test_size"],
                                   workers=cfg["workers"], crop_fraction=cfg["crop_fraction"], **kw)
        self.n_train, self.n_test = len(train_ds), len(test_ds)
        loader = DataLoader(test_ds, batch_size=cfg["eval_batch_size"], num_workers=cfg["workers"],
                            collate_fn=D.collate_uint8)  # the test loader's Preprocess (core.data.set_transform)
        self.final_batches = lambda: iter(loader)
        self.n_final_batches = len(loader)


def describe_data(cfg: dict, train_ds, test_ds, n_train: int, n_test: int) -> str:
    kind = type(train_ds).__name__
    if cfg["holdout"] is None:
        counts = f"{len(train_ds):,} {cfg['train_split']} / {len(test_ds):,} {cfg['test_split']} images"
    else:
        counts = (f"{len(train_ds):,} {cfg['train_split']} images, of which {n_test:,} held out (holdout "
                  f"{cfg['holdout']}, holdout_seed {cfg['holdout_seed']}) for every evaluation; the "
                  f"{cfg['test_split']} split not opened")
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
