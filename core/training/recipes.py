"""Training recipes: one readable dict per recipe, every choice written down (airbench style).

A recipe is a complete training configuration. ``make_config(name, **overrides)`` returns a copy
with overrides applied and checked; ``core.training.train`` takes such a dict, and records it in full
in its log, its checkpoint and the model card of the weights it exports.

Why these choices (the reference recipe, SPEC §7, is 300 epochs of SGD lr 0.01, batch 128, fp32:
1.7 h on an H200, far over a 10-minute budget):

* batch 512 (CIFAR) / 256 (Imagenette) in bf16 autocast with channels_last: fills the GPU.
* SGD with Nesterov momentum 0.9, a linear warmup then a linear decay to zero: the schedule that
  short, budgeted runs (airbench, "budgeted training") find best; peak lr 0.1, a common value for
  batch 256-512 (the reference's 0.01 at batch 128 is for 300 epochs). P is scale-invariant (N
  divides by the pixel norm), so its weight decay acts as an effective learning-rate control, as for
  convolutions followed by BatchNorm. Not tuned on a GPU yet (docs/TRAINING.md).
* weight decay 5e-4 on convolution, linear and P weights only (not on BatchNorm, biases or the
  non-linearities' thresholds, gains and biases: decaying a threshold towards 0 changes the model).
* label smoothing 0.1; no EMA (with a decay to zero the last weights are already averaged enough).
* ``holdout``: a part of the training split on which every choice is made, so that the quoted
  split is not (``core.data.holdout``; the Imagenette recipes below that made no weights yet use one).
* ``budget_s``: if set, ``core.training`` times a few real steps first and sets ``epochs`` to what
  fits in that many seconds of wall time (the resolved number is recorded); None: ``epochs`` as is.

Every key is documented in ``DEFAULTS`` below; a recipe lists the keys it sets, the rest are the
defaults.
"""

from __future__ import annotations

import copy
import json

from core.data import check_holdout
from core.models import (
    CIFAR10_SMALL,
    IMAGENETTE_NARROW,
    IMAGENETTE_SMALL,
    RESNET18_WIDTH_CIFAR10_SMALL,
    RESNET18_WIDTH_IMAGENETTE_SMALL,
)

