"""Catalog entries for networks.

Each entry has ``args`` (keyword argument schemas of the factory) and metadata:
``input_size`` ([height, width] the network expects), ``channels_arg`` and
``class_num_arg`` (which arguments set input channels and classes),
``default_channels``, ``params`` (trainable parameter count for the stated
``params_config``), ``datasets`` it suits, ``summary`` and ``source``.
"""

from __future__ import annotations

from typing import Any


def _arg(type_: str, default: Any, help_: str = "", **limits: Any) -> dict[str, Any]:
    return {"type": type_, "default": default, "help": help_, **limits}


_CLASS_NUM = _arg("int", 10, "Number of output classes", min=1, max=100000)

NETWORKS: dict[str, dict[str, Any]] = {
    "lenet5": {
        "summary": "LeNet-5: two 5x5 convolutions and three dense layers",
        "source": "LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998",
        "args": {
            "class_num": _CLASS_NUM,
            "num_channel": _arg("int", 1, "Input image channels", min=1, max=4),
        },
        "input_size": [32, 32],
        "channels_arg": "num_channel",
        "class_num_arg": "class_num",
        "default_channels": 1,
        "params": 61706,
        "params_config": {"class_num": 10, "num_channel": 1},
    },
    "resnet50": {
        "summary": "ResNet-50: bottleneck residual network, 3-4-6-3 blocks",
        "source": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016",
        "args": {
            "class_num": _CLASS_NUM,
            "in_channels": _arg("int", 3, "Input image channels", min=1, max=4),
        },
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 25557032,
        "params_config": {"class_num": 1000, "in_channels": 3},
    },
}
