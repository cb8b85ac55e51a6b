"""The global execution context: device, graph or eager mode, seed.

``set_context`` and ``get_context`` are MindSpore's. tinyms adds
``set_device(target)``, which checks the target name and falls back to CPU with
a warning when the installed MindSpore build cannot use the requested device,
and ``set_seed``, which seeds MindSpore, numpy and Python's ``random`` at once.
``run_mode(mode)`` runs a block in graph or PyNative mode and restores the
previous mode afterwards.

MindSpore 2.10 starts in PyNative mode, which runs each operator on its own.
``tinyms.model.Model`` runs ``train``, ``eval`` and ``predict`` inside
``run_mode('graph')`` by default, because LeNet5 trained 4x to 9x faster that
way on a 2-core CPU with the same results (``benchmarks/README.md``).
``Model(network, mode='context')`` keeps whatever mode the global context holds.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator

import mindspore as _ms
import numpy as _np
from mindspore import GRAPH_MODE, PYNATIVE_MODE, get_context, set_context

from tinyms.errors import InvalidArgumentError, TinyMSError

__all__ = [
    "GRAPH_MODE",
    "PYNATIVE_MODE",
    "DEVICE_TARGETS",
    "RUN_MODES",
    "check_run_mode",
    "get_context",
    "run_mode",
    "set_context",
    "set_device",
    "set_seed",
]

logger = logging.getLogger(__name__)

DEVICE_TARGETS = ("CPU", "GPU", "Ascend")
RUN_MODES = ("graph", "pynative", "context")
_MODE_VALUES = {"graph": GRAPH_MODE, "pynative": PYNATIVE_MODE}


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
    current = _ms.get_context("device_target")
    if current == wanted:
        # MindSpore rejects set_device once an operator has run, even for the same target.
        return wanted
    try:
        _ms.set_device(wanted)
    except (RuntimeError, ValueError) as err:
        if current != "CPU":
            raise TinyMSError(
                f"Cannot switch the device from {current} to {wanted}: {err}. Set the device "
                "once, before the first operator runs, or use a new process."
            ) from err
        logger.warning("Device %s is not available (%s); using CPU instead.", wanted, err)
        return "CPU"
    return wanted


def set_seed(seed: int) -> None:
    """Seed MindSpore, numpy and Python's ``random`` for repeatable runs."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidArgumentError(f"Invalid seed {seed!r}; expected an integer >= 0.")
    _ms.set_seed(seed)
    _np.random.seed(seed % 2**32)
    random.seed(seed)


def check_run_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`RUN_MODES`, else raise InvalidArgumentError."""
    if mode not in RUN_MODES:
        raise InvalidArgumentError(
            f"Invalid mode {mode!r}; expected 'graph' (compile the network, the default), "
            "'pynative' (run operator by operator) or 'context' (keep the global mode)."
        )
    return mode


@contextlib.contextmanager
def run_mode(mode: str) -> Iterator[None]:
    """Run the block in ``mode`` and restore the previous execution mode afterwards.

    Args:
        mode: ``'graph'``, ``'pynative'``, or ``'context'`` (change nothing).

    Raises:
        InvalidArgumentError: ``mode`` is not one of the three names.

    Example:
        >>> with run_mode('graph'):
        ...     loss = train_step(images, labels)
    """
    check_run_mode(mode)
    target_mode = _MODE_VALUES.get(mode)
    previous = get_context("mode")
    if target_mode is None or target_mode == previous:
        yield
        return
    set_context(mode=target_mode)
    try:
        yield
    finally:
        set_context(mode=previous)
