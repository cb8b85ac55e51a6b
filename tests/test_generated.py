"""Generated projects run end to end: train, eval, predict and export as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from datagen import write_mnist_idx

from tinyms.generator.cli import main


def run_script(project: Path, script: str, *args: str, timeout: int = 600) -> str:
    result = subprocess.run(
        [sys.executable, str(project / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=project,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_lenet5_mnist_train_eval_predict_export(tmp_path):
    data = write_mnist_idx(tmp_path / "mnist", n_train=300, n_test=100)
    project = tmp_path / "lenet5-mnist"
    assert (
        main(
            [
                "--model",
                "lenet5",
                "--dataset",
                "mnist",
                "--output-dir",
                str(project),
                "--set",
                "training.epochs=1",
            ]
        )
        == 0
    )

    output = run_script(project, "train.py", "--data-dir", str(data))
    assert "Trained in" in output
    run = project / "runs" / "run-001"
    assert (run / "config.yaml").is_file()
    assert list((run / "checkpoints").glob("*.ckpt"))
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert {"loss", "val_accuracy", "val_loss"} <= set(rows[0])
    assert (run / "metrics.png").stat().st_size > 0

    last_line = run_script(project, "eval.py", "--data-dir", str(data)).strip().splitlines()[-1]
    metrics = json.loads(last_line)
    assert set(metrics) == {"accuracy", "loss"}
    assert 0.0 <= metrics["accuracy"] <= 1.0

    from PIL import Image

    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(image)
    predicted = run_script(project, "predict.py", str(image), "--top-k", "5")
    line = predicted.strip().splitlines()[-1]
    assert line.startswith(f"{image}: ")
    assert len(line.split(": ", 1)[1].split(", ")) == 5

    exported = run_script(project, "export.py")
    assert (run / "export" / "model.mindir").is_file(), exported

    final = str(run / "checkpoints" / "final.ckpt")
    run_script(
        project, "train.py", "--data-dir", str(data), "--epochs", "2", "--resume-from", final
    )
    with open(project / "runs" / "run-002" / "metrics.csv", newline="") as handle:
        resumed = list(csv.DictReader(handle))
    assert [row["epoch"] for row in resumed] == ["2"]

    run_script(project, "train.py", "--data-dir", str(data), "--pretrained", final)
    assert (project / "runs" / "run-003" / "checkpoints" / "final.ckpt").is_file()


def test_train_reports_missing_data_dir(tmp_path):
    project = tmp_path / "p"
    assert (
        main(["--model", "resnet50", "--dataset", "image_folder", "--output-dir", str(project)])
        == 0
    )
    result = subprocess.run(
        [sys.executable, str(project / "train.py")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "--data-dir" in result.stderr
