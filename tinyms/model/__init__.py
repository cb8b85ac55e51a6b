"""The Model high-level API and the preset networks.

Network factories (``lenet5``, ``resnet50``, ...) load the zoo on first access,
so ``import tinyms.model`` does not import it.
"""

from __future__ import annotations

from typing import Any

from tinyms.model.checkpoint import LoadReport
from tinyms.model.model import Model
from tinyms.model.registry import NETWORKS, get_network, list_networks, register_network

__all__ = [
    "Model",
    "LoadReport",
    "NETWORKS",
    "get_network",
    "list_networks",
    "register_network",
    "lenet5",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "alexnet",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "mobilenetv2",
    "densenet100",
]

_NETWORK_NAMES = frozenset(__all__[6:])


def __getattr__(name: str) -> Any:
    if name in _NETWORK_NAMES:
        factory = NETWORKS.get(name)
        globals()[name] = factory
        return factory
    raise AttributeError(f"module 'tinyms.model' has no attribute {name!r}")
