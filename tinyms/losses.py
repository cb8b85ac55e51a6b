"""Loss functions: MindSpore's losses under their usual names, and ``get_loss``
to build one by catalog name (``get_loss('cross_entropy', label_smoothing=0.1)``).
"""

from __future__ import annotations

from typing import Any

from mindspore import nn as _nn

from tinyms._registry import Registry

__all__ = [
    "LOSSES",
    "get_loss",
    "list_losses",
    "LossBase",
    "SoftmaxCrossEntropyWithLogits",
    "CrossEntropyLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "BCEWithLogitsLoss",
    "NLLLoss",
]

LossBase = _nn.LossBase
SoftmaxCrossEntropyWithLogits = _nn.SoftmaxCrossEntropyWithLogits
CrossEntropyLoss = _nn.CrossEntropyLoss
MSELoss = _nn.MSELoss
L1Loss = _nn.L1Loss
SmoothL1Loss = _nn.SmoothL1Loss
BCEWithLogitsLoss = _nn.BCEWithLogitsLoss
NLLLoss = _nn.NLLLoss

LOSSES = Registry("loss")


@LOSSES.register("softmax_cross_entropy")
def _softmax_cross_entropy(*, sparse: bool, reduction: str) -> _nn.Cell:
    return SoftmaxCrossEntropyWithLogits(sparse=sparse, reduction=reduction)


@LOSSES.register("cross_entropy")
def _cross_entropy(*, label_smoothing: float, reduction: str) -> _nn.Cell:
    return CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)


def get_loss(name: str, **kwargs: Any) -> _nn.Cell:
    """Build a loss by catalog name; arguments are validated against the catalog.

    Raises:
        UnknownNameError: ``name`` is not a registered loss.
        InvalidArgumentError: an argument is unknown, mistyped or out of range.
    """
    return LOSSES.build(name, **kwargs)


def list_losses() -> list[str]:
    """Return the registered loss names."""
    return LOSSES.names()
