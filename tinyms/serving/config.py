"""Servable configuration: which models a server loads, read from a JSON or YAML file.

A configuration file is either a list of servables or a mapping with a
``servables`` list and optional server settings::

    servables:
      - model: lenet5            # a network catalog name
        dataset: mnist           # a dataset catalog name: transform and class names
        checkpoint: lenet5.ckpt  # or mindir: lenet5.mindir (relative to this file)
        name: lenet5_mnist       # optional; defaults to <model>_<dataset>
        network_args: {}         # optional network arguments, e.g. {num_channel: 3}
        class_names: [...]       # optional; defaults to the dataset's class names
        transform_args: {}       # optional transform overrides: image_size, channels, mean, std
    max_content_length: 10485760 # optional request body limit in bytes
    max_image_pixels: 16777216   # optional limit on width * height of a decoded image

This module imports no MindSpore and no Flask, so the client can check a
configuration before it starts a server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinyms import catalog
from tinyms.errors import InvalidArgumentError, ServingError, UnknownNameError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_CONTENT_LENGTH",
    "DEFAULT_MAX_IMAGE_PIXELS",
    "ServableSpec",
    "ServingConfig",
    "default_config_path",
    "find_config",
    "load_config",
    "parse_config",
    "spec_from_project",
]

#: Environment variable that names the configuration file to use by default.
CONFIG_ENV = "TINYMS_SERVING_CONFIG"
#: Default limit on a request body, in bytes (10 MiB).
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
#: Default limit on the pixels (width * height) of an uploaded image.
DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SERVABLE_KEYS = (
    "name", "model", "dataset", "checkpoint", "mindir", "network_args", "class_names",
    "transform_args",
)
_TRANSFORM_KEYS = ("image_size", "channels", "mean", "std")
_SETTING_KEYS = ("max_content_length", "max_image_pixels")


@dataclasses.dataclass(frozen=True)
class ServableSpec:
    """One servable: a network, its weights and the dataset it was trained on.

    Attributes:
        name: The name clients use in ``/servables/<name>/predict``.
        model: The network catalog name, e.g. ``'lenet5'``.
        dataset: The dataset catalog name, e.g. ``'mnist'``; it sets the
            transform and the class names.
        checkpoint: An absolute path to a ``.ckpt`` file, or ``None``.
        mindir: An absolute path to a ``.mindir`` file, or ``None``; exactly one
            of ``checkpoint`` and ``mindir`` is set.
        network_args: Keyword arguments the network is built with.
        class_names: One label per network output, or ``None`` for the dataset's.
        transform_args: Overrides of the transform that ``transform_for``
            resolves (``image_size``, ``channels``, ``mean``, ``std``).
    """

    name: str
    model: str
    dataset: str
    checkpoint: str | None = None
    mindir: str | None = None
    network_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    class_names: tuple[str, ...] | None = None
    transform_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-serializable dict, in the configuration file's keys."""
        data: dict[str, Any] = {"name": self.name, "model": self.model, "dataset": self.dataset}
        if self.checkpoint is not None:
            data["checkpoint"] = self.checkpoint
        if self.mindir is not None:
            data["mindir"] = self.mindir
        if self.network_args:
            data["network_args"] = dict(self.network_args)
        if self.class_names is not None:
            data["class_names"] = list(self.class_names)
        if self.transform_args:
            data["transform_args"] = dict(self.transform_args)
        return data


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """A whole server configuration.

    Attributes:
        servables: The servables, in file order.
        max_content_length: Largest accepted request body, in bytes. The server
            rejects larger requests with status 413.
        max_image_pixels: Largest accepted image, in pixels (width * height).
        source: The file the configuration was read from, or ``None``.
    """

    servables: tuple[ServableSpec, ...]
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serializable dict that :func:`parse_config` reads."""
        return {
            "servables": [spec.to_dict() for spec in self.servables],
            "max_content_length": self.max_content_length,
            "max_image_pixels": self.max_image_pixels,
        }


def default_config_path() -> Path:
    """Return where the configuration is looked up when no path is passed.

    That is ``$TINYMS_SERVING_CONFIG`` when set, else ``~/.tinyms/servables.yaml``
    (a user-writable place; tinyms never reads a system-wide file).
    """
    configured = os.environ.get(CONFIG_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".tinyms" / "servables.yaml"


def find_config(path: str | os.PathLike | None = None) -> Path:
    """Return the configuration file to read: ``path`` or the default location.

    Raises:
        ServingError: The file does not exist.
    """
    candidate = Path(path).expanduser() if path is not None else default_config_path()
    if not candidate.is_file():
        how = "" if path is not None else (
            f" (the default location; set {CONFIG_ENV} to use another file)"
        )
        raise ServingError(
            f"Serving configuration file not found: {str(candidate)!r}{how}. Write a YAML or "
            "JSON file listing the servables, e.g. 'servables: [{model: lenet5, dataset: mnist, "
            "checkpoint: lenet5.ckpt}]', or pass servables=... to start_server."
        )
    return candidate


def load_config(path: str | os.PathLike | None = None) -> ServingConfig:
    """Read and check a serving configuration file (JSON or YAML).

    Args:
        path: The file; ``None`` (default) uses :func:`default_config_path`.
            Relative checkpoint and MINDIR paths in it are taken relative to the
            file's folder.

    Returns:
        The checked :class:`ServingConfig`.

    Raises:
        ServingError: The file is missing or cannot be parsed.
        InvalidArgumentError: The content is invalid; the message lists every problem.
    """
    import yaml

    source = find_config(path)
    try:
        text = source.read_text(encoding="utf-8")
        # JSON is a subset of YAML 1.2 for every document written by json.dump.
        data = json.loads(text) if source.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise ServingError(
            f"Cannot read the serving configuration {str(source)!r}: {err}. Fix the file's "
            "syntax (JSON for .json files, YAML otherwise)."
        ) from err
    return parse_config(data, base_dir=source.parent, source=str(source))


def parse_config(
    data: Any, base_dir: str | os.PathLike | None = None, source: str | None = None
) -> ServingConfig:
    """Check a configuration given as Python data (as read from JSON or YAML).

    Args:
        data: A list of servable mappings, a single servable mapping (one with a
            ``model`` key), or a mapping with a ``servables`` list and settings.
        base_dir: The folder relative paths are resolved against; ``None``
            (default) means the current directory.
        source: Where the data came from, for messages.

    Returns:
        The checked :class:`ServingConfig`.

    Raises:
        InvalidArgumentError: Every problem found, listed in one message.
    """
    where = f" in {source}" if source else ""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if isinstance(data, Mapping) and "model" in data:
        data = [data]
    if isinstance(data, (list, tuple)):
        data = {"servables": list(data)}
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(
            f"Invalid serving configuration{where}: expected a mapping with a 'servables' list, "
            f"got {type(data).__name__}."
        )

    problems: list[str] = []
    unknown = sorted(set(map(str, data)) - {"servables", *_SETTING_KEYS})
    if unknown:
        problems.append(
            f"unknown top-level keys {unknown}; valid keys: servables, {', '.join(_SETTING_KEYS)}"
        )
    settings = {
        "max_content_length": _positive_int(data, "max_content_length",
                                            DEFAULT_MAX_CONTENT_LENGTH, problems),
        "max_image_pixels": _positive_int(data, "max_image_pixels",
                                          DEFAULT_MAX_IMAGE_PIXELS, problems),
    }

    items = data.get("servables")
    if not isinstance(items, (list, tuple)) or not items:
        problems.append(f"'servables' must be a non-empty list, got {items!r}")
        items = []
    specs = []
    for position, item in enumerate(items):
        spec = _parse_servable(item, position, base, problems)
        if spec is not None:
            specs.append(spec)

    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.name] = counts.get(spec.name, 0) + 1
    for name, count in counts.items():
        if count > 1:
            problems.append(
                f"{count} servables are named {name!r}; give each a different 'name'"
            )

    if problems:
        raise InvalidArgumentError(
            f"Invalid serving configuration{where}:\n" + "\n".join(f"  - {p}" for p in problems),
            problems,
        )
    return ServingConfig(tuple(specs), source=source, **settings)


def _positive_int(data: Mapping[str, Any], key: str, default: int, problems: list[str]) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{key!r} must be a positive integer, got {value!r}")
        return default
    return value


def _catalog_name(kind: str, value: Any, label: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value:
        problems.append(f"{label}: '{kind}' must be a {kind} catalog name, got {value!r}")
        return None
    try:
        catalog.entry("network" if kind == "model" else kind, value)
    except UnknownNameError as err:
        problems.append(f"{label}: {err}")
        return None
    return value


def _weights_path(value: Any, key: str, label: str, base: Path, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{label}: {key!r} must be a file path, got {value!r}")
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _parse_servable(
    item: Any, position: int, base: Path, problems: list[str]
) -> ServableSpec | None:
    label = f"servables[{position}]"
    if not isinstance(item, Mapping):
        problems.append(f"{label}: expected a mapping with 'model' and 'dataset', got {item!r}")
        return None
    unknown = sorted(set(map(str, item)) - set(_SERVABLE_KEYS))
    if unknown:
        problems.append(f"{label}: unknown keys {unknown}; valid keys: {', '.join(_SERVABLE_KEYS)}")

    model = _catalog_name("model", item.get("model"), label, problems)
    dataset = _catalog_name("dataset", item.get("dataset"), label, problems)
    checkpoint = _weights_path(item.get("checkpoint"), "checkpoint", label, base, problems)
    mindir = _weights_path(item.get("mindir"), "mindir", label, base, problems)
    if (item.get("checkpoint") is None) == (item.get("mindir") is None):
        problems.append(f"{label}: set exactly one of 'checkpoint' (a .ckpt file) and 'mindir' "
                        "(a .mindir file)")

    network_args = item.get("network_args") or {}
    if not isinstance(network_args, Mapping):
        problems.append(f"{label}: 'network_args' must be a mapping, got {network_args!r}")
        network_args = {}

    class_names = item.get("class_names")
    if class_names is not None:
        if not isinstance(class_names, (list, tuple)) or not class_names:
            problems.append(f"{label}: 'class_names' must be a non-empty list, got {class_names!r}")
            class_names = None
        else:
            class_names = tuple(str(value) for value in class_names)

    transform_args = item.get("transform_args") or {}
    if not isinstance(transform_args, Mapping):
        problems.append(f"{label}: 'transform_args' must be a mapping, got {transform_args!r}")
        transform_args = {}
    unknown = sorted(set(map(str, transform_args)) - set(_TRANSFORM_KEYS))
    if unknown:
        problems.append(f"{label}: unknown transform_args {unknown}; valid keys: "
                        f"{', '.join(_TRANSFORM_KEYS)}")

    name = item.get("name")
    if name is None and model and dataset:
        name = f"{model}_{dataset}"
    if name is not None and (not isinstance(name, str) or not _NAME_PATTERN.match(name)):
        problems.append(
            f"{label}: invalid name {name!r}; use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
        return None
    if model is None or dataset is None:
        return None
    return ServableSpec(name, model, dataset, checkpoint, mindir, dict(network_args), class_names,
                        dict(transform_args))


def spec_from_project(
    config: Mapping[str, Any],
    *,
    checkpoint: str | os.PathLike | None = None,
    mindir: str | os.PathLike | None = None,
    name: str | None = None,
) -> ServableSpec:
    """Build a servable from the configuration of a project that ``tinyms-new`` generated.

    The network (name and arguments), the dataset, its class names and the
    transform overrides come from the project's ``config.yaml`` sections
    ``network``, ``dataset`` and ``transform``.

    Args:
        config: The project configuration, as its scripts load it.
        checkpoint: The ``.ckpt`` file to serve.
        mindir: The ``.mindir`` file to serve instead of a checkpoint.
        name: The servable name; defaults to ``<model>_<dataset>``.

    Returns:
        The checked :class:`ServableSpec`.

    Raises:
        InvalidArgumentError: A section is missing or names an unknown model or
            dataset, or not exactly one of ``checkpoint`` and ``mindir`` is given.
    """
    try:
        network = dict(config["network"])
        dataset = config["dataset"]
        transform = config.get("transform") or {}
    except (KeyError, TypeError) as err:
        raise InvalidArgumentError(
            f"The project configuration has no {err} section; pass the config that the "
            "project's scripts read (config.yaml)."
        ) from err
    model = network.pop("name", None)
    item: dict[str, Any] = {"model": model, "dataset": dataset.get("name"),
                            "network_args": network}
    if dataset.get("class_names"):
        item["class_names"] = list(dataset["class_names"])
    overrides = {key: transform[key] for key in _TRANSFORM_KEYS if transform.get(key) is not None}
    if overrides:
        item["transform_args"] = overrides
    if checkpoint is not None:
        item["checkpoint"] = str(Path(checkpoint).resolve())
    if mindir is not None:
        item["mindir"] = str(Path(mindir).resolve())
    if name is not None:
        item["name"] = name
    return parse_config([item]).servables[0]
