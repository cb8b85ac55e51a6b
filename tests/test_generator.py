"""tinyms-new: command line, rendering, escaping, determinism and --force."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyms.generator.cli import main
from tinyms.generator.render import (
    MANIFEST_NAME,
    TEMPLATE_DIR,
    check_identifier,
    py_literal,
    render_project,
)
from tinyms.generator.resolve import resolve_config
from tinyms.generator.runtime import load_config
from tinyms.generator.spec import SPEC_DIR, SpecSet

SCRIPTS = tuple(
    sorted(path.name for path in (TEMPLATE_DIR / "{{cookiecutter.project_slug}}").glob("*.py"))
)
RUFF = Path(sys.executable).with_name("ruff")


def generate(tmp_path: Path, *args: str, name: str = "project") -> tuple[int, Path]:
    target = tmp_path / name
    status = main(["--model", "lenet5", "--dataset", "mnist", "--output-dir", str(target), *args])
    return status, target


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- command line -----------------------------------------------------------------


def test_list_models(capsys):
    assert main(["--list-models"]) == 0
    output = capsys.readouterr().out
    assert "lenet5" in output
    assert "resnet50" in output
    assert "cifar10" in output  # the datasets resnet50 fits


def test_list_datasets(capsys):
    assert main(["--list-datasets"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == sorted(path.stem for path in (SPEC_DIR / "datasets").glob("*.yaml"))


def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    output = capsys.readouterr().out
    for option in (
        "--model",
        "--dataset",
        "--output-dir",
        "--device",
        "--set",
        "--spec",
        "--force",
        "--list-models",
        "--list-datasets",
    ):
        assert option in output


def test_missing_model_is_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--dataset", "mnist"])
    assert info.value.code == 2
    assert "--model" in capsys.readouterr().err


def test_generates_standard_files(tmp_path):
    status, target = generate(tmp_path)
    assert status == 0
    for name in ("README.md", "config.yaml", *SCRIPTS, MANIFEST_NAME):
        assert (target / name).is_file(), name


def test_set_overrides_config(tmp_path):
    status, target = generate(
        tmp_path, "--set", "optimizer.lr=1e-3", "--set", "training.epochs=3", "--device", "GPU"
    )
    assert status == 0
    config = load_config(target / "config.yaml")
    assert config["optimizer"]["lr"] == 0.001
    assert config["training"]["epochs"] == 3
    assert config["device"] == "GPU"


def test_invalid_set_writes_nothing(tmp_path, capsys):
    status, target = generate(tmp_path, "--set", "optimizer.lr=-1", "--set", "trainin.epochs=2")
    assert status == 1
    assert not target.exists()
    error = capsys.readouterr().err
    assert "optimizer.lr" in error
    assert "trainin" in error


def test_unknown_model_lists_valid_names(tmp_path, capsys):
    status = main(["--model", "lenet", "--dataset", "mnist", "--output-dir", str(tmp_path / "x")])
    assert status == 1
    assert "lenet5" in capsys.readouterr().err


def test_user_spec_file(tmp_path):
    text = (SPEC_DIR / "models" / "lenet5.yaml").read_text(encoding="utf-8")
    text = text.replace("name: lenet5\n", "name: my_lenet\n", 1)
    text = text.replace("lr: 0.002", "lr: 0.005")
    spec = tmp_path / "anything.yaml"
    spec.write_text(text, encoding="utf-8")
    target = tmp_path / "mine"
    assert (
        main(
            [
                "--model",
                "my_lenet",
                "--dataset",
                "mnist",
                "--spec",
                str(spec),
                "--output-dir",
                str(target),
            ]
        )
        == 0
    )
    config = load_config(target / "config.yaml")
    assert config["project"]["model"] == "my_lenet"
    assert config["network"]["name"] == "lenet5"
    assert config["optimizer"]["lr"] == 0.005


def test_existing_output_dir_is_error(tmp_path, capsys):
    target = tmp_path / "project"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    status, _ = generate(tmp_path)
    assert status == 1
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_force_keeps_user_edits(tmp_path, capsys):
    status, target = generate(tmp_path)
    assert status == 0
    edited = (target / "train.py").read_text() + "\n# my change\n"
    (target / "train.py").write_text(edited)
    (target / "notes.txt").write_text("unrelated")
    old_config = (target / "config.yaml").read_text()

    status, _ = generate(tmp_path, "--force", "--set", "training.epochs=2")
    assert status == 0
    assert (target / "train.py").read_text() == edited
    assert (target / "train.py.new").is_file()
    assert "# my change" not in (target / "train.py.new").read_text()
    assert (target / "notes.txt").read_text() == "unrelated"
    new_config = (target / "config.yaml").read_text()
    assert new_config != old_config
    assert load_config(target / "config.yaml")["training"]["epochs"] == 2
    assert "train.py.new" in capsys.readouterr().out


def test_force_keeps_edits_across_two_updates(tmp_path):
    generate(tmp_path)
    target = tmp_path / "project"
    (target / "eval.py").write_text("# replaced by the user\n")
    generate(tmp_path, "--force")
    generate(tmp_path, "--force")
    assert (target / "eval.py").read_text() == "# replaced by the user\n"


def test_rendering_is_deterministic(tmp_path):
    _, first = generate(tmp_path, name="one")
    _, second = generate(tmp_path, name="two")
    assert tree(first) == tree(second)


def test_manifest_records_hashes(tmp_path):
    _, target = generate(tmp_path)
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert manifest["tinyms_version"]
    assert len(manifest["model_spec"]["sha256"]) == 64
    assert len(manifest["dataset_spec"]["sha256"]) == 64
    assert sorted(manifest["files"]) == sorted(["README.md", "config.yaml", "ruff.toml", *SCRIPTS])


def test_config_round_trips(tmp_path):
    _, target = generate(tmp_path)
    assert load_config(target / "config.yaml") == resolve_config(SpecSet(), "lenet5", "mnist")


@pytest.mark.parametrize("model,dataset", SpecSet().pairs())
def test_generated_scripts_parse_and_lint(tmp_path, model, dataset):
    target = tmp_path / "p"
    assert main(["--model", model, "--dataset", dataset, "--output-dir", str(target)]) == 0
    for name in SCRIPTS:
        tree_ = ast.parse((target / name).read_text(encoding="utf-8"))
        functions = {node.name for node in tree_.body if isinstance(node, ast.FunctionDef)}
        # serve.py hands the config to tinyms.serving, which builds the network itself.
        required = {"main", "parse_args"} if name == "serve.py" else {"main", "build", "parse_args"}
        assert required <= functions, name
    check = subprocess.run(
        [str(RUFF), "check", "--no-cache", str(target)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    form = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", str(target)], capture_output=True, text=True
    )
    assert form.returncode == 0, form.stdout + form.stderr


def test_special_characters_survive(tmp_path):
    text = (SPEC_DIR / "models" / "lenet5.yaml").read_text(encoding="utf-8")
    summary = "Quotes ' and \", a backslash \\, a tab\t and ünïcødé 数字\nsecond line"
    text = text.replace(
        "summary: LeNet-5 digit classifier, trained with Adam and a cosine learning-rate schedule",
        "summary: " + json.dumps(summary),
    )
    text = text.replace("name: lenet5\n", "name: odd\n", 1)
    spec = tmp_path / "odd.yaml"
    spec.write_text(text, encoding="utf-8")
    target = tmp_path / "odd"
    assert (
        main(
            [
                "--model",
                "odd",
                "--dataset",
                "mnist",
                "--spec",
                str(spec),
                "--output-dir",
                str(target),
            ]
        )
        == 0
    )
    assert load_config(target / "config.yaml")["project"]["summary"] == summary
    assert summary in (target / "README.md").read_text(encoding="utf-8")


def test_tinyms_new_imports_no_mindspore(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from tinyms.generator.cli import main
        assert main(['--model', 'resnet50', '--dataset', 'cifar10',
                     '--output-dir', {str(tmp_path / "p")!r}]) == 0
        print('mindspore' in sys.modules)
    """)
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip().splitlines()[-1] == "False"


