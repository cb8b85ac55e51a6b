"""tinyms: a high-level API over MindSpore.

``import tinyms`` is cheap: it imports no MindSpore. The names below load their
module on first use (PEP 562), so ``from tinyms import Tensor`` imports
MindSpore then, and the generator, which needs only ``tinyms.catalog``, never
does. Importing tinyms also sets the CPU defaults that must precede MindSpore's
first operator (see ``tinyms._cpu``).
"""

from __future__ import annotations

import importlib
from typing import Any

from tinyms._cpu import apply_cpu_defaults as _apply_cpu_defaults

__version__ = "0.1.0"

_apply_cpu_defaults()

_COMMON_NAMES = (
    "Tensor", "Parameter", "dtype", "float16", "float32", "float64", "int32", "int64",
    "uint8", "bool_", "array", "asarray", "ones", "zeros", "ones_like", "zeros_like",
    "full", "eye", "arange", "linspace", "concatenate", "stack", "reshape", "transpose",
    "expand_dims", "squeeze", "mean", "sum", "argmax", "exp", "sqrt", "clip", "where",
    "dot", "matmul", "maximum", "minimum",
)
_SUBMODULES = (
    "callbacks", "catalog", "common", "context", "data", "distributed", "errors",
    "initializers", "layers",
    "losses", "metrics", "model", "optimizers", "primitives", "serving", "vision",
)

__all__ = ["__version__", *_COMMON_NAMES, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _COMMON_NAMES:
        value = getattr(importlib.import_module("tinyms.common"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"tinyms.{name}")
    else:
        raise AttributeError(f"module 'tinyms' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
