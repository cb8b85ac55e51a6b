"""Basic operators: MindSpore's ``ops`` primitives and functional forms."""

from __future__ import annotations

from mindspore import ops as _ops

__all__ = [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "MatMul",
    "ReLU",
    "Softmax",
    "Reshape",
    "Transpose",
    "Concat",
    "Cast",
    "Shape",
    "Flatten",
    "ExpandDims",
    "Squeeze",
    "ReduceMean",
    "ReduceSum",
    "ArgMaxWithValue",
    "tensor_add",
    "tensor_sub",
    "tensor_mul",
    "tensor_div",
    "matmul",
    "reshape",
    "transpose",
    "concat",
    "cast",
    "softmax",
    "relu",
]

Add = _ops.Add
Sub = _ops.Sub
Mul = _ops.Mul
Div = _ops.Div
MatMul = _ops.MatMul
ReLU = _ops.ReLU
Softmax = _ops.Softmax
Reshape = _ops.Reshape
Transpose = _ops.Transpose
Concat = _ops.Concat
Cast = _ops.Cast
Shape = _ops.Shape
Flatten = _ops.Flatten
ExpandDims = _ops.ExpandDims
Squeeze = _ops.Squeeze
ReduceMean = _ops.ReduceMean
ReduceSum = _ops.ReduceSum
ArgMaxWithValue = _ops.ArgMaxWithValue
tensor_add = _ops.add
tensor_sub = _ops.sub
tensor_mul = _ops.mul
tensor_div = _ops.div
matmul = _ops.matmul
reshape = _ops.reshape
transpose = _ops.transpose
concat = _ops.cat
cast = _ops.cast
softmax = _ops.softmax
relu = _ops.relu
