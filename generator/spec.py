"""Load and validate model and dataset specs.

A spec is a YAML file, ``spec/models/<name>.yaml`` or ``spec/datasets/<name>.yaml``
(see ``spec/README.md``). :func:`load_spec` checks one file against its JSON
Schema and against the catalog of names; :class:`SpecSet` contains every shipped
spec plus the user's own (``tinyms-new --spec FILE``); :func:`validate_all`
checks every spec and every model x dataset pair it lists.

Every function here collects all problems before raising one
:class:`~tinyms.errors.SpecError`, and none imports MindSpore.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyms import catalog
from tinyms.errors import SpecError
from tinyms.generator import schema
from tinyms.generator.yamlio import Document, KeyPath, format_path, load_yaml_text

__all__ = [
    "SPEC_DIR",
    "Spec",
    "SpecSet",
    "check_component",
    "load_spec",
    "load_spec_text",
    "validate_all",
]

logger = logging.getLogger(__name__)

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"

# Spec key -> catalog kind of the component it names.
COMPONENT_KINDS = {
    "network": "network",
    "loss": "loss",
    "optimizer": "optimizer",
    "lr_schedule": "schedule",
    "transform": "transform",
}


@dataclass
class Spec:
    """A validated spec.

    Attributes:
        kind: ``'model'`` or ``'dataset'``.
        name: The spec name, e.g. ``'lenet5'``.
        data: The spec's values, converted as its schema specifies.
        document: The loaded YAML, for ``file:line`` in later messages.
        path: The file it came from, or None for a spec given as text.
        text: The file's exact text (its hash goes into the project record).
    """

    kind: str
    name: str
    data: dict[str, Any]
    document: Document
    path: Path | None
    text: str

    def where(self, path: KeyPath) -> str:
        """Return ``file:line`` of a key path of this spec."""
        return self.document.where(path)


def _problem(document: Document, path: KeyPath, message: str) -> str:
    return schema.problem_text(document.where(path), path, message)


def check_component(
    kind: str,
    component: Mapping[str, Any],
    path: KeyPath,
    raw: Mapping[KeyPath, str],
    skip: Iterable[str] = (),
    fill_defaults: bool = True,
) -> tuple[dict[str, Any], list[tuple[KeyPath, str]]]:
    """Check a ``{name: ..., <args>}`` component against the catalog.

    Args:
        kind: The catalog kind (``'optimizer'``, ...).
        component: The component mapping; ``name`` is required.
        path: Its key path, for messages.
        raw: Source text of plain scalars, so a str argument written ``1.10``
            stays the string ``"1.10"``.
        skip: Arguments left out of the check and kept as given (``class_num:
            auto`` before the class count is known).
        fill_defaults: Add every argument the component leaves out, with its
            catalog default. Specs keep only what they spell out, so that a
            later merge or a change of name does not carry stale defaults.

    Returns:
        ``(component, problems)``: the checked component and
        ``(key_path, message)`` pairs.
    """
    name = component.get("name")
    valid = catalog.names(kind)
    if name not in valid:
        message = (
            f"got {schema.describe_value(name)}, expected a {kind} name from the "
            f"catalog: {', '.join(valid)}"
        )
        return dict(component), [((*path, "name"), message)]

    arg_schemas = catalog.entry(kind, name)["args"]
    args = {}
    for key, value in component.items():
        if key == "name" or key in skip:
            continue
        expected = arg_schemas.get(key, {}).get("type")
        if expected == "str" and not isinstance(value, str) and (*path, key) in raw:
            value = raw[(*path, key)]
        args[key] = value
    resolved, messages = catalog.check_args(kind, name, args)
    problems = []
    for message in messages:
        key, _, rest = message.partition(": ")
        problems.append(((*path, key), rest))
    if not fill_defaults:
        resolved = {key: value for key, value in resolved.items() if key in args}
    result = {"name": name, **resolved}
    for key in skip:
        if key in component:
            result[key] = component[key]
    return result, problems


def _check_model(data: dict[str, Any], raw: Mapping[KeyPath, str]) -> list[tuple[KeyPath, str]]:
    problems: list[tuple[KeyPath, str]] = []
    for key in ("network", "loss", "optimizer", "lr_schedule"):
        if isinstance(data.get(key), dict):
            # The dataset decides class_num; a model spec may still fix it.
            data[key], found = check_component(
                COMPONENT_KINDS[key], data[key], (key,), raw, fill_defaults=False
            )
            problems += found
    problems += check_metrics(data.get("metrics"), ("metrics",))
    if isinstance(data.get("callbacks"), dict):
        data["callbacks"], found = check_callbacks(
            data["callbacks"], ("callbacks",), raw, fill_defaults=False
        )
        problems += found

    network = data.get("network", {}).get("name")
    if network in catalog.names("network") and "input_size" in data:
        expected = catalog.network_info(network)["input_size"]
        if list(data["input_size"]) != list(expected):
            problems.append(
                (
                    ("input_size",),
                    f"got {data['input_size']!r}, expected "
                    f"{expected!r}, the input size of the network {network!r}",
                )
            )
    return problems


def check_metrics(metrics: Any, path: KeyPath) -> list[tuple[KeyPath, str]]:
    """Check that every metric name is in the catalog."""
    problems = []
    valid = catalog.names("metric")
    for index, name in enumerate(metrics if isinstance(metrics, list) else []):
        if name not in valid:
            problems.append(
                (
                    (*path, index),
                    f"got {schema.describe_value(name)}, expected a "
                    f"metric name from the catalog: {', '.join(valid)}",
                )
            )
    return problems


def check_callbacks(
    callbacks: dict[str, Any],
    path: KeyPath,
    raw: Mapping[KeyPath, str],
    fill_defaults: bool = True,
) -> tuple[dict[str, Any], list[tuple[KeyPath, str]]]:
    """Check callback names and arguments; a null entry stays null (disabled)."""
    problems: list[tuple[KeyPath, str]] = []
    resolved: dict[str, Any] = {}
    for name, args in callbacks.items():
        if args is None:
            resolved[name] = None
            continue
        component, found = check_component(
            "callback", {"name": name, **args}, (*path, name), raw, fill_defaults=fill_defaults
        )
        component.pop("name")
        resolved[name] = component
        for key_path, message in found:
            if key_path == (*path, name, "name"):
                key_path = (*path, name)
            problems.append((key_path, message))
    return resolved, problems


def _check_dataset(data: dict[str, Any], raw: Mapping[KeyPath, str]) -> list[tuple[KeyPath, str]]:
    problems: list[tuple[KeyPath, str]] = []
    datasets = catalog.names("dataset")
    entries = {}
    for key in ("loader", "download"):
        name = data.get(key)
        if name is None and key == "download":
            continue
        if name not in datasets:
            problems.append(
                (
                    (key,),
                    f"got {schema.describe_value(name)}, expected a dataset "
                    f"name from the catalog: {', '.join(datasets)}",
                )
            )
        else:
            entries[key] = catalog.dataset_info(name)
    if len(entries) == 2 and entries["loader"].get("loader") != entries["download"].get("loader"):
        problems.append(
            (
                ("loader",),
                f"got {data['loader']!r}, whose files are read by the "
                f"{entries['loader'].get('loader')!r} loader, but the download "
                f"{data['download']!r} needs the {entries['download'].get('loader')!r} "
                "loader; use a loader entry that reads the downloaded layout",
            )
        )

    if isinstance(data.get("transform"), dict):
        data["transform"], found = check_component(
            "transform", data["transform"], ("transform",), raw, fill_defaults=False
        )
        problems += found
        expected = entries.get("loader", {}).get("transform")
        if expected and data["transform"].get("name") != expected:
            problems.append(
                (
                    ("transform", "name"),
                    f"got {data['transform'].get('name')!r}, "
                    f"expected {expected!r}, the transform the catalog gives the "
                    f"dataset {data.get('loader')!r}",
                )
            )

    class_num = data.get("class_num")
    class_names = data.get("class_names")
    # A class_num the schema rejected has its own problem; checking the names
    # against it would only add a misleading second one.
    if isinstance(class_num, bool) or (isinstance(class_num, int) and class_num < 1):
        class_num = None
    if class_num == "auto" and class_names is not None:
        problems.append(
            (
                ("class_names",),
                "expected null when class_num is 'auto' (the "
                "names are read from the class folders)",
            )
        )
    if isinstance(class_num, int) and isinstance(class_names, list):
        if len(class_names) != class_num:
            problems.append(
                (
                    ("class_names",),
                    f"got {len(class_names)} names, expected class_num = {class_num}",
                )
            )
    if isinstance(class_num, int) and class_names is None:
        problems.append((("class_names",), f"got null, expected a list of {class_num} names"))
    catalog_classes = entries.get("loader", {}).get("class_num")
    if isinstance(catalog_classes, int) and class_num != catalog_classes:
        problems.append(
            (
                ("class_num",),
                f"got {class_num!r}, expected {catalog_classes}, the "
                f"class count of the catalog dataset {data.get('loader')!r}",
            )
        )
    return problems


def load_spec_text(text: str, source: str = "<string>", path: Path | None = None) -> Spec:
    """Validate a spec given as YAML text.

    Raises:
        SpecError: listing every problem, each with file, line, key path, the
            value found and what is allowed.
    """
    document = load_yaml_text(text, source)
    data = document.data
    if not isinstance(data, dict):
        raise SpecError(
            [
                f"{source}: expected a mapping with 'kind: model' or 'kind: dataset', "
                f"got {schema.describe_value(data)}"
            ]
        )
    kind = data.get("kind")
    if kind not in ("model", "dataset"):
        raise SpecError(
            [
                _problem(
                    document,
                    ("kind",),
                    f"got {schema.describe_value(kind)}, expected 'model' or 'dataset'",
                )
            ]
        )

    converted, found = schema.check(kind, data, document.raw)
    problems = [_problem(document, key_path, message) for key_path, message in found]
    checks = _check_model if kind == "model" else _check_dataset
    problems += [
        _problem(document, key_path, message)
        for key_path, message in checks(converted, document.raw)
    ]
    if path is not None and converted.get("name") != path.stem:
        problems.append(
            _problem(
                document,
                ("name",),
                f"got {converted.get('name')!r}, expected "
                f"{path.stem!r}, the file name without .yaml",
            )
        )
    if problems:
        raise SpecError(problems)
    return Spec(kind, converted["name"], converted, document, path, text)


def load_spec(path: str | Path, check_file_name: bool = True) -> Spec:
    """Load and validate one spec file.

    Args:
        path: A ``.yaml`` spec file.
        check_file_name: Require the spec's ``name`` to match the file name.

    Raises:
        SpecError: the file is unreadable or invalid (every problem listed).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError([f"{path}: cannot read the spec: {err}"]) from err
    return load_spec_text(text, str(path), path if check_file_name else None)


