"""The wheel carries every file the installed package reads at run time."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Files read through paths rather than imports, so a missing one shows only after install.
REQUIRED = [
    "tinyms/catalog/datasets.yaml",
    "tinyms/data/sample/mnist/SHA256SUMS",
    "tinyms/data/sample/mnist/README.md",
    "tinyms/data/sample/mnist/train-images-idx3-ubyte.gz",
    "tinyms/data/sample/mnist/t10k-labels-idx1-ubyte.gz",
    "tinyms/serving/static/index.html",
    "tinyms/serving/static/openapi.json",
    "tinyms/generator/cli.py",
    "tinyms/templates/cookiecutter.json",
    "tinyms/templates/{{cookiecutter.project_slug}}/train.py",
    "tinyms/templates/{{cookiecutter.project_slug}}/serve.py",
    "tinyms/spec/models/lenet5.yaml",
    "tinyms/spec/datasets/mnist_sample.yaml",
    "tinyms/spec/schema/model.schema.json",
    "tinyms/py.typed",
]


def test_wheel_contains_runtime_files(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("tinyms-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in REQUIRED if name not in names]
    assert missing == []
    for folder in ("spec/models", "templates/{{cookiecutter.project_slug}}"):
        shipped = sorted(p.name for p in (REPO / folder).iterdir() if p.is_file())
        packaged = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith(f"tinyms/{folder}/"))
        assert packaged == shipped
    assert not any(name.startswith(("generator/", "spec/", "templates/")) for name in names)
