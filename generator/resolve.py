"""Merge a model spec, a dataset spec and user overrides into one project config.

The result is what a generated project's ``config.yaml`` holds: every value
spelled out, every catalog default filled in. :func:`validate_config` checks
such a config, whether it was just resolved or edited by hand afterwards, so
``tinyms-new`` and the generated scripts apply the same rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tinyms import catalog
from tinyms.errors import SpecError
from tinyms.generator import schema
from tinyms.generator.spec import (
    COMPONENT_KINDS,
    SpecSet,
    check_callbacks,
    check_component,
    check_metrics,
)
from tinyms.generator.yamlio import KeyPath, format_path, load_yaml_text

__all__ = ["parse_set", "resolve_config", "validate_config"]

# Optional training keys, written into every generated config.yaml so users see them.
TRAINING_DEFAULTS = {"shuffle": True, "scale_lr": False}

RECIPE_KEYS = (
    "network",
    "device",
    "loss",
    "optimizer",
    "lr_schedule",
    "metrics",
    "callbacks",
    "training",
)


def parse_set(item: str) -> tuple[KeyPath, Any, str | None]:
    """Parse one ``--set KEY=VALUE`` into ``(key_path, value, source_text)``.

    The value is read as YAML (``0.01`` a float, ``true`` a bool, ``[a, b]`` a
    list, ``null`` null), with the same YAML 1.2 rules as the specs.

    Raises:
        SpecError: no ``=``, an empty key part, or a value that is not YAML.
    """
    key, sep, text = item.partition("=")
    parts = tuple(part.strip() for part in key.split("."))
    if not sep or not all(parts):
        raise SpecError(
            [f"--set {item}: expected KEY=VALUE with a dotted KEY, such as optimizer.lr=0.01"]
        )
    document = load_yaml_text(text, f"--set {item}")
    value = document.data
    if isinstance(value, str) and text.strip() == "":
        value = None
    return parts, value, document.raw.get(())


def _merge_component(base: dict[str, Any] | None, change: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a component override: a new name drops the old arguments."""
    if base is None or ("name" in change and change["name"] != base.get("name")):
        return dict(change)
    return {**base, **change}


