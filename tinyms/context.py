"""The global execution context: device, graph or eager mode, seed.

``set_context`` and ``get_context`` are MindSpore's. tinyms adds
``set_device(target)``, which checks the target name and falls back to CPU with
a warning when the installed MindSpore build cannot use the requested device,
and ``set_seed``, which seeds MindSpore, numpy and Python's ``random`` at once.
"""

from __future__ import annotations

import logging
import random

import mindspore as _ms
import numpy as _np
from mindspore import GRAPH_MODE, PYNATIVE_MODE, get_context, set_context

from tinyms.errors import InvalidArgumentError

__all__ = [
    "GRAPH_MODE",
    "PYNATIVE_MODE",
    "DEVICE_TARGETS",
    "get_context",
    "set_context",
    "set_device",
    "set_seed",
]

logger = logging.getLogger(__name__)

DEVICE_TARGETS = ("CPU", "GPU", "Ascend")


def set_device(target: str = "CPU") -> str:
    """Select the device target and return the one in effect.

    Args:
        target: ``'CPU'``, ``'GPU'`` or ``'Ascend'`` (case-insensitive).

    Raises:
        InvalidArgumentError: ``target`` is not one of the three names.
    """
    names = {name.lower(): name for name in DEVICE_TARGETS}
    if not isinstance(target, str) or target.lower() not in names:
        raise InvalidArgumentError(
            f"Invalid device target {target!r}; expected one of {', '.join(DEVICE_TARGETS)}."
        )
    wanted = names[target.lower()]
    try:
        _ms.set_device(wanted)
    except (RuntimeError, ValueError) as err:
        if wanted == "CPU":
            raise
        logger.warning("Device %s is not available (%s); using CPU instead.", wanted, err)
        _ms.set_device("CPU")
        wanted = "CPU"
    return wanted


def set_seed(seed: int) -> None:
    """Seed MindSpore, numpy and Python's ``random`` for repeatable runs."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidArgumentError(f"Invalid seed {seed!r}; expected an integer >= 0.")
    _ms.set_seed(seed)
    _np.random.seed(seed % 2**32)
    random.seed(seed)
