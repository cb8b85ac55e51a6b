"""Computer-vision preprocessing: one call for one image or a whole dataset.

    >>> from PIL import Image
    >>> from tinyms.vision import mnist_transform
    >>> img = mnist_transform(Image.open('picture.jpg'))      # float32, (1, 32, 32)
    >>> mnist_ds = mnist_transform.apply_ds(mnist_ds)         # mapped and batched

``make_transform(dataset, image_size=...)`` builds a transform for other sizes
and ``transform_for(network, dataset)`` resolves it from the catalogs. The
MindSpore operations they are made of (``Resize``, ``Rescale``, ``Normalize``,
``HWC2CHW``, ...) are re-exported here by name. Each loads
``mindspore.dataset`` on first use, so ``import tinyms.vision`` does not.
"""

from __future__ import annotations

import importlib
from typing import Any

from .images import adapt_channels, decode_image, to_uint8_hwc
from .postprocess import STRATEGIES, Prediction, postprocess
from .transforms import (
    TRANSFORMS,
    Cifar10Transform,
    DatasetTransform,
    ImageFolderTransform,
    MnistTransform,
    list_transforms,
    make_transform,
    transform_for,
)

# Re-exported MindSpore operations, by the module that defines them.
_VISION_OPS = (
    "AutoAugment", "CenterCrop", "ConvertColor", "ConvertMode", "CutOut", "Decode",
    "GaussianBlur", "Grayscale", "HWC2CHW", "HorizontalFlip", "Inter", "Invert", "Normalize",
    "Pad", "RandAugment", "RandomColorAdjust", "RandomCrop", "RandomErasing",
    "RandomHorizontalFlip", "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip",
    "Rescale", "Resize", "ToTensor", "VerticalFlip",
)
_TRANSFORM_OPS = ("Compose", "OneHot", "RandomApply", "RandomChoice", "TypeCast")
_OP_MODULES = {
    **dict.fromkeys(_VISION_OPS, "mindspore.dataset.vision"),
    **dict.fromkeys(_TRANSFORM_OPS, "mindspore.dataset.transforms"),
}

#: Default transforms at the catalog's default sizes (32, 32 and 224 pixels).
mnist_transform = make_transform("mnist")
cifar10_transform = make_transform("cifar10")
imagefolder_transform = make_transform("imagefolder")

__all__ = [
    "DatasetTransform",
    "MnistTransform",
    "Cifar10Transform",
    "ImageFolderTransform",
    "TRANSFORMS",
    "make_transform",
    "transform_for",
    "list_transforms",
    "mnist_transform",
    "cifar10_transform",
    "imagefolder_transform",
    "Prediction",
    "STRATEGIES",
    "postprocess",
    "to_uint8_hwc",
    "adapt_channels",
    "decode_image",
    *_VISION_OPS,
    *_TRANSFORM_OPS,
]


def __getattr__(name: str) -> Any:
    if name not in _OP_MODULES:
        raise AttributeError(f"module 'tinyms.vision' has no attribute {name!r}")
    value = getattr(importlib.import_module(_OP_MODULES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
