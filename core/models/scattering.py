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
it produces; other sizes are pooled to that map, see ``core.nn.blocks.Head``) and ``widths`` (the
complex widths of the P layers, to build narrower variants).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
from torch import nn

from core.models.registry import register
from core.nn.blocks import Head, ScatteringBlock
from core.nn.filters import FilterSet, filter_set
from core.nn.wavelet import as_complex, full_precision, output_size


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
        from core.nn.filters import spectral_bandwidth, window_bank

        _, psi = window_bank(self.filters)
        return max(spectral_bandwidth(psi[k], f.xi_vec) for k, f in enumerate(self.filters.psi))


class LearnedScattering(nn.Module):
    """Iterated blocks W -> rho -> Std -> P -> N, then the head (SPEC §3-4)."""

    KIND = "scattering"  # core.models.kind

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
