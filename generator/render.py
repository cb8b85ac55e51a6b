"""Render the cookiecutter template into a project folder.

The template (``templates/``) is rendered through cookiecutter's
``generate_files`` with its strict Jinja environment, so a missing variable is
an error that names it. Spec values reach Python code only through the ``py``
filter (a Python literal) and the ``identifier`` filter (a checked name); the
config file is written by the YAML dumper that round-trips every value.

Rendering happens in a temporary folder first. A new project is then moved
into place; ``force`` updates an existing one file by file, keeping the files
the user changed (the new version goes beside them as ``<file>.new``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.ext import Extension

from tinyms.errors import TinyMSError

__all__ = [
    "MANIFEST_NAME",
    "TEMPLATE_DIR",
    "ProjectExistsError",
    "RenderResult",
    "SpecLiteralExtension",
    "check_identifier",
    "py_literal",
    "render_project",
]

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
MANIFEST_NAME = ".tinyms-project.json"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class ProjectExistsError(TinyMSError, FileExistsError):
    """The output folder exists and ``--force`` was not given."""


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text: str) -> str:
    """Return a Python string literal of ``text`` in the quotes ruff format keeps.

    Double quotes unless that needs more escapes than single quotes (the rule
    of Black and ruff's formatter). Printable characters, non-ASCII ones
    included, are kept; the others are written as escapes.
    """
    quote = "'" if text.count('"') > text.count("'") else '"'
    parts = [quote]
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif char == quote:
            parts.append("\\" + char)
        elif char.isprintable():
            parts.append(char)
        elif ord(char) < 0x100:
            parts.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    parts.append(quote)
    return "".join(parts)


def py_literal(value: Any) -> str:
    """Return ``value`` (str, int, float, bool, None, list, tuple, dict) as Python source.

    ``ast.literal_eval`` of the result gives back ``value``: quotes,
    backslashes, newlines and non-ASCII text survive.

    Raises:
        TypeError: a value of another type, or a float that is not finite.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"cannot write the float {value!r} as a Python literal")
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(py_literal(item) for item in value)
        if isinstance(value, tuple):
            return f"({items}{',' if len(value) == 1 else ''})"
        return f"[{items}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as a Python literal: {value!r}")


def check_identifier(value: Any) -> str:
    """Return ``value`` if it is a lower-case identifier; raise ValueError otherwise."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a valid name: expected {IDENTIFIER.pattern}")
    return value


class SpecLiteralExtension(Extension):
    """Jinja filters of the template: ``py`` (Python literal) and ``identifier``."""

    def __init__(self, environment: Any):
        super().__init__(environment)
        environment.filters["py"] = py_literal
        environment.filters["identifier"] = check_identifier


@dataclass
class RenderResult:
    """What :func:`render_project` did.

    Attributes:
        output_dir: The project folder.
        written: Files created or updated.
        unchanged: Files already identical to the new version.
        kept: Files the user changed; each has the new version beside it.
        new_versions: The ``<file>.new`` files written beside the kept ones.
    """

    output_dir: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _render_to(folder: Path, context: dict[str, Any]) -> Path:
    from cookiecutter.generate import generate_files

    with open(TEMPLATE_DIR / "cookiecutter.json", encoding="utf-8") as handle:
        defaults = json.load(handle)
    missing = sorted(key for key in defaults if key not in context and key != "_extensions")
    if missing:
        raise KeyError(f"template variables missing from the context: {', '.join(missing)}")
    full = {**context, "_extensions": defaults["_extensions"], "_template": str(TEMPLATE_DIR)}
    project = generate_files(
        repo_dir=str(TEMPLATE_DIR),
        context={"cookiecutter": full},
        output_dir=str(folder),
        overwrite_if_exists=False,
        accept_hooks=False,
    )
    project_dir = Path(project)
    # An installer may byte-compile the template's .py files; their caches are not project files.
    for cache in sorted(project_dir.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    return project_dir


def _files(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def render_project(
    context: dict[str, Any], record: dict[str, Any], output_dir: str | Path, force: bool = False
) -> RenderResult:
    """Render the template and install it as ``output_dir``.

    Args:
        context: The template variables (see ``templates/cookiecutter.json``).
        record: What made the project (tinyms version, spec hashes, overrides);
            written to ``.tinyms-project.json`` with a hash of each file.
        output_dir: The project folder to create.
        force: Update an existing folder, keeping files the user changed.

    Raises:
        ProjectExistsError: ``output_dir`` exists and ``force`` is false; nothing
            is written.
    """
    target = Path(output_dir)
    if target.exists() and not force:
        raise ProjectExistsError(
            f"The output folder {str(target)!r} already exists; nothing was written. Choose "
            "another --output-dir, or pass --force to update it (files you changed are kept)."
        )
    if target.exists() and not target.is_dir():
        raise ProjectExistsError(
            f"{str(target)!r} exists and is not a folder; nothing was written."
        )

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tinyms-new-", dir=target.parent) as scratch:
        project = _render_to(Path(scratch), context)
        files = _files(project)
        manifest = {**record, "files": {name: _sha256(project / name) for name in files}}
        (project / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        if not target.exists():
            os.replace(project, target)
            return RenderResult(target, written=[*files, MANIFEST_NAME])
        return _update(project, target, files)


def _update(project: Path, target: Path, files: list[str]) -> RenderResult:
    """Copy a fresh rendering over an existing project, keeping the user's edits."""
    result = RenderResult(target)
    previous: dict[str, str] = {}
    try:
        previous = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        previous = {}
    for name in files:
        source, destination = project / name, target / name
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            result.written.append(name)
            continue
        current = _sha256(destination)
        if current == _sha256(source):
            result.unchanged.append(name)
        elif previous.get(name) == current:
            shutil.copy2(source, destination)
            result.written.append(name)
        else:
            shutil.copy2(source, destination.with_name(destination.name + ".new"))
            result.kept.append(name)
            result.new_versions.append(name + ".new")
    shutil.copy2(project / MANIFEST_NAME, target / MANIFEST_NAME)
    result.written.append(MANIFEST_NAME)
    return result
