"""Images in and out: preprocessing (transforms), data sets (datasets), augmentation on the device
(augment) and the training loaders (loaders)."""

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
    open_dataset,
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
