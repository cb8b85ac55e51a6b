"""Catalog entries for dataset transforms.

A transform is built from a dataset name and the network's input size by
``tinyms.vision.make_transform``; the arguments here tune it.
"""

from __future__ import annotations

from typing import Any


def _arg(type_: str, default: Any, help_: str = "", **limits: Any) -> dict[str, Any]:
    return {"type": type_, "default": default, "help": help_, **limits}


_IMAGE_SIZE = _arg("int", 32, "Side of the square image the network takes, in pixels",
                   min=8, max=1024)

TRANSFORMS: dict[str, dict[str, Any]] = {
    "mnist": {
        "summary": "Grayscale digits: resize, rescale to [0, 1], normalize, HWC to CHW",
        "args": {"image_size": _IMAGE_SIZE,
                 "channels": _arg("int", 1, "Output channels", choices=[1, 3])},
    },
    "cifar10": {
        "summary": "Colour images: random crop and flip when training, normalize, HWC to CHW",
        "args": {"image_size": _IMAGE_SIZE,
                 "channels": _arg("int", 3, "Output channels", choices=[1, 3])},
    },
    "imagefolder": {
        "summary": "Photos in class folders: resize and centre crop, normalize, HWC to CHW",
        "args": {"image_size": _arg("int", 224, "Side of the square image, in pixels",
                                    min=8, max=1024),
                 "channels": _arg("int", 3, "Output channels", choices=[1, 3])},
    },
}
