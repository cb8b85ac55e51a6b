"""The built-in network zoo. Importing this package registers every network.

Each family module registers its factories with ``tinyms.model.registry.NETWORKS``
under the names of ``tinyms/catalog/networks.py``. Every network exports to
MINDIR and ONNX; see ``README.md`` beside this file for sizes and step times.
"""

from __future__ import annotations

from .alexnet import AlexNet, alexnet
from .densenet import DenseNetBC, densenet100
from .lenet import LeNet5, lenet5
from .mobilenetv2 import MobileNetV2, mobilenetv2
from .resnet import ResNet, resnet18, resnet34, resnet50, resnet101
from .vgg import VGG, vgg11, vgg13, vgg16, vgg19

__all__ = [
    "AlexNet",
    "DenseNetBC",
    "LeNet5",
    "MobileNetV2",
    "ResNet",
    "VGG",
    "alexnet",
    "densenet100",
    "lenet5",
    "mobilenetv2",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
]
