"""Models and the one registry: ``build_model(name, num_classes=..., nonlinearity=..., ...)``.

    lscat_cifar10        LScat, CIFAR-10 configuration (SPEC §4)           12.25 M parameters
    lscat_skip_cifar10   LScat+skip, CIFAR-10 configuration                24.46 M
    lscat_imagenet       LScat, ImageNet configuration                     29.05 M
    lscat_skip_imagenet  LScat+skip, ImageNet configuration                53.50 M
    scat_cifar10         "Scat": LScat with P fixed at its orthonormal init; only the head learns
    resnet18_cifar10     standard CIFAR ResNet-18 (3x3 stem, no max-pool)  11.17 M
    resnet18_imagenet    torchvision-style ResNet-18 (7x7/2 stem + max-pool) 11.69 M
    resnet18_biasfree    SPEC §5: BatchNorm without affine, bias-free convs, pluggable non-linearity

The ResNets take ``width`` (default 64, the standard ResNet-18: stages of 64, 128, 256, 512
channels; ``width=w`` gives w, 2w, 4w, 8w), for the width-matched baselines of the narrow
scattering models (``RESNET18_WIDTH_CIFAR10_SMALL``, ``RESNET18_WIDTH_IMAGENETTE_SMALL``).

Every model takes inputs normalized with ``core.data.MEAN`` / ``core.data.STD`` (the ImageNet
statistics, for every data set, as in the reference).

Learned-scattering models accept ``input_size`` (the head's Linear layer is sized for the final map
it produces; other sizes are pooled to that map, see ``core.layers.Head``) and ``widths`` (the
complex widths of the P layers, to build narrower variants).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.filters import FilterSet, filter_set
from core.layers import Head, ScatteringBlock
from core.nonlinearities import RealNonlinearity
from core.wavelet import as_complex, full_precision, output_size

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str):
    """Decorator: add a model builder to the registry under ``name`` (a name is registered once)."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered (by {_REGISTRY[name].__module__}."
                         f"{_REGISTRY[name].__qualname__}); choose another name")

    def deco(fn):
        _REGISTRY[name] = fn
        return fn

    return deco


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def build_model(name: str, num_classes: int | None = None, nonlinearity: str | None = None, **kwargs) -> nn.Module:
    """Build a registered model. ``num_classes`` defaults to the configuration's data set (10 or
    1000); ``nonlinearity`` to "mod" (scattering models) or "relu" (ResNets)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    if num_classes is not None:
        kwargs["num_classes"] = int(num_classes)
        if kwargs["num_classes"] < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if nonlinearity is not None:
        kwargs["nonlinearity"] = nonlinearity
    model = _REGISTRY[name](**kwargs)
    model.model_name = name
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Real parameters (a complex weight counts twice since it is stored as (re, im))."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------------------------
# Learned scattering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScatConfig:
    """One learned-scattering configuration (SPEC §4)."""

    L: int
    filter_sets: tuple[str, ...]
    widths: tuple[int, ...]
    input_size: int
    num_classes: int


CIFAR10 = ScatConfig(4, ("psi1", "psi3/2") * 4, (64, 128, 256, 512, 512, 512, 512, 512), 32, 10)
IMAGENET = ScatConfig(8, ("standard",) + ("psi1", "psi3/2") * 5,
                      (32, 64, 64, 128, 256, 512, 512, 512, 512, 512, 256), 224, 1000)

# Narrower widths of these configurations, used by recipes (core.recipes) and pretrained entries
# (core.pretrained).

# A quarter of SPEC §4's ImageNet widths (3.06 M parameters): the widest Imagenette model whose
# translation update meets the demo's latency goal on 2 CPU cores (the measurements are in
# docs/DEMO.md). The full-width model is registered beside it (lscat_skip_imagenette_full).
IMAGENETTE_NARROW = (8, 16, 16, 32, 64, 128, 128, 128, 128, 128, 64)

# An eighth of SPEC §4's CIFAR-10 widths (0.39 M parameters): the interim demo model, trainable on a
# CPU in about an hour (recipe cifar10_lscat_skip_small), until the full-width weights are trained.
CIFAR10_SMALL = (8, 16, 32, 64, 64, 64, 64, 64)

# An eighth of SPEC §4's ImageNet widths (0.76 M parameters at 112 px): the photo model trained on
# a 2-core CPU (recipe imagenette_lscat_skip_small). Early blocks run at the highest resolution and
# dominate the cost, so the width decides the CPU budget (the choice and its measurements:
# docs/TRAINING.md, "The photo model").
IMAGENETTE_SMALL = (4, 8, 8, 16, 32, 64, 64, 64, 64, 64, 32)

# ResNet-18 widths (``width=``: stages of width, 2, 4 and 8 times width channels) matched to the
# eighth-width LScat+skip models above. The criterion is the parameter count: the width whose
# ResNet-18 has the count closest to the LScat+skip's (training cost is not the criterion: it
# depends on the machine, and a ResNet step is far cheaper than an LScat one at equal size; the
# measured img/s of both are recorded beside the runs, docs/TRAINING.md). tests/test_models.py
# checks that no other width is closer.
#   CIFAR-10: LScat+skip at CIFAR10_SMALL, 387,306 parameters; resnet18_cifar10 width 12, 395,350
#   (width 11: 332,441). Imagenette (10 classes): LScat+skip at IMAGENETTE_SMALL and 112 px,
#   764,986; resnet18_imagenet width 17, 793,655 (width 16: 703,386).
RESNET18_WIDTH_CIFAR10_SMALL = 12
RESNET18_WIDTH_IMAGENETTE_SMALL = 17


@dataclass
class BlockInfo:
    """What the analysis needs to know about block j's filters.

    ``scale`` is the product of the strides before the block: one pixel of the block's input grid
    is ``scale`` input-image pixels. Frequencies are in radians per pixel; ``xi_block`` on the
    block's own grid, ``xi_input`` in input pixels (= xi_block / scale). ``sigma`` is the spatial
    envelope width and ``bandwidth`` the spectral sigma_rms of the wavelet (SPEC §8), both in the
    block's pixels.
    """

    index: int
    filters: FilterSet
    scale: int
    in_size: tuple[int, int]
    out_size: tuple[int, int]

    @property
    def xi_block(self) -> torch.Tensor:
        return torch.tensor([f.xi_vec for f in self.filters.psi])  # (L, 2) (row, col)

    @property
    def xi_input(self) -> torch.Tensor:
        return self.xi_block / self.scale

    @property
    def sigma(self) -> float:
        return self.filters.psi_sigma

    @property
    def sigma_input(self) -> float:
        return self.filters.psi_sigma * self.scale

    @property
    def bandwidth(self) -> float:
        from core.filters import spectral_bandwidth, window_bank

        _, psi = window_bank(self.filters)
        return max(spectral_bandwidth(psi[k], f.xi_vec) for k, f in enumerate(self.filters.psi))


class LearnedScattering(nn.Module):
    """Iterated blocks W -> rho -> Std -> P -> N, then the head (SPEC §3-4)."""

    def __init__(self, config: ScatConfig, *, skip: bool, nonlinearity: str = "mod", num_classes: int | None = None,
                 input_size: int | None = None, widths: tuple[int, ...] | None = None, learn_projection: bool = True,
                 impl: str = "auto", in_channels: int = 3):
        super().__init__()
        widths = tuple(widths or config.widths)
        if len(widths) != len(config.filter_sets):
            raise ValueError(f"widths needs {len(config.filter_sets)} entries, got {len(widths)}")
        self.config, self.skip, self.nonlinearity = config, skip, nonlinearity
        self.input_size = int(input_size or config.input_size)
        self.num_classes = int(num_classes or config.num_classes)
        self.widths = widths
        blocks, infos = [], []
        c, size, scale, complex_input = in_channels, self.input_size, 1, False
        for j, (name, width) in enumerate(zip(config.filter_sets, widths)):
            fs = filter_set(name, config.L)
            out = output_size(size, fs.stride)
            if out < 1:
                raise ValueError(f"input_size {self.input_size} is too small: block {j} would have no pixels")
            blocks.append(ScatteringBlock(c, width, fs, complex_input=complex_input, skip=skip,
                                          nonlinearity=nonlinearity, learn_projection=learn_projection, impl=impl))
            infos.append(BlockInfo(j, fs, scale, (size, size), (out, out)))
            c, size, scale, complex_input = width, out, scale * fs.stride, True
        self.blocks = nn.ModuleList(blocks)
        self.block_info = infos
        self.head = Head(c, size, self.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    INTERMEDIATES = ("phi", "wavelet", "modulus", "rho", "output", "input")

    def forward_intermediates(self, x: torch.Tensor, indices: int | list[int] | None = None,
                              stop_early: bool = False, keys=INTERMEDIATES) -> tuple[torch.Tensor | None, list[dict]]:
        """The logits and, for the requested blocks, what each computed: ``(logits, [dict, ...])``.

        timm-like, not timm's exact API: timm returns (final features, list of tensors); this returns
        the logits and one dict per requested block, in block order.

        ``indices``: None, every block; an int k, the last k blocks (0 <= k <= number of blocks); a
        sequence, those block indices (negative ones count from the end, as in Python; each block
        once, in block order). An index out of range raises IndexError, a bad k ValueError.
        ``stop_early``: the forward pass ends after the last requested block, and logits is None.
        ``keys``: which of the entries below to compute and return (all by default; fewer is faster).
        Each dict has "info", the block's :class:`BlockInfo` (xi, sigma in block and input pixels),
        and the requested keys among (complex64 tensors; complex128 for a float64 model)
            "phi"      x * phi                          (B, C, H', W')
            "wavelet"  x * psi_theta, before rho        (B, C, L, H', W')
            "modulus"  |x * psi_theta|                  (B, C, L, H', W')
            "rho"      rho(...) as fed to Std (real for mod, complex otherwise)
            "output"   the block output (after N)       (B, C_out, H', W')
            "input"    the block input (the image for block 0, real)
        """
        unknown = set(keys) - set(self.INTERMEDIATES)
        if unknown:
            raise ValueError(f"unknown intermediate(s) {sorted(unknown)}; choose from {self.INTERMEDIATES}")
        wanted = block_indices(indices, len(self.blocks))
        if stop_early and not wanted:
            return None, []
        out = []
        for j, block in enumerate(self.blocks):
            block_input = x
            w, rho, x = block._features(x)
            if j in wanted:
                out.append(self._intermediates(j, block, block_input, w, rho, x, keys))
            if stop_early and j == wanted[-1]:
                return None, out
        return self.forward_head(x), out

    def _intermediates(self, j: int, block, block_input, w, rho, x, keys) -> dict:
        d = {"info": self.block_info[j]}
        if "phi" in keys:
            wc = as_complex(w)
            d.update(phi=wc[:, :, 0], wavelet=wc[:, :, 1:])
        elif {"wavelet", "modulus"} & set(keys):
            d["wavelet"] = as_complex(w[:, :, 1:])  # without x * phi: a smaller copy
        if "modulus" in keys:
            d["modulus"] = d["wavelet"].abs()
        if "rho" in keys:
            d["rho"] = full_precision(rho) if block.rho.collapses_phase else as_complex(rho)
        if "output" in keys:
            d["output"] = as_complex(x.unflatten(1, (-1, 2)))
        if "input" in keys:
            d["input"] = as_complex(block_input.unflatten(1, (-1, 2))) if j else full_precision(block_input)
        return {k: v for k, v in d.items() if k in keys or k == "info"}


def block_indices(indices, n: int) -> list[int]:
    """The sorted block indices that ``forward_intermediates``' ``indices`` asks for, out of ``n``."""
    if indices is None:
        return list(range(n))
    if isinstance(indices, bool):
        raise TypeError("indices must be None, an int or a sequence of ints, not a bool")
    if isinstance(indices, int) or (hasattr(indices, "__index__") and not hasattr(indices, "__len__")):
        indices = operator.index(indices)
        if not 0 <= indices <= n:
            raise ValueError(f"indices={indices} asks for the last {indices} blocks; there are {n} (0 <= k <= {n})")
        return list(range(n - indices, n))
    chosen = set()
    for i in indices:
        if isinstance(i, bool) or not hasattr(i, "__index__"):
            raise TypeError(f"block indices must be ints, got {i!r}")
        i = operator.index(i)  # numpy and 0-d torch integers too
        if not -n <= i < n:
            raise IndexError(f"block index {i} is out of range for {n} blocks (valid: {-n} to {n - 1})")
        chosen.add(i % n)
    return sorted(chosen)