class SpecSet:
    """The shipped specs plus user spec files, by kind and name.

    Args:
        spec_dir: The folder with ``models/`` and ``datasets/``; defaults to the
            installed ``spec/`` folder.
        extra: User spec files; each adds a spec or replaces the shipped spec
            of the same kind and name.

    Raises:
        SpecError: any spec is invalid (every problem of every file listed).
    """

    def __init__(self, spec_dir: str | Path | None = None, extra: Iterable[str | Path] = ()):
        self.spec_dir = Path(spec_dir) if spec_dir is not None else SPEC_DIR
        self.specs: dict[str, dict[str, Spec]] = {"model": {}, "dataset": {}}
        problems: list[str] = []
        files = [
            (path, True)
            for folder in ("models", "datasets")
            for path in sorted((self.spec_dir / folder).glob("*.yaml"))
        ]
        files += [(Path(path), False) for path in extra]
        for path, shipped in files:
            try:
                spec = load_spec(path, check_file_name=shipped)
            except SpecError as err:
                problems += err.problems
                continue
            folder_kind = {"models": "model", "datasets": "dataset"}.get(path.parent.name)
            if shipped and spec.kind != folder_kind:
                problems.append(
                    f"{path}: a {spec.kind} spec in the {path.parent.name}/ folder; "
                    f"move it to {spec.kind}s/"
                )
                continue
            if spec.name in self.specs[spec.kind] and not shipped:
                logger.info(
                    "The %s spec %r from %s replaces the shipped one", spec.kind, spec.name, path
                )
            self.specs[spec.kind][spec.name] = spec
        if problems:
            raise SpecError(problems)

    def names(self, kind: str) -> list[str]:
        """Return the sorted spec names of ``'model'`` or ``'dataset'``."""
        return sorted(self.specs[kind])

    def get(self, kind: str, name: str) -> Spec:
        """Return one spec; raise SpecError naming the valid names."""
        if name not in self.specs[kind]:
            valid = ", ".join(self.names(kind)) or "none"
            raise SpecError(
                [
                    f"no {kind} spec named {name!r}; {kind} specs: {valid}. "
                    f"Add your own with --spec FILE."
                ]
            )
        return self.specs[kind][name]

    def pairs(self) -> list[tuple[str, str]]:
        """Return every (model, dataset) pair that a model spec lists, sorted."""
        return sorted(
            (model, dataset)
            for model, spec in self.specs["model"].items()
            for dataset in spec.data["datasets"]
        )


def validate_all(spec_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """Validate every spec and resolve every model x dataset pair they list.

    Returns:
        The pairs checked.

    Raises:
        SpecError: listing every problem found in every file and pair.
    """
    from tinyms.generator.resolve import resolve_config

    specs = SpecSet(spec_dir)
    problems: list[str] = []
    pairs = specs.pairs()
    for model, dataset in pairs:
        try:
            resolve_config(specs, model, dataset)
        except SpecError as err:
            problems += err.problems
    if problems:
        raise SpecError(problems)
    return pairs


def deep_copy(data: Any) -> Any:
    """Return a deep copy of plain YAML data."""
    return copy.deepcopy(data)


def describe_path(path: KeyPath) -> str:
    """Return a key path as users write it (``optimizer.lr``)."""
    return format_path(path)
