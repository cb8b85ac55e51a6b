"""Hypothesis strategies of valid and invalid specs, and the test suite's settings profiles.

A *case* is a user model spec and a user dataset spec, each as data and as the
YAML text a user could write (plain YAML 1.1 traps such as ``1e-05``, ``yes``
and ``1.10`` included), plus the config that ``tinyms-new`` must resolve them
to. The expected config is computed here from the spec data and the catalog
defaults, independently of ``generator.resolve``.

Profiles: ``ci`` (the default: bounded examples, no deadline) and ``long``
(many more examples), chosen with ``HYPOTHESIS_PROFILE=long``. Importing this
module registers and loads them.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tinyms import catalog
from tinyms.generator.spec import SpecSet

__all__ = [
    "Case",
    "InvalidCase",
    "PROFILE",
    "Plain",
    "arg_value",
    "examples",
    "expected_config",
    "invalid_cases",
    "tricky_text",
    "shipped_case",
    "typed",
    "valid_cases",
    "write_yaml",
]

# -- settings profiles --------------------------------------------------------------

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """Return an example count: ``ci`` under the ci profile, twenty times more under long."""
    return ci * 20 if PROFILE == "long" else ci


# -- YAML text a user could write ---------------------------------------------------


class Plain(str):
    """A string written as a plain (unquoted) YAML scalar, e.g. ``1.10`` or ``yes``."""


# Plain scalars that YAML 1.1 (or 1.2) reads as something other than a string; written
# unquoted where the schema expects a string, each must come back as this exact text.
TRAPS = (
    "yes", "no", "on", "off", "y", "n", "Yes", "OFF", "true", "False", "1.10", "010",
    "0o17", "0x1F", "1e3", "2024-01-01", "12:30", "null", "~", ".inf", ".nan", "-0",
)


def _quoted(text: str) -> str:
    dumped = yaml.safe_dump(text, allow_unicode=True, default_style='"', width=1 << 30)
    return dumped.removesuffix("\n...\n").rstrip("\n")


def _scalar(value: Any, int_style: str = "plain") -> str:
    if isinstance(value, Plain):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # YAML 1.2 reads 010 as the decimal 10; YAML 1.1 would read octal 8.
        return f"0{value}" if int_style == "zero" and value >= 0 else str(value)
    if isinstance(value, float):
        return repr(value)  # 1e-05: a float in YAML 1.2, a string in YAML 1.1
    if isinstance(value, str):
        return _quoted(value)
    raise TypeError(f"no YAML scalar for {value!r}")


def write_yaml(data: dict[str, Any], indent: int = 0, int_style: str = "plain") -> str:
    """Return ``data`` as block YAML with flow lists, using the scalar forms above."""
    lines = []
    pad = " " * indent
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:")
            lines.append(write_yaml(value, indent + 2, int_style).rstrip("\n"))
        elif isinstance(value, dict):
            lines.append(f"{pad}{key}: {{}}")
        elif isinstance(value, list):
            items = ", ".join(_scalar(item, int_style) for item in value)
            lines.append(f"{pad}{key}: [{items}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(value, int_style)}")
    return "\n".join(lines) + "\n"


# -- values -------------------------------------------------------------------------

# Any character but surrogates (not UTF-8) and NUL; quotes, backslashes, newlines,
# tabs, control characters, U+0085, U+2028 and astral characters all included.
_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_SPECIALS = st.sampled_from(['"', "'", "\\", "\n", "\r\n", "\t", "é", "数据", "🙂", "\u2028",
                             "\x85", "{{ x }}", "{% raw %}", "#", ": ", "- ", "'''", '"""'])


@st.composite
def tricky_text(draw: st.DrawFn, min_size: int = 0, max_size: int = 40) -> str:
    """Text mixing any characters with the ones that break naive escaping."""
    parts = draw(st.lists(st.one_of(st.text(_CHARACTERS, max_size=8), _SPECIALS), max_size=8))
    text = "".join(parts)[:max_size]
    while len(text) < min_size:
        text += draw(st.sampled_from(["a", "é", '"', "\\"]))
    return text


