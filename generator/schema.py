"""A small JSON Schema checker for specs, driven by the published schema files.

The schema files in ``spec/schema/`` are the single description of the spec
format: editors read them, and this module checks specs against them, so the
two cannot drift apart. It implements the part of JSON Schema 2020-12 those
files use: ``$ref`` (in-file and to a sibling file), ``type``, ``const``,
``enum``, ``anyOf``, ``properties``, ``required``, ``additionalProperties``,
``propertyNames``, ``minProperties``, ``items``, ``minItems``, ``maxItems``,
``uniqueItems``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``pattern``, ``minLength`` and ``maxLength``.

Unlike a plain JSON Schema validator it returns a converted value: where the
schema expects a string and YAML read a plain scalar such as ``1.10`` or
``2024-01-01`` as another type, the source text is used, so a value that merely
looks like a number stays the string the schema expects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from tinyms.generator.yamlio import KeyPath, format_path

__all__ = ["SCHEMA_DIR", "Problem", "load_schema", "check", "describe_value"]

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "spec" / "schema"

_YAML_11_BOOLS = {"yes", "no", "on", "off", "y", "n"}

Problem = tuple  # (key path, message without the path)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``spec/schema/<name>.schema.json``."""
    with open(SCHEMA_DIR / f"{name}.schema.json", encoding="utf-8") as handle:
        return json.load(handle)