DEFAULTS: dict = dict(
    name=None,                   # recipe name (filled in by make_config)
    # -- model ------------------------------------------------------------------------------
    model=None,                  # a core.models registry name
    build={},                    # extra build_model kwargs (widths, input_size, impl, ...)
    init_from=None,              # warm start: a pretrained entry name or a .safetensors file whose weights a
                                 # fresh run starts from (the optimizer and schedule start afresh); None: init
    nonlinearity=None,           # None: the model's default (mod for scattering, relu for ResNets)
    # -- data -------------------------------------------------------------------------------
    dataset=None,                # "cifar10", "imagenette" or "folder" (core.data.open_dataset)
    data=None,                   # data root; the CLI's --data
    download=False,              # let torchvision download CIFAR-10 / Imagenette into `data`
    train_split="train",
    test_split="test",           # "val" and "test" are interchangeable for folders
    limit_train=None,            # use a fixed random subset of this many training images
    limit_test=None,
    holdout=None,                # the split choices are made on (core.data.holdout): None, or a fixed, seeded,
                                 # stratified part of train_split held out of training: a fraction in (0, 1) of
                                 # each class (0.1) or a whole number of images per class. With one, training
                                 # never opens test_split: every epoch and the final metrics are on the hold-out,
                                 # and test_split is measured once, on the weights that ship (core evaluate)
    holdout_seed=0,              # which images are held out; not the run's seed, so that every cycle of a run
                                 # holds out the same images
    loader="gpu",                # "gpu": decode once, keep on the device, augment there; "workers": DataLoader
    workers=8,                   # DataLoader workers (loader="workers") / decoding threads (None: all cores)
    store_size=32,               # images are decoded at store_size x store_size (centre square)
    test_size=32,                # evaluation size (= store_size on the gpu path)
    crop_fraction=1.0,           # workers path, evaluation: resize to test_size / crop_fraction, centre-crop
    aug={"kind": "crop_flip", "pad": 4, "pad_mode": "reflect"},
    # -- optimization -----------------------------------------------------------------------
    epochs=30,
    budget_s=None,               # wall-time budget in seconds (see module docstring), or None
    epochs_from_budget=False,    # set by core.training when it resolved `epochs` from budget_s
    batch_size=512,              # global batch (split over DDP ranks)
    eval_batch_size=500,
    optimizer="sgd",
    lr=0.1,                      # peak learning rate
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,           # on conv / linear / P weights only
    schedule="linear",           # after warmup: "linear" or "cosine" decay to lr * final_lr_fraction
    warmup_epochs=2.0,           # linear warmup from 0
    final_lr_fraction=0.0,
    label_smoothing=0.1,
    grad_clip=None,              # max global grad norm, or None
    ema=None,                    # no EMA in these recipes
    # -- speed ------------------------------------------------------------------------------
    bf16=True,                   # bf16 autocast (CUDA, and CPU: AMX-BF16 where the CPU has it)
    channels_last=True,
    compile=False,               # torch.compile the model (train and eval graphs)
    device="auto",               # "auto": cuda:LOCAL_RANK if available, else cpu
    # -- checks -----------------------------------------------------------------------------
    seed=0,
    check_every=100,             # steps between finiteness checks (one host sync each)
    checkpoint_every_s=600,      # also checkpoint within an epoch, at the first check after this many seconds
                                 # since the last checkpoint (None: at epoch ends only); changeable on resume
    final_shifts=[1, 2, 4],      # shift consistency at the end (k px, circular and zero-padded)
    export_half=True,            # exported weights in fp16; final metrics measured on those weights
)

RECIPES: dict[str, dict] = {}

# The paper's CIFAR-10 architecture (LScat + skip, 24.46 M parameters), budgeted for 10 minutes.
RECIPES["cifar10_lscat_skip"] = dict(
    model="lscat_skip_cifar10", dataset="cifar10", test_split="test",
    store_size=32, test_size=32, aug={"kind": "crop_flip", "pad": 4, "pad_mode": "reflect"},
    epochs=40, batch_size=512, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
    schedule="linear", warmup_epochs=2.0, label_smoothing=0.1,
    bf16=True, channels_last=True, compile=True,
)

# The ResNet-18 baseline: the same recipe, only the model changes.
RECIPES["cifar10_resnet18"] = dict(RECIPES["cifar10_lscat_skip"], model="resnet18_cifar10")

# LScat without skip and "Scat" (P fixed), for the experiment tables.
RECIPES["cifar10_lscat"] = dict(RECIPES["cifar10_lscat_skip"], model="lscat_cifar10")
RECIPES["cifar10_scat"] = dict(RECIPES["cifar10_lscat_skip"], model="scat_cifar10")

# The CPU smoke run that exercises the pipeline end to end (docs/runs/): an eighth-width
# LScat+skip on a 10,000-image subset, fp32, no compile. Not a model to ship.
RECIPES["cifar10_lscat_skip_cpu"] = dict(
    RECIPES["cifar10_lscat_skip"], build={"widths": list(CIFAR10_SMALL)},
    limit_train=10_000, limit_test=2_000, epochs=2, batch_size=128, eval_batch_size=500, lr=0.1,
    warmup_epochs=0.5, bf16=False, channels_last=False, compile=False, workers=2, check_every=20,
)

# The eighth-width LScat+skip on all 50,000 CIFAR-10 training images, 6 epochs on a CPU (run record:
# docs/runs/cpu_cifar10_lscat_skip_small/).
RECIPES["cifar10_lscat_skip_small"] = dict(
    RECIPES["cifar10_lscat_skip_cpu"], limit_train=None, limit_test=None, epochs=6, warmup_epochs=1.0,
)

