"""The catalog of names: every network, loss, optimizer, learning-rate schedule,
metric, callback, dataset and transform that tinyms can build by name, each with
the schema of its keyword arguments.

This package imports no MindSpore, so the spec validator and ``tinyms-new``
stay fast. The library's registries build the objects; a test asserts that the
registries and this catalog agree entry for entry.

An argument schema is a dict with the keys ``type`` (``int``, ``float``,
``bool``, ``str`` or ``list``), ``default``, and optionally ``min``, ``max``
(inclusive), ``exclusive_min``, ``choices``, ``nullable`` and ``help``.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping
from typing import Any

from tinyms.errors import InvalidArgumentError, UnknownNameError

from . import datasets as _datasets
from . import networks as _networks
from . import training as _training
from . import transforms as _transforms

__all__ = [
    "KINDS",
    "entry",
    "names",
    "add_entry",
    "check_args",
    "resolve_args",
    "check_value",
    "dataset_info",
    "network_info",
]

KINDS = (
    "network",
    "loss",
    "optimizer",
    "schedule",
    "metric",
    "callback",
    "dataset",
    "transform",
)

_CATALOG: dict[str, dict[str, dict[str, Any]]] = {
    "network": _networks.NETWORKS,
    "loss": _training.LOSSES,
    "optimizer": _training.OPTIMIZERS,
    "schedule": _training.SCHEDULES,
    "metric": _training.METRICS,
    "callback": _training.CALLBACKS,
    "dataset": _datasets.load_datasets(),
    "transform": _transforms.TRANSFORMS,
}


def _check_kind(kind: str) -> dict[str, dict[str, Any]]:
    if kind not in _CATALOG:
        raise UnknownNameError("catalog kind", kind, KINDS)
    return _CATALOG[kind]


def names(kind: str) -> list[str]:
    """Return the sorted names of one kind, e.g. ``names('optimizer')``."""
    return sorted(_check_kind(kind))


def entry(kind: str, name: str) -> dict[str, Any]:
    """Return a copy of one catalog entry; raise UnknownNameError listing valid names."""
    table = _check_kind(kind)
    if not isinstance(name, str) or name not in table:
        raise UnknownNameError(kind, name, table)
    return copy.deepcopy(table[name])


def add_entry(kind: str, name: str, data: Mapping[str, Any], *, replace: bool = False) -> None:
    """Add a user entry (a network registered with ``register_network``, say)."""
    table = _check_kind(kind)
    if not isinstance(name, str) or not name or name != name.lower() or not name.isidentifier():
        raise InvalidArgumentError(
            f"Invalid {kind} name {name!r}: use a lower-case Python identifier such as 'mynet'."
        )
    if name in table and not replace:
        raise InvalidArgumentError(
            f"The {kind} name {name!r} is already registered; pick another name "
            "or pass replace=True to override it."
        )
    table[name] = dict(data)


def network_info(name: str) -> dict[str, Any]:
    """Return a network's metadata: input size, channel and class arguments."""
    return entry("network", name)


def dataset_info(name: str) -> dict[str, Any]:
    """Return a dataset's registry data: URLs, files, checksums, classes, mean/std."""
    return entry("dataset", name)


_TYPE_NAMES = {"int": "an integer", "float": "a number", "bool": "true or false",
               "str": "a string", "list": "a list"}


def check_value(schema: Mapping[str, Any], value: Any, where: str) -> tuple[Any, str | None]:
    """Check one value against one argument schema.

    Returns ``(converted_value, None)`` or ``(value, problem)``. An int is accepted
    where a float is expected and converted; a bool is never taken for a number.
    """
    expected = schema["type"]
    if value is None:
        if schema.get("nullable"):
            return None, None
        return value, f"{where}: got null, expected {_TYPE_NAMES[expected]}"

    if expected == "bool":
        ok = isinstance(value, bool)
    elif expected == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            value = float(value)
            if not math.isfinite(value):
                return value, f"{where}: got {value!r}, expected a finite number"
    elif expected == "str":
        ok = isinstance(value, str)
    elif expected == "list":
        ok = isinstance(value, (list, tuple))
        if ok:
            value = list(value)
    else:  # a catalog bug, not a user error
        raise TypeError(f"unknown schema type {expected!r} at {where}")
    if not ok:
        return value, (
            f"{where}: got {value!r} ({type(value).__name__}), expected {_TYPE_NAMES[expected]}"
        )

    choices = schema.get("choices")
    if choices is not None and value not in choices:
        return value, f"{where}: got {value!r}, expected one of {', '.join(map(repr, choices))}"
    low, high = schema.get("min"), schema.get("max")
    if low is not None and value < low:
        return value, f"{where}: got {value!r}, expected a value >= {low}"
    if high is not None and value > high:
        return value, f"{where}: got {value!r}, expected a value <= {high}"
    exclusive_low = schema.get("exclusive_min")
    if exclusive_low is not None and value <= exclusive_low:
        return value, f"{where}: got {value!r}, expected a value > {exclusive_low}"
    return value, None


def check_args(
    kind: str, name: str, args: Mapping[str, Any] | None, where: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """Validate keyword arguments for one entry and fill in the defaults.

    Returns ``(resolved_args, problems)``; ``problems`` is empty when all is well.
    ``where`` prefixes each problem (a spec key path such as ``optimizer.args``).
    """
    schema = entry(kind, name)["args"]
    prefix = f"{where}." if where else ""
    problems: list[str] = []
    resolved: dict[str, Any] = {}
    args = dict(args or {})

    for key in args:
        if key not in schema:
            hint = difflib.get_close_matches(str(key), list(schema), n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            valid = ", ".join(sorted(schema)) or "none"
            problems.append(
                f"{prefix}{key}: unknown argument for {kind} {name!r}.{suggestion} "
                f"Valid arguments: {valid}"
            )
    for key, arg_schema in schema.items():
        if key in args:
            value, problem = check_value(arg_schema, args[key], f"{prefix}{key}")
            if problem:
                problems.append(problem)
            resolved[key] = value
        elif "default" in arg_schema:
            resolved[key] = copy.deepcopy(arg_schema["default"])
        else:
            problems.append(f"{prefix}{key}: missing required argument for {kind} {name!r}")
    return resolved, problems


def resolve_args(kind: str, name: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Like :func:`check_args`, but raise InvalidArgumentError listing every problem."""
    resolved, problems = check_args(kind, name, args)
    if problems:
        raise InvalidArgumentError(
            f"Invalid arguments for {kind} {name!r}: " + "; ".join(problems), problems
        )
    return resolved