identifiers = st.from_regex(r"\A[a-z][a-z0-9_]{0,20}\Z")


def _float_value(schema: dict[str, Any]) -> st.SearchStrategy[float]:
    low = schema.get("min", schema.get("exclusive_min", -1e6))
    high = schema.get("max", 1e6)
    return st.floats(
        min_value=float(low),
        max_value=float(high),
        exclude_min="exclusive_min" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def arg_value(schema: dict[str, Any], text: st.SearchStrategy[str] | None = None) -> Any:
    """Return a strategy of values that a catalog argument schema accepts."""
    if "choices" in schema:
        return st.sampled_from(schema["choices"])
    kind = schema["type"]
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(schema.get("min", -(10**6)), schema.get("max", 10**6))
    if kind == "float":
        floats = _float_value(schema)
        low = schema.get("min", schema.get("exclusive_min"))
        whole = [
            n for n in range(0, 3)
            if (low is None or n > low or ("min" in schema and n == low))
            and n <= schema.get("max", 1e6)
        ]
        # An int where a float is expected: the catalog turns `lr: 1` into 1.0.
        return st.one_of(floats, st.sampled_from(whole)) if whole else floats
    if kind == "str":
        return text if text is not None else st.one_of(tricky_text(min_size=1), _trap())
    raise ValueError(f"no strategy for argument type {kind!r}")


def _trap() -> st.SearchStrategy[Plain]:
    return st.sampled_from(TRAPS).map(Plain)


def _resolved(value: Any) -> Any:
    """Return what a spec value becomes: Plain is its text, an int in a float field a float."""
    if isinstance(value, Plain):
        return str(value)
    return value


def _component_args(draw: st.DrawFn, kind: str, name: str, skip: tuple = (),
                    text: dict[str, st.SearchStrategy[str]] | None = None) -> dict[str, Any]:
    schemas = catalog.entry(kind, name)["args"]
    args = {}
    for key, schema in schemas.items():
        if key in skip or schema["type"] == "list" or not draw(st.booleans()):
            continue
        args[key] = draw(arg_value(schema, (text or {}).get(key)))
    return args


def _full(kind: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Return the component as a resolved config holds it: every catalog default filled."""
    schemas = catalog.entry(kind, name)["args"]
    result: dict[str, Any] = {"name": name}
    for key, schema in schemas.items():
        value = _resolved(args[key]) if key in args else copy.deepcopy(schema["default"])
        if schema["type"] == "float" and value is not None:
            value = float(value)
        result[key] = value
    return result


# -- valid cases --------------------------------------------------------------------

_SHIPPED = SpecSet()
# Optional training keys that every generated config.yaml spells out.
TRAINING_DEFAULTS = {"shuffle": True, "scale_lr": False}
DATASET_BASES = _SHIPPED.names("dataset")


@dataclass
class Case:
    """A valid user model spec and dataset spec, and the config they must resolve to."""

    model: dict[str, Any]
    dataset: dict[str, Any]
    model_yaml: str
    dataset_yaml: str
    expected: dict[str, Any]
    device: str | None = None

    @property
    def model_name(self) -> str:
        return self.model["name"]

    @property
    def dataset_name(self) -> str:
        return self.dataset["name"]


def _monitor_names(metrics: list[str]) -> list[str]:
    return ["loss", "val_loss", *(f"val_{name}" for name in metrics if name != "loss")]


@st.composite
def _dataset_spec(draw: st.DrawFn, base: str) -> dict[str, Any]:
    shipped = _SHIPPED.get("dataset", base).data
    spec: dict[str, Any] = {
        "kind": "dataset",
        "name": "d_" + draw(identifiers),
        "summary": draw(tricky_text()),
    }
    if draw(st.booleans()):
        spec["description"] = draw(tricky_text(max_size=200))
    spec["download"] = shipped["download"] if draw(st.booleans()) else None
    spec["loader"] = shipped["loader"]
    spec["class_num"] = shipped["class_num"]
    if isinstance(shipped["class_num"], int):
        names = st.one_of(tricky_text(min_size=1, max_size=12), _trap())
        spec["class_names"] = draw(
            st.lists(names, min_size=shipped["class_num"], max_size=shipped["class_num"])
        )
    else:
        spec["class_names"] = None
    spec["image_shape"] = list(shipped["image_shape"])
    spec["transform"] = {"name": shipped["transform"]["name"]}
    return spec


@st.composite
def valid_cases(draw: st.DrawFn, networks: list[str] | None = None,
                bases: list[str] | None = None, max_epochs: int = 100000) -> Case:
    """Valid user model and dataset specs with any allowed components and values.

    Args:
        networks: Network names to draw from (default: every catalog network).
        bases: Shipped dataset specs whose loader the user dataset reuses.
        max_epochs: Upper bound of training.epochs (a built optimizer holds one
            learning rate per step, so tests that build objects keep it small).
    """
    base = draw(st.sampled_from(bases or DATASET_BASES))
    dataset = draw(_dataset_spec(base))
    loader_channels = dataset["image_shape"][2]

    network_name = draw(st.sampled_from(networks or catalog.names("network")))
    info = catalog.network_info(network_name)
    channels_arg, class_num_arg = info.get("channels_arg"), info.get("class_num_arg")
    network = {"name": network_name}
    network.update(
        _component_args(draw, "network", network_name, skip=(channels_arg, class_num_arg))
    )
    if channels_arg and draw(st.booleans()):
        network[channels_arg] = draw(st.sampled_from([1, 3]))
    if class_num_arg and isinstance(dataset["class_num"], int) and draw(st.booleans()):
        network[class_num_arg] = dataset["class_num"]

    metrics = draw(
        st.lists(st.sampled_from(catalog.names("metric")), min_size=1, max_size=4, unique=True)
    )
    loss = draw(st.sampled_from(catalog.names("loss")))
    optimizer = draw(st.sampled_from(catalog.names("optimizer")))
    schedule = draw(st.sampled_from(catalog.names("schedule")))
    callbacks: dict[str, Any] = {}
    text_args = {
        "monitor": st.sampled_from(_monitor_names(metrics)),
        "directory": st.one_of(identifiers, tricky_text(min_size=1).filter(
            lambda s: "/" not in s and s not in (".", ".."))),
    }
    for name in draw(st.lists(st.sampled_from(catalog.names("callback")), unique=True)):
        if draw(st.integers(0, 5)) == 0:
            callbacks[name] = None  # disabled
        else:
            callbacks[name] = _component_args(draw, "callback", name, text=text_args)
    training = {
        "epochs": draw(st.integers(1, max_epochs)),
        "batch_size": draw(st.integers(1, 65536)),
        "validation_split": draw(st.one_of(
            st.floats(0, 1, exclude_max=True, allow_nan=False), st.just(0))),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }
    if draw(st.booleans()):
        training["amp_level"] = draw(st.sampled_from(["O0", "O1", "O2", "O3"]))
    for key in TRAINING_DEFAULTS:
        if draw(st.booleans()):
            training[key] = draw(st.booleans())

    model: dict[str, Any] = {
        "kind": "model",
        "name": "m_" + draw(identifiers),
        "summary": draw(tricky_text()),
    }
    if draw(st.booleans()):
        model["description"] = draw(tricky_text(max_size=300))
    model.update({
        "network": network,
        "input_size": list(info["input_size"]),
        "device": draw(st.sampled_from(["CPU", "GPU", "Ascend"])),
        "loss": {"name": loss, **_component_args(draw, "loss", loss)},
        "optimizer": {"name": optimizer, **_component_args(draw, "optimizer", optimizer)},
        "lr_schedule": {"name": schedule, **_component_args(draw, "schedule", schedule)},
        "metrics": metrics,
        "callbacks": callbacks,
        "training": training,
    })
    override: dict[str, Any] = {}
    if draw(st.booleans()):
        override["training"] = {"epochs": draw(st.integers(1, min(1000, max_epochs)))}
    if draw(st.booleans()):
        lr_schema = catalog.entry("optimizer", optimizer)["args"]["lr"]
        override["optimizer"] = {"lr": draw(arg_value(lr_schema))}
    if draw(st.booleans()):
        override["metrics"] = draw(st.lists(
            st.sampled_from(catalog.names("metric")), min_size=1, max_size=3, unique=True))
    if "early_stopping" in callbacks and callbacks["early_stopping"]:
        # The monitor must name a metric of the recipe that the override leaves.
        final_metrics = override.get("metrics", metrics)
        monitor = callbacks["early_stopping"].get("monitor")
        if monitor is not None and monitor not in _monitor_names(final_metrics):
            callbacks["early_stopping"]["monitor"] = "val_loss"
    model["datasets"] = {dataset["name"]: override}

    device = draw(st.one_of(st.none(), st.sampled_from(["CPU", "GPU", "Ascend"])))
    int_style = draw(st.sampled_from(["plain", "zero"]))
    case = Case(
        model=model,
        dataset=dataset,
        model_yaml=write_yaml(model, int_style=int_style),
        dataset_yaml=write_yaml(dataset, int_style=int_style),
        expected={},
        device=device,
    )
    case.expected = expected_config(case, loader_channels)
    return case


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Apply a component override: a new name drops the old arguments."""
    if "name" in change and change["name"] != base.get("name"):
        return dict(change)
    return {**base, **change}


def expected_config(case: Case, loader_channels: int) -> dict[str, Any]:
    """Return the project config that ``case`` must resolve to, from the catalog alone."""
    model, dataset = case.model, case.dataset
    override = model["datasets"][dataset["name"]] or {}
    recipe = {
        key: copy.deepcopy(model[key])
        for key in ("network", "loss", "optimizer", "lr_schedule", "metrics", "callbacks",
                    "training", "device")
    }
    recipe["transform"] = copy.deepcopy(dataset["transform"])
    for key, change in override.items():
        if key in ("network", "loss", "optimizer", "lr_schedule", "transform"):
            recipe[key] = _merge(recipe[key], change)
        elif key in ("callbacks", "training"):
            recipe[key] = {**recipe[key], **change}
        else:
            recipe[key] = copy.deepcopy(change)

    network_name = recipe["network"]["name"]
    info = catalog.network_info(network_name)
    channels_arg, class_num_arg = info.get("channels_arg"), info.get("class_num_arg")
    transform_args = {k: v for k, v in recipe["transform"].items() if k != "name"}
    network_args = {k: v for k, v in recipe["network"].items() if k != "name"}
    if channels_arg and channels_arg not in network_args:
        network_args[channels_arg] = transform_args.get("channels", loader_channels)
    if class_num_arg and class_num_arg not in network_args:
        network_args[class_num_arg] = dataset["class_num"]
    network = _full("network", network_name, network_args)
    if class_num_arg and network_args[class_num_arg] == "auto":
        network[class_num_arg] = "auto"
    transform_args.setdefault(
        "channels", network.get(channels_arg, info.get("default_channels", 3))
    )
    transform_args.setdefault("image_size", info["input_size"][0])
    transform = _full("transform", recipe["transform"]["name"], transform_args)

    def component(key: str, kind: str) -> dict[str, Any]:
        args = {k: v for k, v in recipe[key].items() if k != "name"}
        return _full(kind, recipe[key]["name"], args)

    callbacks = {}
    for name, args in recipe["callbacks"].items():
        if args is not None:
            callbacks[name] = _full("callback", name, args)
            callbacks[name].pop("name")

    return {
        "project": {
            "name": f"{model['name']}-{dataset['name']}",
            "model": model["name"],
            "dataset": dataset["name"],
            "summary": model["summary"],
        },
        "dataset": {
            "name": dataset["name"],
            "loader": dataset["loader"],
            "download": dataset["download"],
            "class_num": dataset["class_num"],
            "class_names": (
                None if dataset["class_names"] is None
                else [_resolved(name) for name in dataset["class_names"]]
            ),
            "data_dir": None,
        },
        "network": network,
        "transform": transform,
        "device": case.device or recipe["device"],
        "loss": component("loss", "loss"),
        "optimizer": component("optimizer", "optimizer"),
        "lr_schedule": component("lr_schedule", "schedule"),
        "metrics": list(recipe["metrics"]),
        "callbacks": callbacks,
        "training": {**TRAINING_DEFAULTS, **recipe["training"]},
        "output_dir": "runs",
    }


def typed(value: Any) -> Any:
    """Return ``value`` with every scalar tagged by type, so 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


# -- invalid cases ------------------------------------------------------------------


@dataclass
class InvalidCase:
    """A spec with exactly one rule broken, and the key path that the error must name."""

    case: Case
    rule: str
    path: str  # as users write it, e.g. "optimizer.lr" or "metrics[1]"
    target: str  # "model" or "dataset": the file whose text is broken


def _set(data: dict[str, Any], path: tuple, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


_WRONG_TYPE = {
    "int": st.sampled_from([Plain("1.5"), "3", True, [1]]),
    "float": st.sampled_from(["0.1", True, [0.1], {"a": 1}]),
    "bool": st.sampled_from([Plain("yes"), Plain("on"), 1, "true"]),
    "str": st.sampled_from([[1], {"a": "b"}]),
}


@st.composite
def _break_argument(draw: st.DrawFn, case: Case) -> tuple[str, tuple, Any]:
    """Break one catalog argument of one component: wrong type or out of range."""
    choices = [
        (key, kind)
        for key, kind in (("loss", "loss"), ("optimizer", "optimizer"),
                          ("lr_schedule", "schedule"))
        if catalog.entry(kind, case.model[key]["name"])["args"]
    ]
    key, kind = draw(st.sampled_from(choices))
    schemas = catalog.entry(kind, case.model[key]["name"])["args"]
    arg = draw(st.sampled_from(sorted(schemas)))
    schema = schemas[arg]
    bad_values = [draw(_WRONG_TYPE[schema["type"]])]
    if "max" in schema:
        bad_values.append(schema["max"] + (1 if schema["type"] == "int" else 0.5))
    if "min" in schema:
        bad_values.append(schema["min"] - 1)
    if "exclusive_min" in schema:
        bad_values.append(schema["exclusive_min"])
    if "choices" in schema:
        bad_values.append("not_a_choice")
    value = draw(st.sampled_from(bad_values))
    return "argument", (key, arg), value


@st.composite
def invalid_cases(draw: st.DrawFn) -> InvalidCase:
    """A valid case with one schema rule broken in the model or dataset spec."""
    case = draw(valid_cases(networks=["lenet5", "resnet18", "vgg11"]))
    model = copy.deepcopy(case.model)
    dataset = copy.deepcopy(case.dataset)
    rule = draw(st.sampled_from([
        "argument", "unknown_argument", "unknown_key", "unknown_nested_key", "unknown_name",
        "unknown_metric", "unknown_callback", "training_type", "training_range",
        "yaml11_bool", "device", "input_size", "class_count", "missing_key",
        "dataset_class_names", "dataset_loader", "identifier",
    ]))
    target = "model"
    if rule == "argument":
        _, path, value = draw(_break_argument(case))
    elif rule == "unknown_argument":
        key = draw(st.sampled_from(["loss", "optimizer", "lr_schedule", "network"]))
        path, value = (key, "no_such_" + draw(identifiers)), 1
    elif rule == "unknown_key":
        path, value = ("no_such_key_" + draw(identifiers),), 1
    elif rule == "unknown_nested_key":
        path, value = ("training", "no_such_" + draw(identifiers)), 1
    elif rule == "unknown_name":
        key = draw(st.sampled_from(["loss", "optimizer", "lr_schedule", "network"]))
        path, value = (key, "name"), "no_such_" + draw(identifiers)
        model[key] = {"name": model[key]["name"]}  # its arguments may not fit another name
    elif rule == "unknown_metric":
        index = draw(st.integers(0, len(model["metrics"])))
        model["metrics"].insert(index, "no_such_metric")
        path, value = ("metrics", index), "no_such_metric"
    elif rule == "unknown_callback":
        name = "no_such_" + draw(identifiers)
        path, value = ("callbacks", name), {}
    elif rule == "training_type":
        key = draw(st.sampled_from(["epochs", "batch_size", "seed", "validation_split"]))
        path, value = ("training", key), draw(st.sampled_from([Plain("1e3"), "10", True, [1]]))
    elif rule == "training_range":
        key, bad = draw(st.sampled_from([
            ("epochs", 0), ("batch_size", 0), ("batch_size", 65537), ("seed", -1),
            ("seed", 2**32), ("validation_split", 1.0), ("validation_split", -0.1),
            ("epochs", 100001),
        ]))
        path, value = ("training", key), bad
    elif rule == "yaml11_bool":
        # `sparse: yes` is the string "yes" in YAML 1.2, not a bool.
        model["loss"] = {"name": "softmax_cross_entropy"}
        path, value = ("loss", "sparse"), Plain(draw(st.sampled_from(["yes", "no", "on", "off"])))
    elif rule == "device":
        path, value = ("device",), draw(st.sampled_from(["cpu", "TPU", "", Plain("null")]))
    elif rule == "input_size":
        size = model["input_size"]
        path, value = ("input_size",), [size[0] + 1, size[1]]
    elif rule == "class_count":
        # Model/dataset mismatch: the network's class count differs from the dataset's.
        info = catalog.network_info(model["network"]["name"])
        count = dataset["class_num"]
        if info.get("class_num_arg") and isinstance(count, int):
            path, value = ("network", info["class_num_arg"]), count + 1
        else:
            rule, path, value = "device", ("device",), "TPU"
    elif rule == "missing_key":
        key = draw(st.sampled_from(["loss", "optimizer", "metrics", "training", "summary"]))
        del model[key]
        path, value = (key,), None
    elif rule == "dataset_class_names":
        target = "dataset"
        if isinstance(dataset["class_num"], int):
            dataset["class_names"] = dataset["class_names"][:-1]
            path, value = ("class_names",), None
        else:
            path, value = ("class_num",), 0
    elif rule == "dataset_loader":
        target = "dataset"
        path, value = ("loader",), "no_such_loader"
    else:  # identifier
        path, value = ("metrics", 0), draw(st.sampled_from(["Accuracy", "1st", "a-b", ""]))

    if value is not None or rule not in ("missing_key", "dataset_class_names"):
        _set(dataset if target == "dataset" else model, path, value)
    broken = Case(
        model=model,
        dataset=dataset,
        model_yaml=write_yaml(model),
        dataset_yaml=write_yaml(dataset),
        expected={},
        device=case.device,
    )
    return InvalidCase(broken, rule, _dotted(path), target)


def shipped_case(model: str, dataset: str, device: str | None = None) -> Case:
    """Return a shipped model x dataset pair as a case, with its expected config."""
    model_spec = _SHIPPED.get("model", model)
    dataset_spec = _SHIPPED.get("dataset", dataset)
    case = Case(
        model=copy.deepcopy(model_spec.data),
        dataset=copy.deepcopy(dataset_spec.data),
        model_yaml=model_spec.text,
        dataset_yaml=dataset_spec.text,
        expected={},
        device=device,
    )
    case.expected = expected_config(case, dataset_spec.data["image_shape"][2])
    return case
