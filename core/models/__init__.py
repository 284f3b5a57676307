"""The models and their one registry: ``build_model(name, ...)``, ``list_models()``.

registry: the registry and ``kind(model)``; scattering: the learned-scattering networks (SPEC §4);
resnet: the ResNet-18 baselines (SPEC §5)."""

from core.models.registry import (  # noqa: F401
    KINDS,
    build_model,
    count_parameters,
    kind,
    list_models,
    register,
)
from core.models.resnet import (  # noqa: F401
    RESNET18_WIDTH_CIFAR10_SMALL,
    RESNET18_WIDTH_IMAGENETTE_SMALL,
    BasicBlock,
    ResNet18,
    resnet18_biasfree,
    resnet18_cifar10,
    resnet18_imagenet,
)
from core.models.scattering import (  # noqa: F401
    CIFAR10,
    CIFAR10_SMALL,
    IMAGENET,
    IMAGENETTE_NARROW,
    IMAGENETTE_SMALL,
    BlockInfo,
    LearnedScattering,
    ScatConfig,
    block_indices,
    lscat_cifar10,
    lscat_imagenet,
    lscat_skip_cifar10,
    lscat_skip_imagenet,
    scat_cifar10,
)
