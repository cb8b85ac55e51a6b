"""The catalog of names against the library's registries, and argument validation."""

import inspect
import subprocess
import sys

import pytest

from tinyms import catalog
from tinyms.errors import InvalidArgumentError, UnknownNameError


def registries():
    from tinyms.callbacks import CALLBACKS
    from tinyms.data import DATASETS
    from tinyms.losses import LOSSES
    from tinyms.metrics import METRICS
    from tinyms.model.registry import NETWORKS
    from tinyms.optimizers import OPTIMIZERS, SCHEDULES
    from tinyms.vision import TRANSFORMS

    return {
        "network": NETWORKS, "loss": LOSSES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES,
        "metric": METRICS, "callback": CALLBACKS, "dataset": DATASETS, "transform": TRANSFORMS,
    }


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_registry_names_match_catalog(kind):
    registry = registries()[kind]
    builtin = [name for name in catalog.names(kind) if not catalog.entry(kind, name).get("user")]
    assert sorted(registry.names()) == builtin


@pytest.mark.parametrize("kind", catalog.KINDS)
def test_builder_keywords_match_catalog_args(kind):
    registry = registries()[kind]
    for name in registry.names():
        assert sorted(registry.keyword_args(name)) == sorted(catalog.entry(kind, name)["args"]), (
            f"{kind} {name}: builder keyword-only parameters differ from the catalog args"
        )


def test_catalog_import_loads_no_mindspore():
    code = "import tinyms.catalog, sys; print('mindspore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_tinyms_is_cheap():
    code = (
        "import sys, tinyms; "
        "print(sorted(m for m in ('mindspore', 'flask', 'mindspore.dataset', "
        "'tinyms.model.networks') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as info:
        catalog.entry("optimizer", "momentun")
    message = str(info.value)
    assert "'momentun'" in message
    assert "momentum" in message and "adam" in message


def test_check_args_reports_every_problem():
    _, problems = catalog.check_args(
        "optimizer", "momentum", {"lr": -1.0, "momentum": "high", "nesterof": True}, "optimizer"
    )
    assert len(problems) == 3
    assert any(p.startswith("optimizer.lr:") and "-1.0" in p for p in problems)
    assert any(p.startswith("optimizer.momentum:") and "'high'" in p for p in problems)
    assert any("nesterof" in p and "nesterov" in p for p in problems)


def test_check_args_fills_defaults_and_converts_int_to_float():
    resolved, problems = catalog.check_args("optimizer", "adam", {"lr": 1})
    assert problems == []
    assert resolved["lr"] == 1.0 and isinstance(resolved["lr"], float)
    assert resolved["beta2"] == 0.999


def test_bool_is_not_a_number():
    _, problems = catalog.check_args("optimizer", "sgd", {"lr": True})
    assert problems and "expected a number" in problems[0]


def test_resolve_args_raises_invalid_argument():
    with pytest.raises(InvalidArgumentError) as info:
        catalog.resolve_args("schedule", "cosine", {"min_lr": -0.5})
    assert "min_lr" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_add_entry_rejects_bad_and_duplicate_names():
    with pytest.raises(InvalidArgumentError):
        catalog.add_entry("network", "My-Net", {"args": {}})
    with pytest.raises(InvalidArgumentError, match="already registered"):
        catalog.add_entry("network", "lenet5", {"args": {}})


def test_every_entry_default_passes_its_schema():
    for kind in catalog.KINDS:
        for name in catalog.names(kind):
            args = catalog.entry(kind, name)["args"]
            for key, schema in args.items():
                if "default" in schema:
                    _, problem = catalog.check_value(schema, schema["default"], f"{name}.{key}")
                    assert problem is None, problem


def test_registry_builders_have_signatures():
    from tinyms.optimizers import OPTIMIZERS

    signature = inspect.signature(OPTIMIZERS.get("momentum"))
    assert "lr" in signature.parameters