@register("lscat_cifar10")
def lscat_cifar10(**kw) -> LearnedScattering:
    return LearnedScattering(CIFAR10, skip=False, **kw)


@register("lscat_skip_cifar10")
def lscat_skip_cifar10(**kw) -> LearnedScattering:
    return LearnedScattering(CIFAR10, skip=True, **kw)


@register("lscat_imagenet")
def lscat_imagenet(**kw) -> LearnedScattering:
    return LearnedScattering(IMAGENET, skip=False, **kw)


@register("lscat_skip_imagenet")
def lscat_skip_imagenet(**kw) -> LearnedScattering:
    return LearnedScattering(IMAGENET, skip=True, **kw)


@register("scat_cifar10")
def scat_cifar10(**kw) -> LearnedScattering:
    # Our reading of "Scat (P fixed)": the LScat architecture with every P frozen at its random
    # orthonormal initialization, so that only the classifier head learns.
    return LearnedScattering(CIFAR10, skip=False, learn_projection=False, **kw)


# --------------------------------------------------------------------------------------------
# ResNet-18
# --------------------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, affine: bool, nonlinearity: str):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, affine=affine)
        self.act1 = RealNonlinearity(nonlinearity, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, affine=affine)
        self.act2 = RealNonlinearity(nonlinearity, cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout, affine=affine))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.act2(y + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 with a CIFAR stem (3x3, stride 1, no max-pool) or an ImageNet stem (7x7/2 + max-pool).

    ``affine=False`` and a non-ReLU ``nonlinearity`` give the bias-free variant of SPEC §5: every
    conv is bias-free, BatchNorm has no affine parameters, only the final Linear keeps its bias.
    ``width`` is the stem's and the first stage's channels; the four stages have width, 2 width,
    4 width and 8 width (64: the standard ResNet-18; narrower ones are the width-matched baselines
    of the CPU-trained scattering models, see ``RESNET_WIDTH_CIFAR10_SMALL``)."""

    def __init__(self, num_classes: int, stem: str = "cifar", affine: bool = True, nonlinearity: str = "relu",
                 width: int = 64):
        super().__init__()
        if stem not in ("cifar", "imagenet"):
            raise ValueError(f"stem must be 'cifar' or 'imagenet', got {stem!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive integer (the first stage's channels), got {width!r}")
        self.num_classes, self.nonlinearity, self.stem_kind, self.width = num_classes, nonlinearity, stem, width
        w = width
        if stem == "cifar":
            self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w, affine=affine),
                                      RealNonlinearity(nonlinearity, w))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w, affine=affine),
                                      RealNonlinearity(nonlinearity, w), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], w
        for cout, stride in ((w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)):
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride, affine, nonlinearity),
                                        BasicBlock(cout, cout, 1, affine, nonlinearity)))
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.fc = nn.Linear(8 * w, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(self, x: torch.Tensor, indices=None,
                              stop_early: bool = False) -> tuple[torch.Tensor | None, list[dict]]:
        """``(logits, [{"output": tensor}, ...])`` for the requested stages, in order: index 0 is the
        stem's output, 1-4 the four stages' (real tensors). ``indices`` as in
        :meth:`LearnedScattering.forward_intermediates` (None: all five; an int k: the last k; a
        sequence, negative indices from the end; out of range: IndexError). With ``stop_early`` the
        stages after the last requested one are not computed and logits is None. timm-like, not
        timm's exact API (timm returns the final features and a list of tensors)."""
        stages = [self.stem, *self.layers]
        wanted = block_indices(indices, len(stages))
        out = []
        for j, stage in enumerate(stages):
            if stop_early and (not wanted or j > wanted[-1]):
                return None, out
            x = stage(x)
            if j in wanted:
                out.append({"output": x})
        return self.forward_head(x), out


@register("resnet18_cifar10")
def resnet18_cifar10(num_classes: int = 10, nonlinearity: str = "relu", width: int = 64) -> ResNet18:
    return ResNet18(num_classes, stem="cifar", affine=True, nonlinearity=nonlinearity, width=width)


@register("resnet18_imagenet")
def resnet18_imagenet(num_classes: int = 1000, nonlinearity: str = "relu", width: int = 64) -> ResNet18:
    return ResNet18(num_classes, stem="imagenet", affine=True, nonlinearity=nonlinearity, width=width)


@register("resnet18_biasfree")
def resnet18_biasfree(num_classes: int = 1000, nonlinearity: str = "relu", stem: str = "imagenet",
                      width: int = 64) -> ResNet18:
    return ResNet18(num_classes, stem=stem, affine=False, nonlinearity=nonlinearity, width=width)
