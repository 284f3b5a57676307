"""The catalog of weights: one declaration per model, saying what it is for and how it is made.

An :class:`Entry` says which registry model to build, for which data, classes, input size and
normalization (and carries its evaluation transform, like torchvision's weights), which recipe of
``core.training.recipes`` trains it, and, for an average, which weights it averages. A recipe says
where a further cycle starts (``init_from``), so that the lineage of every model is written once:
the recipe of each cycle names the weights it starts from, and an average names its cycles.

The public names (``lscat_skip_cifar10``, ``resnet18_imagenette``, ...) are the paper's models.
Until a GPU trains them, a model trained on a CPU stands in for each (:data:`SOURCES`): ``load``,
``python -m core evaluate`` and the demo take the public name and use whichever is shipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.data import CIFAR10_CLASSES, IMAGENETTE_CLASSES, MEAN, STD, Preprocess
from core.models import (
    CIFAR10_SMALL,
    IMAGENETTE_NARROW,
    IMAGENETTE_SMALL,
    RESNET18_WIDTH_CIFAR10_SMALL,
    RESNET18_WIDTH_IMAGENETTE_SMALL,
)


@dataclass(frozen=True)
class Entry:
    """What a set of weights is for (the card adds how it was made and how well it does)."""

    model: str
    dataset: str
    classes: tuple[str, ...]
    input_size: int
    recipe: str
    build: dict = field(default_factory=dict)
    mean: tuple[float, ...] = MEAN
    std: tuple[float, ...] = STD
    description: str = ""
    average_of: tuple[str, ...] = ()  # weights averaged into these (core.training.average); none: trained

    def transforms(self, card: dict | None = None) -> Preprocess:
        """The evaluation preprocessing of these weights (as torchvision's ``Weights.transforms()``):
        PIL image -> shorter side to the input size, centre square, normalized with the mean / std.
        A ``card`` overrides the entry's input size, mean and std where it records them (an exported
        file describes the weights it holds, e.g. a smaller test model)."""
        card = card or {}
        return Preprocess(int(card.get("input_size") or self.input_size), card.get("mean") or self.mean,
                          card.get("std") or self.std)


ENTRIES: dict[str, Entry] = {
    "lscat_skip_cifar10": Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_lscat_skip",
                                description="LScat+skip, the paper's CIFAR-10 architecture"),
    "lscat_skip_cifar10_small": Entry("lscat_skip_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_lscat_skip_small",
                                      build={"widths": CIFAR10_SMALL},
                                      description="the CIFAR-10 architecture at an eighth of the widths, "
                                                  "trained on a CPU"),
    "resnet18_cifar10": Entry("resnet18_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_resnet18",
                              description="ResNet-18 baseline, same recipe and budget"),
    "resnet18_cifar10_small": Entry("resnet18_cifar10", "cifar10", CIFAR10_CLASSES, 32, "cifar10_resnet18_small",
                                    build={"width": RESNET18_WIDTH_CIFAR10_SMALL},
                                    description="ResNet-18 at width 12 (the parameter count of its LScat+skip "
                                                "partner), same recipe and budget, trained on a CPU"),
    "lscat_skip_imagenette": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 160,
                                   "imagenette_lscat_skip",
                                   build={"num_classes": 10, "input_size": 160, "widths": IMAGENETTE_NARROW},
                                   description="LScat+skip, ImageNet configuration at a quarter of the widths, 160 px"),
    "lscat_skip_imagenette_small": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 112,
                                         "imagenette_lscat_skip_small",
                                         build={"num_classes": 10, "input_size": 112, "widths": IMAGENETTE_SMALL},
                                         description="LScat+skip, ImageNet configuration at an eighth of the widths, "
                                                     "112 px, trained on a CPU"),
    "lscat_skip_imagenette_full": Entry("lscat_skip_imagenet", "imagenette", IMAGENETTE_CLASSES, 160,
                                        "imagenette_lscat_skip_full", build={"num_classes": 10, "input_size": 160},
                                        description="LScat+skip, full ImageNet widths, 160 px"),
    "resnet18_imagenette": Entry("resnet18_imagenet", "imagenette", IMAGENETTE_CLASSES, 160, "imagenette_resnet18",
                                 build={"num_classes": 10}, description="ResNet-18 baseline, same recipe and budget"),
    "resnet18_imagenette_small": Entry("resnet18_imagenet", "imagenette", IMAGENETTE_CLASSES, 112,
                                       "imagenette_resnet18_small",
                                       build={"num_classes": 10, "width": RESNET18_WIDTH_IMAGENETTE_SMALL},
                                       description="ResNet-18 at width 17 (the parameter count of its LScat+skip "
                                                   "partner), 112 px, same recipe and budget, trained on a CPU"),
}


def cycle(first: str, n: int, how: str) -> str:
    """Declare cycle ``n`` of the CPU model ``first``: the same model, data, sizes and build, made by the
    recipe ``<first's recipe>_cycle<n>`` (which names the weights it starts from). Returns its name."""
    e, name = ENTRIES[first], f"{first}_cycle{n}"
    ENTRIES[name] = replace(e, recipe=f"{e.recipe}_cycle{n}",
                            description=e.description.replace("trained on a CPU", how))
    return name


def average(first: str, cycles: tuple[str, ...], how: str) -> str:
    """Declare ``<first>_swa``: the weights of ``cycles`` averaged, statistics recomputed with the last
    cycle's recipe (its data, augmentation and seed)."""
    e, name = ENTRIES[first], f"{first}_swa"
    ENTRIES[name] = replace(e, recipe=ENTRIES[cycles[-1]].recipe, average_of=tuple(cycles),
                            description=e.description.replace("trained on a CPU", how))
    return name


# The CIFAR-10 stand-ins trained longer: 28 epochs from scratch (not a cycle), the served pair.
for _first in ("lscat_skip_cifar10_small", "resnet18_cifar10_small"):
    ENTRIES[_first + "_long"] = replace(ENTRIES[_first], recipe=ENTRIES[_first].recipe + "_long",
                                        description=ENTRIES[_first].description.replace(
                                            "trained on a CPU", "trained for 28 epochs on a CPU"))
# The photo model and its partner: a first cycle of 24 epochs, four warm-restarted cycles, and the
# average of cycles 2-5 (SWA), the served pair.
for _first in ("lscat_skip_imagenette_small", "resnet18_imagenette_small"):
    _cycles = tuple(cycle(_first, n, f"cycle {n} on a CPU") for n in (2, 3, 4, 5))
    average(_first, _cycles, "trained on a CPU in five cycles, the last four averaged (SWA)")

# Public name -> the weights tried for it, in order: the paper's widths first, then the CPU stand-in
# that is shipped. A pair (a scattering model and its ResNet-18 partner) is always shipped together,
# from the same recipe, so that the demo compares like with like.
SOURCES: dict[str, tuple[str, ...]] = {
    "lscat_skip_cifar10": ("lscat_skip_cifar10", "lscat_skip_cifar10_small_long"),
    "resnet18_cifar10": ("resnet18_cifar10", "resnet18_cifar10_small_long"),
    "lscat_skip_imagenette": ("lscat_skip_imagenette", "lscat_skip_imagenette_small_swa"),
    "resnet18_imagenette": ("resnet18_imagenette", "resnet18_imagenette_small_swa"),
}


def sources(name: str) -> tuple[str, ...]:
    """``name`` and its stand-ins, in the order they are tried (just ``(name,)`` for most entries)."""
    return SOURCES.get(name, (name,))
