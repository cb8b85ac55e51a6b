"""Spec loading and validation: shipped specs, YAML 1.1 traps, every kind of error."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinyms.errors import SpecError
from tinyms.generator import schema
from tinyms.generator.resolve import resolve_config, validate_config
from tinyms.generator.spec import SPEC_DIR, SpecSet, load_spec, load_spec_text, validate_all
from tinyms.generator.yamlio import dump_yaml, load_yaml, load_yaml_text

MODEL_FILES = sorted((SPEC_DIR / "models").glob("*.yaml"))
DATASET_FILES = sorted((SPEC_DIR / "datasets").glob("*.yaml"))

LENET = (SPEC_DIR / "models" / "lenet5.yaml").read_text(encoding="utf-8")


def problems_of(text: str, source: str = "user.yaml") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source)
    return info.value.problems


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# -- shipped specs ------------------------------------------------------------------


def test_shipped_specs_all_valid():
    pairs = validate_all()
    assert ("lenet5", "mnist") in pairs
    assert ("lenet5", "mnist_sample") in pairs
    for dataset in ("cifar10", "cifar100", "image_folder"):
        assert ("resnet50", dataset) in pairs


@pytest.mark.parametrize("path", MODEL_FILES + DATASET_FILES, ids=lambda p: p.name)
def test_shipped_spec_matches_json_schema(path):
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    resources = []
    for schema_file in (SPEC_DIR / "schema").glob("*.json"):
        contents = json.loads(schema_file.read_text(encoding="utf-8"))
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
    registry = referencing.Registry().with_resources(resources)
    kind = "model" if path.parent.name == "models" else "dataset"
    data = load_spec(path).data
    jsonschema.Draft202012Validator(schema.load_schema(kind), registry=registry).validate(data)


def test_validation_imports_no_mindspore():
    code = textwrap.dedent("""
        import sys
        from tinyms.generator.spec import validate_all
        validate_all()
        print('mindspore' in sys.modules)
    """)
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


def test_lenet_mnist_resolves_dataset_values():
    config = resolve_config(SpecSet(), "lenet5", "mnist")
    assert config["network"] == {"name": "lenet5", "class_num": 10, "num_channel": 1}
    assert config["transform"]["image_size"] == 32
    assert config["transform"]["channels"] == 1
    assert config["optimizer"]["name"] == "adam"
    assert config["lr_schedule"]["name"] == "cosine"
    assert config["dataset"]["class_names"] == [str(digit) for digit in range(10)]


def test_per_dataset_override_applies():
    specs = SpecSet()
    assert resolve_config(specs, "lenet5", "mnist_sample")["training"]["epochs"] == 5
    folder = resolve_config(specs, "resnet50", "image_folder")
    assert folder["optimizer"]["lr"] == 0.01
    assert folder["optimizer"]["momentum"] == 0.9  # kept from the recipe
    assert "early_stopping" in folder["callbacks"]
    assert folder["network"]["class_num"] == "auto"


# -- YAML 1.1 traps ---------------------------------------------------------------


def test_yaml_scientific_float_is_float():
    assert load_yaml_text("lr: 1e-3").data == {"lr": 0.001}
    assert load_yaml_text("lr: 1.0E+2").data == {"lr": 100.0}


def test_yaml_yes_no_on_off_stay_strings():
    data = load_yaml_text("a: yes\nb: no\nc: on\nd: off\ne: true\nf: False").data
    assert data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False}


def test_yaml_leading_zero_is_decimal():
    assert load_yaml_text("epochs: 010").data == {"epochs": 10}


def test_yaml_date_stays_string():
    assert load_yaml_text("version: 2024-01-01").data == {"version": "2024-01-01"}


def test_string_field_keeps_source_text():
    # A summary written as a bare number stays the text the file shows.
    text = edited(
        LENET,
        "summary: LeNet-5 digit classifier, trained with Adam and a cosine learning-rate schedule",
        "summary: 1.10",
    )
    assert load_spec_text(text, "user.yaml").data["summary"] == "1.10"


def test_bool_spelled_yes_is_error_with_hint():
    text = edited(LENET, "sparse: true", "sparse: yes")
    problems = problems_of(text)
    assert any("loss.sparse" in p and "'yes'" in p for p in problems), problems


def test_duplicate_key_is_error():
    problems = problems_of(LENET + "device: GPU\n")
    assert any("duplicate key" in p and "device" in p for p in problems), problems


def test_dump_round_trips_tricky_strings():
    data = {"s": ["yes", "1e-3", "010", "null", "", "a\nb", 'it\'s "q" \\ é', "2024-01-01"]}
    assert load_yaml_text(dump_yaml(data)).data == data


# -- every kind of error ----------------------------------------------------------


def test_unknown_key_is_error():
    problems = problems_of(edited(LENET, "device: CPU", "device: CPU\ndevise: GPU"))
    assert any("devise" in p and "unknown key" in p for p in problems), problems


def test_wrong_type_names_path_and_value():
    problems = problems_of(edited(LENET, "epochs: 10", "epochs: ten"))
    assert any(
        p.startswith("user.yaml:") and "training.epochs" in p and "'ten'" in p and "an integer" in p
        for p in problems
    ), problems


def test_out_of_range_value():
    problems = problems_of(edited(LENET, "validation_split: 0.1", "validation_split: 1.5"))
    assert any("training.validation_split" in p and "< 1" in p for p in problems), problems


def test_unknown_catalog_name():
    problems = problems_of(edited(LENET, "name: adam", "name: adamm"))
    assert any("optimizer.name" in p and "'adamm'" in p and "momentum" in p for p in problems), (
        problems
    )


def test_unknown_argument_suggests_name():
    problems = problems_of(edited(LENET, "weight_decay: 0.0", "weight_decai: 0.0"))
    assert any("optimizer.weight_decai" in p and "'weight_decay'" in p for p in problems), problems


def test_argument_out_of_range():
    problems = problems_of(edited(LENET, "lr: 0.002", "lr: -1"))
    assert any("optimizer.lr" in p and "-1" in p for p in problems), problems


def test_unknown_metric_and_callback():
    text = edited(LENET, "metrics: [accuracy, loss]", "metrics: [accuracy, acuracy]")
    text = edited(text, "progress_bar: {}", "progress: {}")
    problems = problems_of(text)
    assert any("metrics[1]" in p and "acuracy" in p for p in problems), problems
    assert any("callbacks.progress" in p for p in problems), problems


def test_missing_required_key():
    problems = problems_of(edited(LENET, "device: CPU\n", ""))
    assert any("device" in p and "missing required key" in p for p in problems), problems


def test_every_problem_reported_at_once():
    text = edited(LENET, "epochs: 10", "epochs: 0")
    text = edited(text, "name: adam", "name: nadam")
    text = edited(text, "device: CPU", "device: TPU")
    problems = problems_of(text)
    assert len(problems) >= 3, problems
    joined = "\n".join(problems)
    assert "training.epochs" in joined
    assert "optimizer.name" in joined
    assert "device" in joined


def test_input_size_must_match_network():
    problems = problems_of(edited(LENET, "input_size: [32, 32]", "input_size: [28, 28]"))
    assert any("input_size" in p and "[32, 32]" in p for p in problems), problems


def test_problem_has_file_and_line():
    problems = problems_of(edited(LENET, "batch_size: 32", "batch_size: -4"))
    line = next(p for p in problems if "batch_size" in p)
    number = LENET.splitlines().index("  batch_size: 32") + 1
    assert line.startswith(f"user.yaml:{number}: training.batch_size:"), line


def test_invalid_yaml_reports_line():
    problems = problems_of("kind: model\nname: [x\n")
    assert problems[0].startswith("user.yaml:") and "invalid YAML" in problems[0]


def test_dataset_class_names_count_checked():
    text = (SPEC_DIR / "datasets" / "mnist.yaml").read_text(encoding="utf-8")
    problems = problems_of(edited(text, '"8", "9"]', '"8"]'))
    assert any("class_names" in p and "9 names" in p for p in problems), problems


def test_shipped_spec_name_must_match_file(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "datasets").mkdir()
    (tmp_path / "models" / "other.yaml").write_text(LENET, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        SpecSet(tmp_path)
    assert "'other'" in str(info.value)


# -- model and dataset fit --------------------------------------------------------


def test_dataset_not_listed_by_model():
    with pytest.raises(SpecError) as info:
        resolve_config(SpecSet(), "lenet5", "cifar10")
    assert "does not list the dataset 'cifar10'" in str(info.value)


def test_class_count_mismatch():
    with pytest.raises(SpecError) as info:
        resolve_config(SpecSet(), "lenet5", "mnist", ["network.class_num=5"])
    message = str(info.value)
    assert "--set network.class_num=5" in message
    assert "expected 10" in message


def test_channel_mismatch():
    with pytest.raises(SpecError) as info:
        resolve_config(
            SpecSet(), "lenet5", "mnist", ["network.num_channel=3", "transform.channels=1"]
        )
    assert "transform.channels" in str(info.value)


def test_input_size_mismatch():
    with pytest.raises(SpecError) as info:
        resolve_config(SpecSet(), "resnet50", "cifar10", ["transform.image_size=32"])
    assert "224" in str(info.value)


def test_config_file_validated_with_lines(tmp_path):
    config = resolve_config(SpecSet(), "lenet5", "mnist")
    config["optimizer"]["lr"] = "fast"
    path = tmp_path / "config.yaml"
    path.write_text(dump_yaml(config), encoding="utf-8")
    document = load_yaml(path)
    with pytest.raises(SpecError) as info:
        validate_config(document.data, document.where, document.raw)
    assert f"{path}:" in str(info.value)
    assert "optimizer.lr" in str(info.value)


def test_spec_readme_exists():
    assert (Path(SPEC_DIR) / "README.md").is_file()
