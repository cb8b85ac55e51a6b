"""Catalog entries for dataset transforms.

A transform is built from a dataset name and the network's input size by
``tinyms.vision.make_transform``; the arguments here tune it. The mean, std and
class names default to the dataset's values in ``datasets.yaml``. An entry's
``mean`` and ``std`` keys are the fallback when no dataset in that file names
the transform.
"""

from __future__ import annotations

from typing import Any

from tinyms.catalog._schema import arg as _arg


def _common_args(image_size: int, channels: int) -> dict[str, dict[str, Any]]:
    return {
        "image_size": _arg("int", image_size, "Side of the square image the network takes, "
                           "in pixels", min=8, max=1024),
        "channels": _arg("int", channels, "Channels of the output image: 1 (grayscale) or 3 "
                         "(RGB)", choices=[1, 3]),
        "mean": _arg("list", None, "Per-channel mean on the [0, 1] scale; null takes the "
                     "dataset's", nullable=True),
        "std": _arg("list", None, "Per-channel standard deviation on the [0, 1] scale; null "
                    "takes the dataset's", nullable=True),
        "class_names": _arg("list", None, "Class names, one per network output; null takes the "
                            "dataset's", nullable=True),
    }


TRANSFORMS: dict[str, dict[str, Any]] = {
    "mnist": {
        "summary": "Grayscale digits: resize, rescale to [0, 1], normalize, HWC to CHW",
        "args": _common_args(32, 1),
    },
    "cifar10": {
        "summary": "Small colour images: resize; random crop (padding 1/8 of the side) and "
                   "horizontal flip when training; rescale, normalize, HWC to CHW",
        "args": _common_args(32, 3),
    },
    "imagefolder": {
        "summary": "Photos in class folders: resize the shorter side to 8/7 of the size and "
                   "centre crop (random resized crop and flip when training); rescale, "
                   "normalize, HWC to CHW",
        "args": _common_args(224, 3),
        # ImageNet statistics, as published with torchvision's pretrained models.
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    },
}
