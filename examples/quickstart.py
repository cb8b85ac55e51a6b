"""Train, evaluate and serve a first model, offline, in about a minute.

Each step is one command a user would type; this script runs them in order and
prints what they print:

1. ``tinyms-new --model lenet5 --dataset mnist_sample`` renders a project;
2. ``python train.py`` trains LeNet5 on the MNIST sample packaged with tinyms;
3. ``python eval.py`` prints the test accuracy;
4. the serving client starts a server for the new checkpoint, sends it one
   packaged digit, prints its prediction and stops the server.

Run: python examples/quickstart.py [--output-dir quickstart] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def run(command: list[str]) -> str:
    """Run a command, echo it and its output, and return its standard output."""
    print("$", " ".join(command), flush=True)
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if process.returncode != 0:
        step = command[1] if len(command) > 1 else command[0]
        sys.exit(f"quickstart: {step} failed with exit status {process.returncode}")
    return "".join(lines)


def packaged_digit(folder: Path) -> tuple[Path, int]:
    """Write the first test digit of the packaged sample as a PNG; return it and its label."""
    import numpy as np
    from PIL import Image

    from tinyms.data import download_dataset

    root = Path(download_dataset("mnist_sample", local_path=folder))
    images = np.fromfile(root / "test" / "t10k-images-idx3-ubyte", dtype=np.uint8, offset=16)
    labels = np.fromfile(root / "test" / "t10k-labels-idx1-ubyte", dtype=np.uint8, offset=8)
    path = folder / f"digit_{labels[0]}.png"
    Image.fromarray(images[: 28 * 28].reshape(28, 28)).save(path)
    return path, int(labels[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="quickstart",
                        help="folder of the generated project (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=5,
                        help="training epochs (default: %(default)s)")
    args = parser.parse_args()
    project = Path(args.output_dir)
    python = sys.executable
    tinyms_new = shutil.which("tinyms-new", path=str(Path(python).parent)) or "tinyms-new"

    if project.exists():
        print(f"quickstart: removing the previous {project}/", flush=True)
        shutil.rmtree(project)
    run([tinyms_new, "--model", "lenet5", "--dataset", "mnist_sample",
         "--output-dir", str(project)])
    run([python, str(project / "train.py"), "--epochs", str(args.epochs)])
    metrics = json.loads(run([python, str(project / "eval.py")]).strip().splitlines()[-1])

    from tinyms.serving import predict, server_started, shutdown, start_server

    checkpoint = sorted(project.glob("runs/run-*/checkpoints/final.ckpt"))[-1]
    with tempfile.TemporaryDirectory() as folder:
        image, label = packaged_digit(Path(folder))
        print(f"$ start_server(...) for {checkpoint}", flush=True)
        url = start_server(port=0, servables=[{"model": "lenet5", "dataset": "mnist_sample",
                                               "checkpoint": str(checkpoint.resolve())}])
        try:
            assert server_started()
            answer = predict(str(image), "lenet5", "mnist_sample")
        finally:
            shutdown()
    best = answer["predictions"][0]
    print(f"server at {url} answered: {best['label']} (score {best['score']:.4f}), "
          f"true label {label}")
    print(f"test accuracy {metrics['accuracy']:.4f}")


if __name__ == "__main__":
    main()
