"""The ResNet-18 baselines (SPEC §5): CIFAR and ImageNet stems, a bias-free variant with a pluggable
non-linearity, and widths matched to the eighth-width scattering models.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.models.registry import register
from core.models.scattering import block_indices
from core.nn.nonlinearities import RealNonlinearity

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

    KIND = "features"  # core.models.kind: stage outputs through forward_intermediates

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
