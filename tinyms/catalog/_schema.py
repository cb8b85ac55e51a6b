"""The argument-schema constructor shared by the catalog's entry modules."""

from __future__ import annotations

from typing import Any


def arg(type_: str, default: Any, help_: str = "", **limits: Any) -> dict[str, Any]:
    """Return one argument schema: type, default, help text and limits (min, max, ...)."""
    return {"type": type_, "default": default, "help": help_, **limits}
