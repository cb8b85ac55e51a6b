"""The objects a generated script builds from its config are the ones the spec names.

Each generated script's ``build(config)`` is called in-process on the project's
own config.yaml. The network, loss, optimizer (class, per-step learning rates
and hyperparameters), metrics, callbacks and transform are compared with the
values of the spec and the catalog defaults, so a template that ignores a spec
value fails here.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import itertools
import tempfile
from pathlib import Path
from typing import Any

import mindspore as ms
import numpy as np
import pytest
from hypothesis import given, settings
from mindspore import nn
from strategies import Case, examples, shipped_case, valid_cases
from test_conformance_render import CI_PAIRS, PAIRS, render_case

from tinyms import callbacks, catalog, metrics, optimizers
from tinyms.generator import runtime
from tinyms.generator.cli import generate
from tinyms.model import get_network

OPTIMIZER_CLASSES = {
    "sgd": nn.SGD,
    "momentum": nn.Momentum,
    "adam": nn.Adam,
    "adamw": nn.AdamWeightDecay,
    "rmsprop": nn.RMSProp,
}
# Catalog optimizer argument -> attribute of the MindSpore optimizer that stores it.
OPTIMIZER_ATTRIBUTES = {
    "momentum": "momentum",
    "weight_decay": "weight_decay",
    "beta1": "beta1",
    "beta2": "beta2",
    "eps": "eps",
    "decay": "decay",
    "epsilon": "epsilon",
    "nesterov": "use_nesterov",
}
_module_ids = itertools.count()


def load_script(project: Path, name: str) -> Any:
    """Import a generated script as a module, without running its main()."""
    spec = importlib.util.spec_from_file_location(
        f"generated_{next(_module_ids)}_{Path(name).stem}", project / name
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_number(value: Any) -> float:
    array = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
    return float(np.asarray(array).reshape(-1)[0])


# -- reference behaviour --------------------------------------------------------------


def reference_loss(name: str, args: dict[str, Any], logits: np.ndarray,
                   labels: np.ndarray) -> np.ndarray:
    """Return the loss that a numpy softmax cross-entropy gives with the spec's arguments."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    classes = logits.shape[1]
    target = np.eye(classes)[labels]
    if name == "cross_entropy":
        smoothing = args["label_smoothing"]
        target = target * (1 - smoothing) + smoothing / classes
    per_sample = -(target * log_probs).sum(axis=1)
    reduction = args["reduction"]
    if reduction == "mean":
        return np.asarray(per_sample.mean())
    if reduction == "sum":
        return np.asarray(per_sample.sum())
    return per_sample


def check_loss(loss: Any, expected: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    labels = np.array([0, 3, 1, 4])
    args = {key: value for key, value in expected.items() if key != "name"}
    if expected["name"] == "softmax_cross_entropy" and not args["sparse"]:
        target = ms.Tensor(np.eye(5, dtype=np.float32)[labels])
    else:
        target = ms.Tensor(labels.astype(np.int32))
    value = loss(ms.Tensor(logits), target).asnumpy()
    np.testing.assert_allclose(
        value, reference_loss(expected["name"], args, logits, labels), rtol=1e-4, atol=1e-5
    )


@dataclasses.dataclass(frozen=True)
class NetworkSignature:
    """The class and trainable parameter shapes of a network."""

    cls: type
    shapes: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, network: Any) -> NetworkSignature:
        shapes = tuple(sorted((p.name, tuple(p.shape)) for p in network.trainable_params()))
        return cls(type(network), shapes)


@functools.cache
def _reference_signature(name: str, args: tuple[tuple[str, Any], ...]) -> NetworkSignature:
    return NetworkSignature.of(get_network(name, **dict(args)))


def reference_network(expected: dict[str, Any]) -> NetworkSignature:
    """Return the signature of the network built straight from the expected catalog entry.

    Pairs that share a network and its arguments share one build.
    """
    args = tuple(sorted((key, value) for key, value in expected.items() if key != "name"))
    return _reference_signature(expected["name"], args)


def check_network(network: Any, expected: dict[str, Any], reference: NetworkSignature,
                  input_size: list[int] | None = None) -> None:
    """Compare a built network with the reference; run it when ``input_size`` is given."""
    built = NetworkSignature.of(network)
    assert built.cls is reference.cls
    assert dict(built.shapes) == dict(reference.shapes)
    if input_size is None:
        return
    info = catalog.network_info(expected["name"])
    channels = expected.get(info.get("channels_arg"), info.get("default_channels", 3))
    class_num = expected[info["class_num_arg"]]
    network.set_train(False)
    height, width = input_size
    logits = network(ms.Tensor(np.zeros((2, channels, height, width), np.float32)))
    assert tuple(logits.shape) == (2, class_num)


