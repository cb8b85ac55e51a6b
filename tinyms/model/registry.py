"""The network registry: build any catalog network by name, or register your own.

Built-in networks live in ``tinyms.model.networks`` and are imported on the
first lookup, so ``import tinyms.model`` stays cheap.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tinyms._registry import Registry

__all__ = ["NETWORKS", "get_network", "list_networks", "register_network"]

NETWORKS = Registry("network", modules=("tinyms.model.networks",))

_TYPES = {int: "int", float: "float", bool: "bool", str: "str", list: "list"}


def get_network(name: str, **kwargs: Any) -> Any:
    """Build a network by catalog name, e.g. ``get_network('lenet5', class_num=10)``.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists valid names).
        InvalidArgumentError: an argument is unknown, of the wrong type or out of range.
    """
    return NETWORKS.build(name, **kwargs)


def list_networks() -> list[str]:
    """Return the names of every registered network."""
    return NETWORKS.names()


def register_network(
    name: str,
    *,
    input_size: tuple[int, int] = (224, 224),
    channels_arg: str | None = None,
    class_num_arg: str = "class_num",
    default_channels: int = 3,
    replace: bool = False,
    summary: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a user network factory under ``name`` so it is usable by name.

    The factory's keyword-only parameters (each with a default of type int,
    float, bool, str or list) become its catalog arguments::

        @register_network('mynet', input_size=(32, 32), channels_arg='in_channels')
        def mynet(*, class_num=10, in_channels=3):
            return MyNet(class_num, in_channels)
    """

    def decorator(factory: Callable[..., Any]) -> Callable[..., Any]:
        args = {}
        for param in inspect.signature(factory).parameters.values():
            if param.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(
                    f"Network factory {factory.__name__!r}: parameter {param.name!r} must be "
                    "keyword-only (put it after '*')."
                )
            if param.default is inspect.Parameter.empty or type(param.default) not in _TYPES:
                raise TypeError(
                    f"Network factory {factory.__name__!r}: parameter {param.name!r} needs a "
                    "default of type int, float, bool, str or list."
                )
            args[param.name] = {"type": _TYPES[type(param.default)], "default": param.default}
        entry = {
            "summary": summary or (factory.__doc__ or "").strip().split("\n")[0],
            "args": args,
            "input_size": list(input_size),
            "channels_arg": channels_arg,
            "class_num_arg": class_num_arg,
            "default_channels": default_channels,
            "user": True,
        }
        return NETWORKS.register(name, catalog_entry=entry, replace=replace)(factory)

    return decorator