def _apply_recipe_override(recipe: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, change in override.items():
        if key in COMPONENT_KINDS:
            recipe[key] = _merge_component(recipe.get(key), change)
        elif key == "callbacks":
            recipe["callbacks"] = {**recipe.get("callbacks", {}), **change}
        elif key == "training":
            recipe["training"] = {**recipe.get("training", {}), **change}
        else:
            recipe[key] = copy.deepcopy(change)


def _set_path(config: dict[str, Any], path: KeyPath, value: Any) -> str | None:
    """Set ``config[path]``; return a problem when the path runs through a non-mapping."""
    node = config
    for depth, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            return (
                f"{format_path(path[: depth + 1])} is {schema.describe_value(child)}, "
                "not a mapping, so it has no keys to set"
            )
        node = child
    node[path[-1]] = value
    return None


def _fill_fit(config: dict[str, Any], image_shape: Sequence[Any]) -> None:
    """Fill the values a model takes from its dataset: channels, input size, classes."""
    network = config.get("network")
    transform = config.get("transform")
    if not isinstance(network, dict) or not isinstance(transform, dict):
        return
    if network.get("name") not in catalog.names("network"):
        return
    info = catalog.network_info(network["name"])
    channels_arg = info.get("channels_arg")
    class_num_arg = info.get("class_num_arg")
    if channels_arg and channels_arg not in network:
        network[channels_arg] = transform.get("channels", image_shape[2])
    if "channels" not in transform:
        transform["channels"] = network.get(channels_arg, info.get("default_channels", 3))
    if "image_size" not in transform:
        transform["image_size"] = info["input_size"][0]
    if class_num_arg and class_num_arg not in network:
        network[class_num_arg] = config.get("dataset", {}).get("class_num")


def resolve_config(
    specs: SpecSet,
    model: str,
    dataset: str,
    overrides: Sequence[str] = (),
    device: str | None = None,
) -> dict[str, Any]:
    """Resolve a model x dataset pair into a project config.

    Args:
        specs: The available specs.
        model: A model spec name.
        dataset: A dataset spec name, one the model spec lists under ``datasets``.
        overrides: ``KEY=VALUE`` strings (``--set``), applied last.
        device: ``CPU``, ``GPU`` or ``Ascend``; overrides the spec's device.

    Returns:
        The config, with every value spelled out.

    Raises:
        SpecError: listing every problem, each with where it comes from.
    """
    problems = []
    found = {}
    for kind, name in (("model", model), ("dataset", dataset)):
        try:
            found[kind] = specs.get(kind, name)
        except SpecError as err:
            problems += err.problems
    if problems:
        raise SpecError(problems)
    model_spec, dataset_spec = found["model"], found["dataset"]
    fits = model_spec.data["datasets"]
    if dataset not in fits:
        raise SpecError(
            [
                schema.problem_text(
                    model_spec.where(("datasets",)),
                    ("datasets",),
                    f"the model {model!r} does not list the dataset {dataset!r}; it fits "
                    f"{', '.join(sorted(fits))}. Add '{dataset}: {{}}' under datasets in a copy of "
                    "the model spec and pass it with --spec FILE",
                )
            ]
        )

    recipe = {key: copy.deepcopy(model_spec.data[key]) for key in RECIPE_KEYS}
    recipe["transform"] = copy.deepcopy(dataset_spec.data["transform"])
    _apply_recipe_override(recipe, fits[dataset] or {})
    data = dataset_spec.data
    config: dict[str, Any] = {
        "project": {
            "name": f"{model}-{dataset}",
            "model": model,
            "dataset": dataset,
            "summary": model_spec.data["summary"],
        },
        "dataset": {
            "name": dataset,
            "loader": data["loader"],
            "download": data["download"],
            "class_num": data["class_num"],
            "class_names": copy.deepcopy(data["class_names"]),
            "data_dir": None,
        },
        "network": recipe["network"],
        "transform": recipe["transform"],
        "device": recipe["device"],
        "loss": recipe["loss"],
        "optimizer": recipe["optimizer"],
        "lr_schedule": recipe["lr_schedule"],
        "metrics": recipe["metrics"],
        "callbacks": recipe["callbacks"],
        "training": {
            **recipe["training"],
            **{k: v for k, v in TRAINING_DEFAULTS.items() if k not in recipe["training"]},
        },
        "output_dir": "runs",
    }

    set_sources: dict[KeyPath, str] = {}
    raw: dict[KeyPath, str] = {}
    for item in overrides:
        try:
            path, value, text = parse_set(item)
        except SpecError as err:
            problems += err.problems
            continue
        problem = _set_path(config, path, value)
        if problem:
            problems.append(f"--set {item}: {problem}")
            continue
        set_sources[path] = f"--set {item}"
        if text is not None:
            raw[path] = text
    if device is not None:
        config["device"] = device
        set_sources[("device",)] = f"--device {device}"
    if problems:
        raise SpecError(problems)

    if isinstance(config.get("callbacks"), dict):
        config["callbacks"] = {
            name: args for name, args in config["callbacks"].items() if args is not None
        }
    _fill_fit(config, data["image_shape"])

    def where(path: KeyPath) -> str:
        for length in range(len(path), 0, -1):
            if path[:length] in set_sources:
                return set_sources[path[:length]]
        override = fits[dataset] or {}
        if path and path[0] in override:
            return model_spec.where(("datasets", dataset, *path))
        if path and path[0] == "transform":
            return dataset_spec.where(path)
        if path and path[0] == "dataset":
            return dataset_spec.where(path[1:])
        if path and path[0] in RECIPE_KEYS:
            return model_spec.where(path)
        return f"{model_spec.where(())} + {dataset_spec.where(())}"

    return validate_config(config, where, raw)


def validate_config(
    config: Any,
    where: Callable[[KeyPath], str] | str = "config.yaml",
    raw: Mapping[KeyPath, str] | None = None,
) -> dict[str, Any]:
    """Check a project config and fill in every catalog default.

    Args:
        config: The loaded config.
        where: A file name, or a function giving ``file:line`` for a key path.
        raw: Source text of plain scalars by key path.

    Returns:
        The checked config with defaults filled in.

    Raises:
        SpecError: listing every problem.
    """
    locate = where if callable(where) else (lambda path: str(where))
    raw = dict(raw or {})
    converted, found = schema.check("config", config, raw)
    if isinstance(converted, dict):
        found += _check_catalog(converted, raw, fit=not found)
    if found:
        raise SpecError(
            [schema.problem_text(locate(path), path, message) for path, message in found]
        )
    return converted


def _check_catalog(
    config: dict[str, Any], raw: Mapping[KeyPath, str], fit: bool
) -> list[tuple[KeyPath, str]]:
    """Check catalog names and arguments of the parts that have the right shape."""
    problems: list[tuple[KeyPath, str]] = []
    dataset = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
    class_num = dataset.get("class_num")
    network = config.get("network")
    info = None
    if isinstance(network, dict) and network.get("name") in catalog.names("network"):
        info = catalog.network_info(network["name"])

    skip = []
    class_num_arg = info.get("class_num_arg") if info else None
    if class_num_arg and network.get(class_num_arg) == "auto" and class_num == "auto":
        skip.append(class_num_arg)
    for key, kind in COMPONENT_KINDS.items():
        if isinstance(config.get(key), dict) and isinstance(config[key].get("name"), str):
            config[key], found = check_component(
                kind, config[key], (key,), raw, skip=skip if key == "network" else ()
            )
            problems += found
    if isinstance(config.get("metrics"), list):
        problems += check_metrics(config["metrics"], ("metrics",))
    callbacks = config.get("callbacks")
    if isinstance(callbacks, dict) and all(
        isinstance(v, (dict, type(None))) for v in callbacks.values()
    ):
        config["callbacks"], found = check_callbacks(callbacks, ("callbacks",), raw)
        problems += found

    loaders = catalog.names("dataset")
    if "loader" in dataset and dataset["loader"] not in loaders:
        problems.append(
            (
                ("dataset", "loader"),
                f"got {dataset['loader']!r}, expected a "
                f"dataset name from the catalog: {', '.join(loaders)}",
            )
        )
    if dataset.get("download") is not None and dataset["download"] not in loaders:
        problems.append(
            (
                ("dataset", "download"),
                f"got {dataset['download']!r}, expected null "
                f"or a dataset name from the catalog: {', '.join(loaders)}",
            )
        )
    names = dataset.get("class_names")
    if isinstance(class_num, int) and isinstance(names, list) and len(names) != class_num:
        problems.append(
            (
                ("dataset", "class_names"),
                f"got {len(names)} names, expected dataset.class_num = {class_num}",
            )
        )
    if problems or info is None or not fit:
        return problems
    return problems + _check_fit(config, info)


def _check_fit(config: dict[str, Any], info: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    """Check that the network fits the data: channels, input size and class count."""
    problems: list[tuple[KeyPath, str]] = []
    network, transform = config["network"], config["transform"]
    name = network["name"]
    expected_transform = catalog.dataset_info(config["dataset"]["loader"]).get("transform")
    if expected_transform and transform["name"] != expected_transform:
        problems.append(
            (
                ("transform", "name"),
                f"got {transform['name']!r}, expected "
                f"{expected_transform!r}, the transform of the dataset "
                f"{config['dataset']['loader']!r}",
            )
        )

    channels_arg = info.get("channels_arg")
    channels = (
        network.get(channels_arg, info.get("default_channels"))
        if channels_arg
        else (info.get("default_channels"))
    )
    if channels is not None and transform["channels"] != channels:
        problems.append(
            (
                ("transform", "channels"),
                f"got {transform['channels']!r}, but the "
                f"network {name!r} takes {channels}-channel images "
                f"(network.{channels_arg or 'channels'}); make the two equal",
            )
        )

    height, width = info["input_size"]
    if transform["image_size"] != height or height != width:
        problems.append(
            (
                ("transform", "image_size"),
                f"got {transform['image_size']!r}, "
                f"expected {height}, the input size {height}x{width} of the network "
                f"{name!r}",
            )
        )

    class_num_arg = info.get("class_num_arg")
    class_num = config["dataset"]["class_num"]
    if class_num_arg:
        value = network.get(class_num_arg)
        if value != class_num:
            problems.append(
                (
                    (("network", class_num_arg)),
                    f"got {value!r}, expected "
                    f"{class_num!r}, the class count of the dataset "
                    f"{config['dataset']['name']!r}",
                )
            )
    return problems