# Its ResNet-18 baseline: the same data, recipe, input size and epochs; the ResNet-18 of
# width 12 (395,350 parameters against 387,306: the width whose parameter count is closest,
# core.models.RESNET18_WIDTH_CIFAR10_SMALL).
RECIPES["cifar10_resnet18_small"] = dict(RECIPES["cifar10_lscat_skip_small"], model="resnet18_cifar10",
                                         build={"width": RESNET18_WIDTH_CIFAR10_SMALL})

# The same eighth-width LScat+skip for 28 epochs from scratch in compiled bf16 steps (1.78x eager fp32 on
# this CPU, docs/bench/cpu_levers.jsonl); warmup 2 epochs, linear decay to 0. The served CIFAR-10 pair
# (docs/runs/cpu_cifar10_lscat_skip_small_long/).
EPOCHS_LONG = 28
RECIPES["cifar10_lscat_skip_small_long"] = dict(
    RECIPES["cifar10_lscat_skip_small"], epochs=EPOCHS_LONG, warmup_epochs=2.0,
    bf16=True, channels_last=True, compile=True, check_every=50,
)
RECIPES["cifar10_resnet18_small_long"] = dict(RECIPES["cifar10_lscat_skip_small_long"], model="resnet18_cifar10",
                                              build={"width": RESNET18_WIDTH_CIFAR10_SMALL})

# Imagenette (10 ImageNet classes, 160 px): the ImageNet architecture (11 blocks, L = 8) at a quarter of the
# width, for the demo. Trained at 128 px on random-resized crops, evaluated on the whole 160 px
# image (train at a lower resolution than test: the crops magnify objects, FixRes).
# Imagenette has no third split, so new Imagenette runs hold out a tenth of each class of train
# (HOLDOUT, seed 0) and make every choice there; val is measured once, on the weights that ship. The
# recipes of weights already made (the CPU photo model, its partner and their cycles, below) set
# holdout=None: they are the record of runs that trained on all of train and were judged on val.
HOLDOUT = 0.1
RECIPES["imagenette_lscat_skip"] = dict(
    model="lscat_skip_imagenet",
    build={"num_classes": 10, "input_size": 160, "widths": list(IMAGENETTE_NARROW)},
    dataset="imagenette", test_split="val", holdout=HOLDOUT, store_size=160, test_size=160,
    aug={"kind": "resized_crop_flip", "size": 128, "scale": [0.25, 1.0], "ratio": [0.75, 4 / 3]},
    epochs=60, batch_size=256, eval_batch_size=250, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
    schedule="linear", warmup_epochs=2.0, label_smoothing=0.1,
    bf16=True, channels_last=True, compile=True,
)
RECIPES["imagenette_lscat_skip_full"] = dict(RECIPES["imagenette_lscat_skip"],
                                             build={"num_classes": 10, "input_size": 160})
# The photo model for a 2-core CPU: an eighth of the ImageNet widths; images stored at 112 px (the
# 160 px copy resized, nothing cropped); trained on random-resized 96 px crops of scale 0.35-1 and
# tested on the whole 112 px image. Both sizes give the same 1x1 final map, so the flatten head sees at
# test time what it was trained on; the crops magnify objects by 1.27 on average, the test size by
# 112 / 96 = 1.17 (FixRes: test somewhat larger than train). Batch 32, bf16 autocast.
RECIPES["imagenette_lscat_skip_small"] = dict(
    RECIPES["imagenette_lscat_skip"],
    build={"num_classes": 10, "input_size": 112, "widths": list(IMAGENETTE_SMALL)},
    store_size=112, test_size=112, holdout=None,
    aug={"kind": "resized_crop_flip", "size": 96, "scale": [0.35, 1.0], "ratio": [0.75, 4 / 3]},
    epochs=24, batch_size=32, eval_batch_size=125, lr=0.05, weight_decay=5e-4, warmup_epochs=1.0,
    bf16=True, channels_last=True, compile=False, workers=2, check_every=50,
)
RECIPES["imagenette_resnet18"] = dict(RECIPES["imagenette_lscat_skip"], model="resnet18_imagenet",
                                      build={"num_classes": 10})
