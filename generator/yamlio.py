"""YAML reading and writing with YAML 1.2 core-schema scalars.

PyYAML implements YAML 1.1, where ``1e-3`` is a string, ``yes``/``no``/``on``/
``off`` are booleans, ``010`` is octal 8 and ``2024-01-01`` is a date. Specs and
generated ``config.yaml`` files use the YAML 1.2 core schema instead:

- ``true``/``false`` (any case form YAML 1.2 lists) are the only booleans, so
  ``yes``, ``no``, ``on``, ``off``, ``y`` and ``n`` stay strings;
- ``1e-3``, ``.5`` and ``1.0e+5`` are floats, ``.inf`` and ``.nan`` too;
- ``10`` and ``010`` are the decimal int 10; ``0o17`` and ``0x1F`` are octal and hex;
- dates and times stay strings.

:func:`load_yaml` also records the line of every key path and the source text
of every plain scalar that did not become a string, so a validator can report
``file:line`` and can turn ``version: 1.10`` back into the string ``"1.10"``
where the schema expects a string. Duplicate keys are errors.

:func:`dump_yaml` writes YAML that reads back to the same values under this
loader and under PyYAML's ``yaml.safe_load`` alike: it quotes every string that
either would read as something else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinyms.errors import SpecError

__all__ = ["Document", "KeyPath", "load_yaml", "load_yaml_text", "dump_yaml", "format_path"]

KeyPath = tuple  # a tuple of mapping keys (str) and list indexes (int)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_TAG = "tag:yaml.org,2002:"


class _CoreResolver:
    """Implicit resolvers of the YAML 1.2 core schema, plus the ``<<`` merge key."""

    @classmethod
    def install(cls, target: type) -> None:
        target.yaml_implicit_resolvers = {}
        target.add_implicit_resolver(_TAG + "bool", _BOOL, list("tTfF"))
        target.add_implicit_resolver(_TAG + "null", _NULL, ["~", "n", "N", ""])
        target.add_implicit_resolver(_TAG + "int", _INT, list("-+0123456789"))
        target.add_implicit_resolver(_TAG + "float", _FLOAT, list("-+.0123456789"))
        target.add_implicit_resolver(_TAG + "merge", re.compile(r"^(?:<<)$"), ["<"])


class SpecLoader(yaml.SafeLoader):
    """A safe loader that resolves plain scalars by the YAML 1.2 core schema."""


_CoreResolver.install(SpecLoader)


def _construct_bool(loader: SpecLoader, node: yaml.ScalarNode) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _construct_int(loader: SpecLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _construct_float(loader: SpecLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


SpecLoader.add_constructor(_TAG + "bool", _construct_bool)
SpecLoader.add_constructor(_TAG + "int", _construct_int)
SpecLoader.add_constructor(_TAG + "float", _construct_float)


@dataclass
class Document:
    """A loaded YAML document.

    Attributes:
        data: The loaded value.
        source: The file name (or ``<string>``) used in messages.
        lines: 1-based line of each key path that the file spells out.
        raw: Source text of each plain scalar that did not load as a string.
    """

    data: Any
    source: str = "<string>"
    lines: dict[KeyPath, int] = field(default_factory=dict)
    raw: dict[KeyPath, str] = field(default_factory=dict)

    def where(self, path: KeyPath) -> str:
        """Return ``file:line`` for ``path`` (or its nearest ancestor that has a line)."""
        probe = tuple(path)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe)
        return f"{self.source}:{line}" if line else self.source


def format_path(path: KeyPath) -> str:
    """Return a key path as users write it: ``optimizer.lr``, ``metrics[1]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


_MAX_DEPTH = 64


class _Builder:
    """Turns a composed node tree into Python values, recording lines and raw text."""

    def __init__(self, loader: SpecLoader, document: Document):
        self.loader = loader
        self.document = document
        self.problems: list[str] = []

    def build(self, node: yaml.Node, path: KeyPath, depth: int = 0) -> Any:
        self.document.lines.setdefault(path, node.start_mark.line + 1)
        if depth > _MAX_DEPTH:
            self.problems.append(
                f"{self.document.where(path)}: {format_path(path)}: nesting deeper than "
                f"{_MAX_DEPTH} levels (a recursive alias?); flatten the value"
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            value = self.loader.construct_object(node, deep=True)
            if node.style is None and not isinstance(value, str):
                self.document.raw[path] = node.value
            return value
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path, depth)
        raise TypeError(f"unexpected YAML node {node!r}")

    def _build_mapping(self, node: yaml.MappingNode, path: KeyPath, depth: int) -> dict:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                # Keys are names: `1: x` or `true: x` is read as the text the file shows.
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key)
            child = (*path, key)
            if key in result:
                line = key_node.start_mark.line + 1
                self.problems.append(
                    f"{self.document.source}:{line}: {format_path(child)}: duplicate key "
                    f"(first at line {self.document.lines.get(child)}); keep one of them"
                )
                continue
            self.document.lines[child] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, child, depth + 1)
        return result


def load_yaml_text(text: str, source: str = "<string>") -> Document:
    """Load one YAML document from ``text``.

    Raises:
        SpecError: the text is not valid YAML or has duplicate keys.
    """
    document = Document(data=None, source=source)
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            builder = _Builder(loader, document)
            document.data = builder.build(node, ())
            if builder.problems:
                raise SpecError(builder.problems)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError([f"{where}: invalid YAML: {problem}"]) from err
    finally:
        loader.dispose()
    return document


def load_yaml(path: str | Path) -> Document:
    """Load one YAML file; messages name it by the path given.

    Raises:
        SpecError: the file is missing, unreadable, not UTF-8 or not valid YAML.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError([f"{path}: cannot read the file: {err}"]) from err
    return load_yaml_text(text, str(path))


class _SafeDumper(yaml.SafeDumper):
    """A dumper that quotes any string that YAML 1.1 or 1.2 would read as non-string."""


_SafeDumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first, _resolvers in SpecLoader.yaml_implicit_resolvers.items():
    _SafeDumper.yaml_implicit_resolvers.setdefault(_first, []).extend(_resolvers)


def _represent_str(dumper: _SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if "\n" in value and value.replace("\n", "").isprintable() and _literal_safe(value):
        style = "|"
    elif not value.isprintable():
        style = '"'  # escapes control characters and the YAML 1.1 line breaks (U+0085, U+2028)
    return dumper.represent_scalar(_TAG + "str", value, style=style)


def _literal_safe(value: str) -> bool:
    # Block literals lose trailing spaces on a line and a leading blank line; use quotes then.
    lines = value.split("\n")
    return all(line == line.rstrip(" ") for line in lines) and not value.startswith(("\n", " "))


_SafeDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """Return ``data`` as block-style YAML, keys in insertion order, UTF-8 text kept."""
    return yaml.dump(
        data,
        Dumper=_SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
    )
