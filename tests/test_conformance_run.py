"""Generated projects run as a user runs them: train, eval, export, predict and serve.

The CI tier runs each network of the shipped model specs once, on its cheapest
dataset (``CI_PAIRS`` of test_conformance_render.py). The full tier (``pytest -m
slow``, ``tox -e full``) runs every other model x dataset pair the same way.
serve.py runs in the CI tier for the smallest network only, and for every pair
of the full tier. Each run trains one epoch
of two steps on a small dataset in the real on-disk format, written by
``tests/datagen.py``. Every script runs as its own process: a script sets the
device, which MindSpore rejects in a process that has already run a kernel.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from datagen import write_cifar10_bins, write_cifar100_bins, write_image_folder, write_mnist_idx
from PIL import Image
from test_conformance_build import load_script
from test_conformance_render import CI_PAIRS, PAIRS

from tinyms import catalog
from tinyms.generator import runtime
from tinyms.generator.cli import generate
from tinyms.generator.spec import SpecSet

TIMEOUT = 900


def _network_params(pair: tuple[str, str]) -> int:
    network = SpecSet().get("model", pair[0]).data["network"]["name"]
    return catalog.network_info(network)["params"]


# Each serve.py start costs a MindSpore start-up and a model load, so the CI tier
# serves the smallest network only; the full tier serves every other pair.
CI_SERVE_PAIR = min(CI_PAIRS, key=_network_params)
RUN_PAIRS = [
    pytest.param(model, dataset, id=f"{model}-{dataset}",
                 marks=[] if (model, dataset) in CI_PAIRS else [pytest.mark.slow])
    for model, dataset in PAIRS
]


def write_data(dataset: str, root: Path) -> Path | None:
    """Write a small dataset in the real format; None where train.py fetches it itself."""
    loader = SpecSet().get("dataset", dataset).data["loader"]
    download = SpecSet().get("dataset", dataset).data["download"]
    if download == "mnist_sample":
        return None  # packaged with tinyms: "downloaded" offline
    if loader == "mnist":
        return write_mnist_idx(root, n_train=40, n_test=20)
    if loader == "cifar10":
        return write_cifar10_bins(root)
    if loader == "cifar100":
        return write_cifar100_bins(root)
    if loader == "image_folder":
        classes = ("ant", "bee", "cat")
        write_image_folder(root / "train", classes=classes, per_class=4, size=(40, 30))
        write_image_folder(root / "test", classes=classes, per_class=2, size=(40, 30), seed=1)
        return root
    raise AssertionError(f"no test data writer for the loader {loader!r}")


def run_script(project: Path, script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, script, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"{script} {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def sample_input(config: dict) -> np.ndarray:
    size = config["transform"]["image_size"]
    channels = config["transform"]["channels"]
    return np.random.default_rng(3).standard_normal((1, channels, size, size)).astype(np.float32)


def check_exports(project: Path, config: dict, checkpoint: Path, run: Path) -> None:
    """Export MINDIR and ONNX; both must predict what the checkpoint predicts."""
    import mindspore as ms
    import onnx
    import onnxruntime as ort
    from mindspore import nn

    model = load_script(project, "export.py").build(config)["model"]
    model.load_checkpoint(checkpoint, strict=True)
    x = sample_input(config)
    expected = model.predict(x)

    output = run_script(project, "export.py", "--format", "MINDIR", "ONNX",
                        "--output", str(run / "export" / "model.onnx"))
    written = [Path(path.strip()) for path in re.findall(r"Exported: (.+)", output)]
    assert [path.suffix for path in written] == [".mindir", ".onnx"], output
    mindir, onnx_path = written
    assert mindir.is_file(), output
    assert onnx_path.is_file(), output
    assert mindir.with_suffix("") == onnx_path.with_suffix("") == run / "export" / "model"
    graph = nn.GraphCell(ms.load(str(mindir)))
    np.testing.assert_allclose(graph(ms.Tensor(x)).asnumpy(), expected, rtol=1e-3, atol=1e-4)

    onnx.checker.check_model(str(onnx_path))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(logits, expected, rtol=1e-3, atol=1e-4)


def check_serve(project: Path, checkpoint: Path, image: Path, log_path: Path) -> None:
    """Start serve.py on 127.0.0.1, classify one image over HTTP, stop it with SIGTERM."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "serve.py", "--checkpoint", str(checkpoint), "--port", "0",
             "--host", "127.0.0.1"],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            pattern = r"Serving on (http://127\.0\.0\.1:\d+)"
            while not (match := re.search(pattern, log_path.read_text(errors="replace"))):
                assert process.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "serve.py did not start in 300 s"
                time.sleep(0.2)
            url = match.group(1)
            with urllib.request.urlopen(f"{url}/servables", timeout=60) as response:
                names = [item["name"] for item in json.load(response)["servables"]]
            assert len(names) == 1, names
            request = urllib.request.Request(
                f"{url}/servables/{names[0]}/predict", data=image.read_bytes(),
                headers={"Content-Type": "image/png"}, method="POST",
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.load(response)
            assert answer["predictions"], answer

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log_path.read_text(errors="replace")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("model,dataset", RUN_PAIRS)
def test_generated_project_runs(tmp_path, model, dataset):
    data = write_data(dataset, tmp_path / "data")
    project = tmp_path / "project"
    # Six samples, a third held out for validation: one epoch of two steps of two.
    generate(model, dataset, project, device="CPU",
             overrides=["training.validation_split=0.34"])
    data_args = ["--data-dir", str(data)] if data is not None else []

    output = run_script(project, "train.py", *data_args, "--epochs", "1", "--batch-size", "2",
                        "--num-samples", "6")
    assert "Trained in" in output
    run = project / "runs" / "run-001"
    checkpoint = run / "checkpoints" / "final.ckpt"
    assert checkpoint.is_file()
    rows = (run / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 2, rows  # header, one epoch
    header = rows[0].split(",")
    loss = float(rows[1].split(",")[header.index("loss")])
    assert math.isfinite(loss)

    config = runtime.config_for_checkpoint(
        runtime.load_config(project / "config.yaml"), checkpoint
    )
    eval_data = data_args or ["--data-dir", str(project / "data" / dataset)]
    last = run_script(project, "eval.py", *eval_data, "--num-samples", "4")
    results = json.loads(last.strip().splitlines()[-1])
    assert sorted(results) == sorted(config["metrics"])
    for name, value in results.items():
        assert isinstance(value, float) and not math.isnan(value), results
        if name != "loss":
            assert 0.0 <= value <= 1.0, results
    # NOTE: after two steps, resnet50 on the CIFAR-10 test data gave an infinite eval
    # loss (logits overflow), so the loss is only checked to be a number here.

    check_exports(project, config, checkpoint, run)

    image = tmp_path / "image.png"
    channels = 1 if config["dataset"]["loader"] == "mnist" else 3
    pixels = np.random.default_rng(5).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(image)
    predicted = run_script(project, "predict.py", str(image), "--top-k", "5")
    line = predicted.strip().splitlines()[-1]
    assert line.startswith(f"{image}: ")
    labels = [item.rsplit(" (", 1)[0] for item in line.split(": ", 1)[1].split(", ")]
    assert len(labels) == min(5, len(config["dataset"]["class_names"]))
    assert set(labels) <= set(config["dataset"]["class_names"])

    if (model, dataset) not in CI_PAIRS or (model, dataset) == CI_SERVE_PAIR:
        check_serve(project, checkpoint, image, tmp_path / "serve.log")