# The ResNet-18 baseline beside the CPU-trained photo model: the same data, recipe, input
# sizes (96 px crops, 112 px test) and 24 epochs; width 17 (793,655 parameters against 764,986, the
# closest count: core.models.RESNET18_WIDTH_IMAGENETTE_SMALL). The ImageNet stem (stride 4) leaves a
# small final map, 4x4 at 112 px and 3x3 on the 96 px crops (7x7 at 224), which the ResNet pools
# globally, so train and test sizes need no matching head.
RECIPES["imagenette_resnet18_small"] = dict(RECIPES["imagenette_lscat_skip_small"], model="resnet18_imagenet",
                                            build={"num_classes": 10, "width": RESNET18_WIDTH_IMAGENETTE_SMALL})

# Further cycles of the photo model and of its partner (SGDR-style warm restarts): each starts from the
# previous cycle's exported weights (init_from), with a new seed, a lower peak learning rate, half a
# warm-up epoch and a linear decay to 0; the same data, sizes, batch and augmentation. Cycles 2-5 are
# then averaged (core.training.average; the catalog declares it). Why each cycle was run, and on which
# split that was decided, is in its run record (docs/runs/cpu_imagenette_*).


def warm_cycle(first: str, init_from: str, *, seed: int, epochs: int, lr: float) -> dict:
    """A further cycle of the recipe ``first``: warm-started from the pretrained entry ``init_from``,
    with a new seed, ``epochs`` epochs and a peak ``lr`` (half a warm-up epoch, linear decay to 0)."""
    return dict(RECIPES[first], init_from=init_from, seed=seed, epochs=epochs, lr=lr, warmup_epochs=0.5)


# cycle: (seed, epochs, peak lr); cycle n starts from the weights cycle n - 1 exported.
CYCLES = {2: (1, 10, 0.025), 3: (2, 14, 0.015), 4: (3, 12, 0.01), 5: (4, 12, 0.007)}
for _recipe, _entry in (("imagenette_lscat_skip_small", "lscat_skip_imagenette_small"),
                        ("imagenette_resnet18_small", "resnet18_imagenette_small")):
    for _n, (_seed, _epochs, _lr) in CYCLES.items():
        _start = _entry if _n == 2 else f"{_entry}_cycle{_n - 1}"
        RECIPES[f"{_recipe}_cycle{_n}"] = warm_cycle(_recipe, _start, seed=_seed, epochs=_epochs, lr=_lr)

# ImageNet-size folders (ROOT/train, ROOT/val): the DataLoader path, the reference's 224 / 256 crops.
RECIPES["imagenet_lscat_skip"] = dict(
    model="lscat_skip_imagenet", dataset="folder", test_split="val", loader="workers", workers=12,
    store_size=224, test_size=224, crop_fraction=0.875,
    aug={"kind": "resized_crop_flip", "size": 224, "scale": [0.08, 1.0], "ratio": [0.75, 4 / 3]},
    epochs=90, batch_size=256, eval_batch_size=250, lr=0.1, weight_decay=1e-4, warmup_epochs=2.0,
    label_smoothing=0.1, bf16=True, channels_last=True, compile=True,
)


class RecipeError(ValueError):
    """Unknown recipe or key, or a value of the wrong kind."""


def list_recipes() -> list[str]:
    return sorted(RECIPES)


def make_config(recipe: str | dict | None = None, **overrides) -> dict:
    """A full configuration: DEFAULTS < the recipe (a name or a dict) < overrides. Checks the keys."""
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise RecipeError(f"unknown recipe {recipe!r}; available: {', '.join(list_recipes())}")
        base = dict(RECIPES[recipe], name=recipe)
    else:
        base = dict(recipe or {})
    cfg = copy.deepcopy(DEFAULTS)
    for source in (base, overrides):
        unknown = sorted(set(source) - set(DEFAULTS))
        if unknown:
            raise RecipeError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        cfg.update(copy.deepcopy(source))
    return check_config(cfg)


