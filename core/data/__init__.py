"""Images in and out: preprocessing (transforms), data sets (datasets), augmentation on the device
(augment), the training loaders (loaders) and the hold-out carved from a training split (holdout)."""

from core.data.augment import (  # noqa: F401
    crop_flip,
    normalize_uint8,
    pad_images,
    random_crop_flip_params,
    random_resized_crop_params,
    resized_crop_flip,
)
from core.data.datasets import (  # noqa: F401
    DATASETS,
    NUM_CLASSES,
    DataError,
    collate_uint8,
    decode,
    fixed_subset,
    open_dataset,
    set_transform,
)
from core.data.holdout import (  # noqa: F401
    carve,
    check_holdout,
    holdout_spec,
    labels_of,
    split_holdout,
)
from core.data.loaders import (  # noqa: F401
    FolderLoader,
    GpuLoader,
    epoch_generator,
    pad_batch,
    tensor_batches,
)
from core.data.transforms import (  # noqa: F401
    CIFAR10_CLASSES,
    IMAGENETTE_CLASSES,
    IMAGENETTE_WNIDS,
    MEAN,
    STD,
    CenterSquare,
    Preprocess,
    ToUint8,
    center_square,
    denormalize,
    normalize,
    pil_to_uint8,
    preprocess,
    to_tensor,
)