def describe_value(value: Any) -> str:
    """Return ``repr(value)`` and its YAML type, shortened for messages."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    kinds = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }
    kind = kinds.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def _type_ok(name: str, value: Any) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise ValueError(f"schema type {name!r} is not supported")


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
    "array": "a list",
    "object": "a mapping",
}


def _expected(schema: dict[str, Any], resolve: Callable[[str], dict[str, Any]]) -> str:
    """Return a short phrase that describes what ``schema`` allows."""
    if "$ref" in schema:
        return _expected(resolve(schema["$ref"]), resolve)
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(repr(item) for item in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_expected(option, resolve) for option in schema["anyOf"])
    types = schema.get("type")
    if types is None:
        return "any value"
    names = [types] if isinstance(types, str) else types
    phrase = " or ".join(_TYPE_WORDS[name] for name in names)
    if "pattern" in schema:
        phrase += f" matching {schema['pattern']}"
    limits = []
    if "minimum" in schema:
        limits.append(f">= {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        limits.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        limits.append(f"<= {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        limits.append(f"< {schema['exclusiveMaximum']}")
    if limits:
        phrase += " " + " and ".join(limits)
    return phrase


class _Checker:
    def __init__(self, root: dict[str, Any], raw: dict[KeyPath, str]):
        self.root = root
        self.raw = raw
        self.problems: list[Problem] = []

    def resolve(self, ref: str) -> dict[str, Any]:
        file_part, _, pointer = ref.partition("#")
        document = self.root
        if file_part:
            document = load_schema(file_part.removesuffix(".schema.json"))
        node: Any = document
        for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
            node = node[part]
        if file_part:
            # A ref inside the other file is relative to that file.
            return _rebase(node, file_part)
        return node

    def fail(self, path: KeyPath, value: Any, schema: dict[str, Any], note: str = "") -> None:
        message = f"got {describe_value(value)}, expected {_expected(schema, self.resolve)}"
        self.problems.append((path, message + note))

    def check(self, schema: dict[str, Any], value: Any, path: KeyPath) -> Any:
        if "$ref" in schema:
            return self.check(self.resolve(schema["$ref"]), value, path)
        if "anyOf" in schema:
            return self._check_any_of(schema, value, path)
        value = self._coerce(schema, value, path)
        if not self._check_type(schema, value, path):
            return value
        if "const" in schema and value != schema["const"]:
            self.fail(path, value, schema)
            return value
        if "enum" in schema and value not in schema["enum"]:
            self.fail(path, value, schema)
            return value
        if isinstance(value, dict):
            return self._check_object(schema, value, path)
        if isinstance(value, list):
            return self._check_array(schema, value, path)
        if isinstance(value, str):
            self._check_string(schema, value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._check_number(schema, value, path)
        return value

    def _coerce(self, schema: dict[str, Any], value: Any, path: KeyPath) -> Any:
        types = schema.get("type")
        names = [types] if isinstance(types, str) else (types or [])
        if "string" in names and not isinstance(value, (str, list, dict)) and path in self.raw:
            if not any(_type_ok(name, value) for name in names):
                return self.raw[path]
        return value

    def _check_type(self, schema: dict[str, Any], value: Any, path: KeyPath) -> bool:
        types = schema.get("type")
        if types is None:
            return True
        names = [types] if isinstance(types, str) else types
        if any(_type_ok(name, value) for name in names):
            if isinstance(value, float) and not math.isfinite(value) and "number" in names:
                self.problems.append((path, f"got {value!r}, expected a finite number"))
                return False
            return True
        note = ""
        if "boolean" in names and isinstance(value, str) and value.lower() in _YAML_11_BOOLS:
            note = f"; specs use YAML 1.2, where {value!r} is a string: write true or false"
        self.fail(path, value, schema, note)
        return False

    def _check_any_of(self, schema: dict[str, Any], value: Any, path: KeyPath) -> Any:
        # First as loaded, then with source text for strings: `download: null` is null
        # when null is allowed, and only becomes the text "null" where it is not.
        for raw in ({}, self.raw):
            for option in schema["anyOf"]:
                trial = _Checker(self.root, raw)
                converted = trial.check(option, value, path)
                if not trial.problems:
                    return converted
        self.fail(path, value, schema)
        return value

    def _check_object(self, schema: dict[str, Any], value: dict, path: KeyPath) -> dict:
        result = {}
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                described = properties.get(key, {})
                self.problems.append(
                    (
                        (*path, key),
                        f"missing required key; expected "
                        f"{_expected(described, self.resolve) if described else 'a value'}",
                    )
                )
        if len(value) < schema.get("minProperties", 0):
            self.problems.append(
                (path, f"got {len(value)} entries, expected at least {schema['minProperties']}")
            )
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, item in value.items():
            child = (*path, key)
            if names is not None:
                trial = _Checker(self.root, {})
                trial.check(names, key, child)
                if trial.problems:
                    self.problems.append(
                        (child, f"invalid name {key!r}, expected {_expected(names, self.resolve)}")
                    )
            if key in properties:
                result[key] = self.check(properties[key], item, child)
            elif extra is False:
                allowed = ", ".join(sorted(properties)) or "none"
                self.problems.append((child, f"unknown key; allowed keys here: {allowed}"))
            elif isinstance(extra, dict):
                result[key] = self.check(extra, item, child)
            else:
                result[key] = item
        return result

    def _check_array(self, schema: dict[str, Any], value: list, path: KeyPath) -> list:
        if len(value) < schema.get("minItems", 0):
            self.problems.append(
                (path, f"got {len(value)} items, expected at least {schema['minItems']}")
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.problems.append(
                (path, f"got {len(value)} items, expected at most {schema['maxItems']}")
            )
        items = schema.get("items")
        result = [
            self.check(items, item, (*path, index)) if items else item
            for index, item in enumerate(value)
        ]
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for index, item in enumerate(result):
                if item in seen:
                    self.problems.append(((*path, index), f"duplicate item {item!r}"))
                seen.append(item)
        return result

    def _check_string(self, schema: dict[str, Any], value: str, path: KeyPath) -> None:
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 62):
            self.fail(
                path,
                value,
                schema,
                f" of {schema.get('minLength', 0)} to {schema.get('maxLength')} characters",
            )
        elif "pattern" in schema and not re.search(schema["pattern"], value):
            self.fail(path, value, schema)

    def _check_number(self, schema: dict[str, Any], value: float, path: KeyPath) -> None:
        too_low = ("minimum" in schema and value < schema["minimum"]) or (
            "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]
        )
        too_high = ("maximum" in schema and value > schema["maximum"]) or (
            "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]
        )
        if too_low or too_high:
            self.fail(path, value, schema)


def _rebase(node: Any, file_part: str) -> Any:
    """Return ``node`` with its in-file refs (``#/...``) pointed at ``file_part``."""
    if isinstance(node, dict):
        rebased = {}
        for key, item in node.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#"):
                rebased[key] = file_part + item
            else:
                rebased[key] = _rebase(item, file_part)
        return rebased
    if isinstance(node, list):
        return [_rebase(item, file_part) for item in node]
    return node


def check(
    schema_name: str, value: Any, raw: dict[KeyPath, str] | None = None, path: KeyPath = ()
) -> tuple[Any, list[Problem]]:
    """Check ``value`` against ``spec/schema/<schema_name>.schema.json``.

    Args:
        schema_name: ``model``, ``dataset`` or ``config``.
        value: The loaded YAML value.
        raw: Source text of plain scalars by key path (``Document.raw``).
        path: Key path of ``value`` in its document.

    Returns:
        ``(converted_value, problems)``; each problem is ``(key_path, message)``.
    """
    checker = _Checker(load_schema(schema_name), raw or {})
    converted = checker.check(checker.root, value, path)
    return converted, checker.problems


def problem_text(where: str, path: KeyPath, message: str) -> str:
    """Return one problem line: ``file:line: key.path: message``."""
    return f"{where}: {format_path(path)}: {message}"