def check_optimizer(built: dict[str, Any], expected: dict[str, Any], steps: int) -> None:
    optimizer = built["optimizer"]
    spec = expected["optimizer"]
    assert type(optimizer) is OPTIMIZER_CLASSES[spec["name"]]

    schedule = dict(expected["lr_schedule"])
    schedule_name = schedule.pop("name")
    rates = optimizers.get_lr_schedule(
        schedule_name, spec["lr"], steps, expected["training"]["epochs"], **schedule
    )
    assert len(built["lr"]) == steps * expected["training"]["epochs"]
    np.testing.assert_allclose(built["lr"], rates, rtol=1e-6)
    stored = optimizer.learning_rate.learning_rate.asnumpy()
    np.testing.assert_allclose(stored, np.asarray(rates, np.float32), rtol=1e-6)

    for arg, value in spec.items():
        if arg in ("name", "lr"):
            continue
        attribute = getattr(optimizer, OPTIMIZER_ATTRIBUTES[arg])
        if isinstance(value, bool):
            assert attribute is value, f"optimizer.{arg}"
        else:
            assert as_number(attribute) == pytest.approx(value, rel=1e-6, abs=1e-12), (
                f"optimizer.{arg}"
            )


def simple_attributes(obj: Any) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in vars(obj).items()
        if isinstance(value, (int, float, str, bool, type(None), Path))
    }


def check_callbacks(built: list[Any], expected: dict[str, Any], run_dir: Path) -> None:
    assert isinstance(built[-1], callbacks.CSVLogger)
    assert len(built) == len(expected) + 1
    for (name, args), callback in zip(expected.items(), built):
        args = dict(args)
        if "directory" in args:
            args["directory"] = str(run_dir / args["directory"])
        first = callbacks.get_callback(name, **args)
        second = callbacks.get_callback(name, **args)
        assert type(callback) is type(first), name
        # Attributes that differ between two identical builds (clocks) are not compared.
        stable = {
            key: value
            for key, value in simple_attributes(first).items()
            if simple_attributes(second).get(key) == value
        }
        actual = simple_attributes(callback)
        assert {key: actual.get(key) for key in stable} == stable, name


def check_metrics(built: dict[str, Any], expected: list[str]) -> None:
    assert list(built) == expected
    for name, metric in built.items():
        assert type(metric) is type(metrics.get_metric(name)), name


def check_transform(transform: Any, expected: dict[str, Any]) -> None:
    size = expected["transform"]["image_size"]
    channels = expected["transform"]["channels"]
    image = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    output = transform(image)
    assert output.shape == (channels, size, size)
    assert output.dtype == np.float32
    names = expected["dataset"]["class_names"]
    if names is not None:
        assert list(transform.class_names) == names


# -- the checks on one project ---------------------------------------------------------


def resolve_auto_classes(config: dict[str, Any], expected: dict[str, Any],
                         folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Count the classes of an image folder as train.py does, in both configs."""
    if config["dataset"]["class_num"] != "auto":
        return config, expected
    for name in ("ant", "bee", "cat"):
        (folder / "train" / name).mkdir(parents=True, exist_ok=True)
    config = runtime.resolve_classes(config, folder)
    expected = runtime.resolve_classes(expected, folder)
    return config, expected


def check_project_builds(project: Path, case: Case, steps: int = 3,
                         every_script: bool = True) -> None:
    """Build the objects of train.py and, with ``every_script``, of the other scripts."""
    config = runtime.load_config(project / "config.yaml")
    config, expected = resolve_auto_classes(config, dict(case.expected), project / "fake-data")
    input_size = [expected["transform"]["image_size"]] * 2

    reference = reference_network(expected["network"])
    train = load_script(project, "train.py")
    built = train.build(config, steps_per_epoch=steps)
    check_network(built["network"], expected["network"], reference, input_size)
    check_loss(built["loss"], expected["loss"])
    check_optimizer(built, expected, steps)
    check_metrics(built["metrics"], expected["metrics"])
    run_dir = project / "runs" / "run-001"
    check_callbacks(train.build_callbacks(config, run_dir), expected["callbacks"], run_dir)
    if not every_script:
        return

    evaluate = load_script(project, "eval.py").build(config)
    check_network(evaluate["network"], expected["network"], reference)
    check_loss(evaluate["loss"], expected["loss"])
    check_metrics(evaluate["metrics"], expected["metrics"])

    predict = load_script(project, "predict.py").build(config)
    check_network(predict["network"], expected["network"], reference)
    check_transform(predict["transform"], expected)

    export = load_script(project, "export.py").build(config)
    check_network(export["network"], expected["network"], reference)


@settings(max_examples=examples(6))
@given(case=valid_cases(networks=["lenet5"], max_epochs=4))
def test_built_objects_are_the_specs(case):
    with tempfile.TemporaryDirectory() as scratch:
        project = render_case(case, Path(scratch))
        check_project_builds(project, case)


# Every script's build() is template code shared by all pairs, and only the config values
# differ. So train.py is built for every pair, and eval.py, predict.py and export.py
# for one pair per network (building a ResNet-101 takes seconds).
@pytest.mark.parametrize("model,dataset", PAIRS, ids=[f"{m}-{d}" for m, d in PAIRS])
def test_shipped_pair_builds_spec_objects(tmp_path, model, dataset):
    case = shipped_case(model, dataset, device="CPU")
    project = tmp_path / "project"
    generate(model, dataset, project, device="CPU")

    check_project_builds(project, case, steps=2, every_script=(model, dataset) in CI_PAIRS)
