"""Optimizers and learning-rate schedules.

MindSpore's optimizers under their usual names, ``get_optimizer`` to build one
by catalog name, and ``get_lr_schedule`` to build a per-step learning-rate list
that every MindSpore optimizer accepts as ``learning_rate``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Union

from mindspore import nn as _nn

from tinyms._registry import Registry
from tinyms.errors import InvalidArgumentError

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "get_optimizer",
    "get_lr_schedule",
    "list_optimizers",
    "list_schedules",
    "Optimizer",
    "SGD",
    "Momentum",
    "Adam",
    "AdamWeightDecay",
    "RMSProp",
    "Adagrad",
    "LARS",
    "Lamb",
]

Optimizer = _nn.Optimizer
SGD = _nn.SGD
Momentum = _nn.Momentum
Adam = _nn.Adam
AdamWeightDecay = _nn.AdamWeightDecay
RMSProp = _nn.RMSProp
Adagrad = _nn.Adagrad
LARS = _nn.LARS
Lamb = _nn.Lamb

LearningRate = Union[float, Sequence[float]]

OPTIMIZERS = Registry("optimizer")
SCHEDULES = Registry("schedule")


def _params(params: Iterable[Any]) -> list[Any]:
    params = list(params)
    if not params:
        raise InvalidArgumentError(
            "The optimizer got no parameters; pass network.trainable_params()."
        )
    return params


def _learning_rate(lr: LearningRate) -> Any:
    return list(lr) if isinstance(lr, (list, tuple)) else float(lr)


@OPTIMIZERS.register("sgd")
def _sgd(params: Iterable[Any], *, lr: LearningRate, weight_decay: float) -> _nn.Optimizer:
    return SGD(_params(params), learning_rate=_learning_rate(lr), weight_decay=weight_decay)


@OPTIMIZERS.register("momentum")
def _momentum(
    params: Iterable[Any], *, lr: LearningRate, momentum: float, weight_decay: float,
    nesterov: bool,
) -> _nn.Optimizer:
    return Momentum(
        _params(params), learning_rate=_learning_rate(lr), momentum=momentum,
        weight_decay=weight_decay, use_nesterov=nesterov,
    )


@OPTIMIZERS.register("adam")
def _adam(
    params: Iterable[Any], *, lr: LearningRate, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> _nn.Optimizer:
    return Adam(
        _params(params), learning_rate=_learning_rate(lr), beta1=beta1, beta2=beta2, eps=eps,
        weight_decay=weight_decay,
    )


@OPTIMIZERS.register("adamw")
def _adamw(
    params: Iterable[Any], *, lr: LearningRate, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> _nn.Optimizer:
    return AdamWeightDecay(
        _params(params), learning_rate=_learning_rate(lr), beta1=beta1, beta2=beta2, eps=eps,
        weight_decay=weight_decay,
    )


@OPTIMIZERS.register("rmsprop")
def _rmsprop(
    params: Iterable[Any], *, lr: LearningRate, decay: float, momentum: float, epsilon: float,
    weight_decay: float,
) -> _nn.Optimizer:
    return RMSProp(
        _params(params), learning_rate=_learning_rate(lr), decay=decay, momentum=momentum,
        epsilon=epsilon, weight_decay=weight_decay,
    )


def get_optimizer(name: str, params: Iterable[Any], **kwargs: Any) -> _nn.Optimizer:
    """Build an optimizer by catalog name, e.g. ``get_optimizer('momentum', params, lr=0.01)``.

    Args:
        name: A catalog optimizer name (``list_optimizers()``).
        params: The parameters to train, usually ``network.trainable_params()``.
        **kwargs: The optimizer's catalog arguments; ``lr`` may be a float or a
            per-step list from :func:`get_lr_schedule`.

    Raises:
        UnknownNameError: ``name`` is not registered.
        InvalidArgumentError: an argument is unknown, mistyped or out of range.
    """
    lr = kwargs.get("lr")
    if isinstance(lr, (list, tuple)):
        # A per-step schedule: validate the rest, then pass the list through.
        rest = {key: value for key, value in kwargs.items() if key != "lr"}
        _check_schedule_values(lr)
        builder = OPTIMIZERS.get(name)
        return builder.__wrapped__(params, lr=list(lr), **_resolve_without_lr(name, rest))
    return OPTIMIZERS.build(name, params, **kwargs)


def _resolve_without_lr(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    from tinyms import catalog

    resolved = catalog.resolve_args("optimizer", name, kwargs)
    resolved.pop("lr")
    return resolved


def _check_schedule_values(values: Sequence[float]) -> None:
    if not values:
        raise InvalidArgumentError(
            "The learning-rate schedule is empty; expected one value per step."
        )
    for step, value in enumerate(values):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise InvalidArgumentError(
                f"Invalid learning rate {value!r} at step {step}; expected a finite number >= 0."
            )


def _warmup_then(
    lr: float, steps_per_epoch: int, epochs: int, warmup_epochs: int, decay: Any
) -> list[float]:
    total = steps_per_epoch * epochs
    warmup = min(steps_per_epoch * warmup_epochs, total)
    values = [lr * (step + 1) / warmup for step in range(warmup)]
    remaining = total - warmup
    values += [decay(step, remaining) for step in range(remaining)]
    return values


def _check_counts(lr: float, steps_per_epoch: int, epochs: int) -> None:
    for label, value in (("steps_per_epoch", steps_per_epoch), ("epochs", epochs)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidArgumentError(f"Invalid {label} {value!r}; expected an integer >= 1.")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise InvalidArgumentError(f"Invalid learning rate {lr!r}; expected a number > 0.")


@SCHEDULES.register("constant")
def _constant(lr: float, steps_per_epoch: int, epochs: int, *, warmup_epochs: int) -> list[float]:
    _check_counts(lr, steps_per_epoch, epochs)
    return _warmup_then(lr, steps_per_epoch, epochs, warmup_epochs, lambda step, n: float(lr))


@SCHEDULES.register("cosine")
def _cosine(
    lr: float, steps_per_epoch: int, epochs: int, *, min_lr: float, warmup_epochs: int
) -> list[float]:
    _check_counts(lr, steps_per_epoch, epochs)

    def decay(step: int, count: int) -> float:
        progress = step / max(count - 1, 1)
        return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))

    return _warmup_then(lr, steps_per_epoch, epochs, warmup_epochs, decay)


@SCHEDULES.register("step")
def _step(
    lr: float, steps_per_epoch: int, epochs: int, *, step_epochs: int, gamma: float,
    warmup_epochs: int,
) -> list[float]:
    _check_counts(lr, steps_per_epoch, epochs)
    return _warmup_then(
        lr, steps_per_epoch, epochs, warmup_epochs,
        lambda step, n: lr * gamma ** ((step // steps_per_epoch) // step_epochs),
    )


@SCHEDULES.register("exponential")
def _exponential(
    lr: float, steps_per_epoch: int, epochs: int, *, gamma: float, warmup_epochs: int
) -> list[float]:
    _check_counts(lr, steps_per_epoch, epochs)
    return _warmup_then(
        lr, steps_per_epoch, epochs, warmup_epochs,
        lambda step, n: lr * gamma ** (step // steps_per_epoch),
    )


def get_lr_schedule(
    name: str, lr: float, steps_per_epoch: int, epochs: int, **kwargs: Any
) -> list[float]:
    """Return one learning rate per training step for a catalog schedule.

    Args:
        name: ``constant``, ``cosine``, ``step`` or ``exponential``.
        lr: The base learning rate.
        steps_per_epoch: Batches per epoch.
        epochs: Epochs in the run; the list has ``steps_per_epoch * epochs`` values.
        **kwargs: The schedule's catalog arguments (``warmup_epochs``, ``min_lr``, ...).
    """
    return SCHEDULES.build(name, lr, steps_per_epoch, epochs, **kwargs)


def list_optimizers() -> list[str]:
    """Return the registered optimizer names."""
    return OPTIMIZERS.names()


def list_schedules() -> list[str]:
    """Return the registered learning-rate schedule names."""
    return SCHEDULES.names()