def test_console_script_runs(tmp_path):
    script = Path(sys.executable).with_name("tinyms-new")
    if not script.exists():
        pytest.skip("tinyms-new is not installed in this environment")
    result = subprocess.run(
        [
            str(script),
            "--model",
            "lenet5",
            "--dataset",
            "mnist_sample",
            "--output-dir",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p" / "train.py").is_file()


# -- escaping -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5), children, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_py_literal_round_trips(value):
    assert ast.literal_eval(py_literal(value)) == value


def test_py_literal_uses_formatter_quotes():
    assert py_literal("plain") == '"plain"'
    assert py_literal('say "hi"') == "'say \"hi\"'"
    assert py_literal("a\nb") == '"a\\nb"'


def test_identifier_filter_rejects_code():
    assert check_identifier("lenet5") == "lenet5"
    for bad in ("LeNet", "a-b", "x; import os", "", "1net"):
        with pytest.raises(ValueError):
            check_identifier(bad)


def test_template_rejects_bad_identifier(tmp_path):
    context = {
        "project_slug": "p",
        "model": "bad name",
        "dataset": "mnist",
        "_summary": "",
        "_config_yaml": "",
        "_tinyms_version": "0",
    }
    with pytest.raises(Exception, match="not a valid name"):
        render_project(context, {}, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_template_missing_variable_named(tmp_path):
    context = {"project_slug": "p", "model": "lenet5", "dataset": "mnist"}
    with pytest.raises(KeyError, match="_summary"):
        render_project(context, {}, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_wheel_layout_finds_templates():
    from tinyms.generator import render, spec

    assert (render.TEMPLATE_DIR / "cookiecutter.json").is_file()
    assert (spec.SPEC_DIR / "models").is_dir()
    assert render.TEMPLATE_DIR.parent == spec.SPEC_DIR.parent


def test_copy_of_project_still_valid(tmp_path):
    _, target = generate(tmp_path)
    moved = tmp_path / "moved"
    shutil.copytree(target, moved)
    assert load_config(moved / "config.yaml")["network"]["name"] == "lenet5"
