"""Registries that build library objects from catalog names.

Each registry covers one catalog kind. Builders register with a decorator; the
decorator wraps them so that every call, by name or directly, validates its
keyword arguments against the catalog schema. Runtime inputs (an optimizer's
parameters, a schedule's step counts) are positional and not in the catalog;
catalog arguments are keyword-only.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from tinyms import catalog
from tinyms.errors import InvalidArgumentError, UnknownNameError

__all__ = ["Registry"]


class Registry:
    """Builders of one catalog kind, looked up by lower-case name.

    Args:
        kind: The catalog kind, e.g. ``'optimizer'``.
        modules: Modules imported on the first lookup, whose decorators fill the
            registry. This keeps heavy modules (the network zoo) out of
            ``import tinyms``.
    """

    def __init__(self, kind: str, modules: tuple[str, ...] = ()):
        self.kind = kind
        self._modules = modules
        self._loaded = not modules
        self._builders: dict[str, Callable[..., Any]] = {}

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def register(
        self, name: str, *, catalog_entry: dict[str, Any] | None = None, replace: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Return a decorator that registers a builder under ``name``.

        Built-in builders must already have a catalog entry. A user builder passes
        ``catalog_entry`` (at least ``args``), which is added to the catalog.
        """
        if catalog_entry is not None:
            catalog.add_entry(self.kind, name, catalog_entry, replace=replace)
        else:
            catalog.entry(self.kind, name)  # raises for a name the catalog lacks

        def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders and not replace:
                raise InvalidArgumentError(
                    f"The {self.kind} name {name!r} is already registered; "
                    "pick another name or pass replace=True."
                )

            @functools.wraps(builder)
            def validated(*args: Any, **kwargs: Any) -> Any:
                resolved = catalog.resolve_args(self.kind, name, kwargs)
                return builder(*args, **resolved)

            validated.catalog_name = name  # type: ignore[attr-defined]
            self._builders[name] = validated
            return validated

        return decorator

    def names(self) -> list[str]:
        """Return the sorted registered names."""
        self._load()
        return sorted(self._builders)

    def get(self, name: str) -> Callable[..., Any]:
        """Return the validated builder for ``name``."""
        self._load()
        if not isinstance(name, str) or name not in self._builders:
            raise UnknownNameError(self.kind, name, self._builders)
        return self._builders[name]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Build the object registered as ``name``; keyword arguments are validated."""
        return self.get(name)(*args, **kwargs)

    def keyword_args(self, name: str) -> list[str]:
        """Return the keyword-only parameter names of a builder (for catalog checks)."""
        signature = inspect.signature(self.get(name))
        return [
            param.name
            for param in signature.parameters.values()
            if param.kind is inspect.Parameter.KEYWORD_ONLY
        ]
