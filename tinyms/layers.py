"""Layers to build networks: MindSpore's ``nn`` cells under the tinyms names.

``Layer`` is ``mindspore.nn.Cell`` and ``SequentialLayer`` is
``mindspore.nn.SequentialCell``; the other names are MindSpore's own.
"""

from __future__ import annotations

from mindspore import nn as _nn

__all__ = [
    "Layer",
    "SequentialLayer",
    "LayerList",
    "Conv1d",
    "Conv2d",
    "Dense",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "GELU",
    "Sigmoid",
    "Tanh",
    "HSwish",
    "Softmax",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Dropout",
    "Identity",
    "Pad",
    "Embedding",
    "LSTM",
]

Layer = _nn.Cell
SequentialLayer = _nn.SequentialCell
LayerList = _nn.CellList
Conv1d = _nn.Conv1d
Conv2d = _nn.Conv2d
Dense = _nn.Dense
BatchNorm1d = _nn.BatchNorm1d
BatchNorm2d = _nn.BatchNorm2d
LayerNorm = _nn.LayerNorm
ReLU = _nn.ReLU
ReLU6 = _nn.ReLU6
LeakyReLU = _nn.LeakyReLU
GELU = _nn.GELU
Sigmoid = _nn.Sigmoid
Tanh = _nn.Tanh
HSwish = _nn.HSwish
Softmax = _nn.Softmax
MaxPool2d = _nn.MaxPool2d
AvgPool2d = _nn.AvgPool2d
AdaptiveAvgPool2d = _nn.AdaptiveAvgPool2d
Flatten = _nn.Flatten
Dropout = _nn.Dropout
Identity = _nn.Identity
Pad = _nn.Pad
Embedding = _nn.Embedding
LSTM = _nn.LSTM
