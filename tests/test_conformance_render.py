"""Properties of rendering: any valid spec renders a lint-clean project whose config and
built objects are the spec's, rendering is deterministic, and an invalid spec writes nothing.

Specs come from ``tests/strategies.py``. Rendering runs in-process; ruff runs as
``python -m ruff`` once per rendered project.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from strategies import (
    Case,
    examples,
    invalid_cases,
    shipped_case,
    typed,
    valid_cases,
)

from tinyms.errors import SpecError
from tinyms.generator.cli import generate
from tinyms.generator.render import TEMPLATE_DIR
from tinyms.generator.runtime import load_config, standard_flags
from tinyms.generator.spec import SpecSet

SCRIPTS = sorted(
    path.name for path in (TEMPLATE_DIR / "{{cookiecutter.project_slug}}").glob("*.py")
)
PAIRS = SpecSet().pairs()
# Relative cost of writing and reading each shipped dataset's test data.
DATASET_COST = {"mnist": 0, "mnist_sample": 1, "image_folder": 2, "cifar10": 3, "cifar100": 4}


def _cheapest_pair_per_network() -> list[tuple[str, str]]:
    specs = SpecSet()
    cheapest: dict[str, tuple[str, str]] = {}
    for model, dataset in PAIRS:
        network = specs.get("model", model).data["network"]["name"]
        best = cheapest.get(network)
        cost = DATASET_COST.get(dataset, len(DATASET_COST))
        if best is None or cost < DATASET_COST.get(best[1], len(DATASET_COST)):
            cheapest[network] = (model, dataset)
    return sorted(cheapest.values())


#: One pair per network, on its cheapest dataset: the pairs whose generated scripts the
#: CI tier runs (and, in-process, builds with every script rather than train.py only).
CI_PAIRS = _cheapest_pair_per_network()


def render_case(case: Case, folder: Path, name: str = "project") -> Path:
    """Write the case's spec files into ``folder`` and render the project beside them."""
    specs = folder / "specs"
    specs.mkdir(exist_ok=True)
    model_file = specs / f"{case.model_name}.yaml"
    dataset_file = specs / f"{case.dataset_name}.yaml"
    model_file.write_text(case.model_yaml, encoding="utf-8")
    dataset_file.write_text(case.dataset_yaml, encoding="utf-8")
    target = folder / name
    generate(
        case.model_name,
        case.dataset_name,
        target,
        device=case.device,
        spec_files=[model_file, dataset_file],
    )
    return target


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def ruff_problems(folder: Path) -> str:
    """Return ruff's report on ``folder`` with the project's own ruff.toml ('' when clean)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--quiet", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def check_scripts(project: Path) -> None:
    """Assert every template script is in the project, parses and defines main()."""
    written = sorted(path.name for path in project.glob("*.py"))
    assert written == SCRIPTS
    for name in SCRIPTS:
        module = ast.parse((project / name).read_text(encoding="utf-8"), filename=name)
        functions = {
            node.name for node in module.body if isinstance(node, ast.FunctionDef)
        }
        assert "main" in functions, f"{name} has no top-level main()"
    problems = ruff_problems(project)
    assert not problems, problems


def check_config(project: Path, case: Case) -> None:
    """Assert config.yaml reads back to the expected config, in YAML 1.2 and in PyYAML."""
    path = project / "config.yaml"
    assert typed(load_config(path)) == typed(case.expected)
    # PyYAML (YAML 1.1) users of the file must read the same values.
    assert typed(yaml.safe_load(path.read_text(encoding="utf-8"))) == typed(case.expected)


# -- properties over generated specs ---------------------------------------------------


@settings(max_examples=examples(25))
@given(case=valid_cases())
def test_valid_spec_renders_clean_project(case):
    with tempfile.TemporaryDirectory() as scratch:
        project = render_case(case, Path(scratch))

        check_scripts(project)
        check_config(project, case)


@settings(max_examples=examples(10))
@given(case=valid_cases())
def test_rendering_twice_is_byte_identical(case):
    with tempfile.TemporaryDirectory() as scratch:
        first = tree(render_case(case, Path(scratch), "first"))
        second = tree(render_case(case, Path(scratch), "second"))

    assert first == second


@settings(max_examples=examples(40))
@given(invalid=invalid_cases())
def test_invalid_spec_writes_nothing_and_names_key_path(invalid):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with pytest.raises(SpecError) as info:
            render_case(invalid.case, folder)
        leftovers = sorted(p.name for p in folder.iterdir() if p.name != "specs")

    assert leftovers == [], f"files written for an invalid spec: {leftovers}"
    problems = info.value.problems
    located = [line for line in problems if f": {invalid.path}: " in line]
    assert located, f"{invalid.rule}: no problem names {invalid.path!r}: {problems}"
    assert all(invalid.path in line for line in problems), (
        f"{invalid.rule}: problems beyond {invalid.path!r}: {problems}"
    )


# -- every shipped model x dataset pair ------------------------------------------------


@pytest.mark.parametrize("model,dataset", PAIRS, ids=[f"{m}-{d}" for m, d in PAIRS])
def test_shipped_pair_renders_clean_project(tmp_path, model, dataset):
    case = shipped_case(model, dataset)
    project = tmp_path / "project"
    generate(model, dataset, project)

    check_scripts(project)
    check_config(project, case)


# -- command-line help, once per template script ---------------------------------------

EXTRA_FLAGS = {
    "train.py": ("--resume-from", "--pretrained", "--num-samples"),
    "eval.py": ("--checkpoint", "--num-samples"),
    "predict.py": ("--checkpoint", "--top-k"),
    "export.py": ("--checkpoint", "--format", "--output"),
    "serve.py": ("--checkpoint", "--mindir", "--host", "--port"),
}


@pytest.fixture(scope="module")
def lenet_project(tmp_path_factory):
    project = tmp_path_factory.mktemp("help") / "project"
    generate("lenet5", "mnist", project)
    return project


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_help_lists_standard_flags(lenet_project, script):
    result = subprocess.run(
        [sys.executable, script, "--help"],
        cwd=lenet_project,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    for flag in (*standard_flags(), *EXTRA_FLAGS.get(script, ())):
        assert flag in result.stdout, f"{script} --help does not list {flag}"