def check_config(cfg: dict) -> dict:
    """Validate value kinds and ranges; returns cfg as plain JSON types (tuples become lists)."""
    cfg = json.loads(json.dumps(cfg))
    if not cfg["model"]:
        raise RecipeError("config has no 'model'")
    if cfg["dataset"] not in ("cifar10", "imagenette", "folder"):
        raise RecipeError(f"dataset must be cifar10, imagenette or folder, got {cfg['dataset']!r}")
    for key in ("epochs", "batch_size", "eval_batch_size", "store_size", "test_size", "check_every"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise RecipeError(f"{key} must be a positive integer, got {cfg[key]!r}")
    for key in ("lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing", "final_lr_fraction"):
        if not isinstance(cfg[key], (int, float)) or isinstance(cfg[key], bool) or cfg[key] < 0:
            raise RecipeError(f"{key} must be a non-negative number, got {cfg[key]!r}")
    if cfg["budget_s"] is not None and (not isinstance(cfg["budget_s"], (int, float)) or cfg["budget_s"] <= 0):
        raise RecipeError(f"budget_s must be a positive number of seconds or None, got {cfg['budget_s']!r}")
    every = cfg["checkpoint_every_s"]
    if every is not None and (not isinstance(every, (int, float)) or isinstance(every, bool) or every <= 0):
        raise RecipeError(f"checkpoint_every_s must be a positive number of seconds or None, got {every!r}")
    if cfg["optimizer"] != "sgd":
        raise RecipeError(f"optimizer must be 'sgd' (the only one implemented), got {cfg['optimizer']!r}")
    if cfg["ema"] is not None:
        raise RecipeError("ema is not implemented (None only)")
    if cfg["schedule"] not in ("linear", "cosine"):
        raise RecipeError(f"schedule must be 'linear' or 'cosine', got {cfg['schedule']!r}")
    if cfg["loader"] not in ("gpu", "workers"):
        raise RecipeError(f"loader must be 'gpu' or 'workers', got {cfg['loader']!r}")
    aug = cfg["aug"]
    if aug is not None and (not isinstance(aug, dict) or aug.get("kind") not in ("crop_flip", "resized_crop_flip")):
        raise RecipeError(f"aug must be None or a dict with kind crop_flip / resized_crop_flip, got {aug!r}")
    if aug and aug["kind"] == "resized_crop_flip":
        for key in ("size", "scale", "ratio"):
            if key not in aug:
                raise RecipeError(f"aug resized_crop_flip needs {key!r}")
    if cfg["loader"] == "workers" and aug and aug["kind"] != "resized_crop_flip":
        raise RecipeError("loader 'workers' implements the resized_crop_flip augmentation only")
    if cfg["init_from"] is not None and (not isinstance(cfg["init_from"], str) or not cfg["init_from"]):
        raise RecipeError(f"init_from must be a pretrained entry name or a .safetensors path, got {cfg['init_from']!r}")
    if not isinstance(cfg["build"], dict):
        raise RecipeError(f"build must be a dict of build_model arguments, got {cfg['build']!r}")
    check_holdout_keys(cfg)
    return cfg


def check_holdout_keys(cfg: dict) -> None:
    """holdout (core.data.check_holdout), holdout_seed, and what a hold-out excludes."""
    try:
        check_holdout(cfg["holdout"])
    except ValueError as e:
        raise RecipeError(str(e)) from None
    seed = cfg["holdout_seed"]
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise RecipeError(f"holdout_seed must be a non-negative integer, got {seed!r}")
    if cfg["holdout"] is not None and cfg["limit_test"] is not None:
        raise RecipeError("limit_test limits the test split, which a run with a hold-out never opens: "
                          "set limit_test=None (the hold-out is evaluated whole)")
