"""Basic building blocks: Tensor, Parameter, dtypes and numpy-style functions.

These are MindSpore's own objects under the names the tinyms design note uses;
the numpy-style functions come from ``mindspore.numpy`` and accept Tensors,
numpy arrays and Python sequences.
"""

from __future__ import annotations

from mindspore import Parameter, Tensor, dtype
from mindspore import numpy as _mnp

__all__ = [
    "Tensor",
    "Parameter",
    "dtype",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "uint8",
    "bool_",
    "array",
    "asarray",
    "ones",
    "zeros",
    "ones_like",
    "zeros_like",
    "full",
    "eye",
    "arange",
    "linspace",
    "concatenate",
    "stack",
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "mean",
    "sum",
    "argmax",
    "exp",
    "sqrt",
    "clip",
    "where",
    "dot",
    "matmul",
    "maximum",
    "minimum",
]

float16 = dtype.float16
float32 = dtype.float32
float64 = dtype.float64
int32 = dtype.int32
int64 = dtype.int64
uint8 = dtype.uint8
bool_ = dtype.bool_

array = _mnp.array
asarray = _mnp.asarray
ones = _mnp.ones
zeros = _mnp.zeros
ones_like = _mnp.ones_like
zeros_like = _mnp.zeros_like
full = _mnp.full
eye = _mnp.eye
arange = _mnp.arange
linspace = _mnp.linspace
concatenate = _mnp.concatenate
stack = _mnp.stack
reshape = _mnp.reshape
transpose = _mnp.transpose
expand_dims = _mnp.expand_dims
squeeze = _mnp.squeeze
mean = _mnp.mean
sum = _mnp.sum  # noqa: A001 - the numpy name, shadowing the builtin in this module only
argmax = _mnp.argmax
exp = _mnp.exp
sqrt = _mnp.sqrt
clip = _mnp.clip
where = _mnp.where
dot = _mnp.dot
matmul = _mnp.matmul
maximum = _mnp.maximum
minimum = _mnp.minimum
