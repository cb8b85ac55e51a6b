"""Training speed of tinyms against plain MindSpore and PyTorch on the CPU, side by side.

Cases (batch 32, random data of the dataset's shape):

- ``lenet5``: LeNet5 on 1x32x32 images, ``--steps`` steps per round (default 64).
- ``resnet50``: ResNet-50 on 3x32x32 (CIFAR-shaped) images, ``--resnet-steps`` (default 6).
- ``predict``: LeNet5 batch-1 prediction latency, 200 calls per round.

Runners, each in its own long-lived process (``speed_worker.py``):

- ``tinyms``: ``tinyms.model.Model.train`` with its defaults, Momentum 0.01/0.9,
  the global context left as MindSpore starts it.
- ``tinyms_generated``: a project made by ``tinyms-new`` (``--model lenet5
  --dataset mnist`` or ``resnet50``/``cifar10``): its ``load_data`` (the real
  loader on synthetic IDX or CIFAR binary files, its transforms), ``build``
  (LeNet5: Adam and a cosine schedule; ResNet-50: Momentum) and ``Model.train``
  with the progress bar; no validation split, no checkpoint files, device CPU,
  and for ResNet-50 the CIFAR images kept at 32x32 (the spec upsamples them to
  224x224, which times another workload).
- ``mindspore``: plain ``mindspore.train.Model`` with tinyms's settings (graph
  mode, no sinking), same network class, data and optimizer as ``tinyms``.
- ``mindspore_default``: the same with MindSpore 2.10's default mode (PyNative);
  LeNet5 only, since ResNet-50 takes minutes per round that way.
- ``mindspore_generated``: plain MindSpore (graph mode) on the generated
  project's dataset, network, loss and optimizer.
- ``torch`` / ``torch_adam``: PyTorch eager with a DataLoader, Momentum or Adam,
  ``torch.set_num_threads`` equal to MindSpore's ``runtime_num_threads``.

Every runner builds and runs one untimed round first (graph compilation); then
rounds alternate between runners (the order rotates each round) and the
script prints the median of each and the ratios tinyms/PyTorch and
tinyms/plain MindSpore (time ratios: above 1 means tinyms is slower).

Run: python benchmarks/train_speed.py [--rounds 3] [--cases lenet5 resnet50 predict]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKER = HERE / "speed_worker.py"

RUNNERS = {
    "lenet5": ["tinyms", "tinyms_generated", "mindspore", "mindspore_generated",
               "mindspore_default", "torch", "torch_adam"],
    "resnet50": ["tinyms", "tinyms_generated", "mindspore", "mindspore_generated", "torch"],
    "predict": ["tinyms", "mindspore", "mindspore_default", "torch"],
}
# (tinyms runner, baseline runner) pairs whose time ratio is printed. The generated
# LeNet5 project trains with Adam, the ResNet-50 one with Momentum.
RATIOS = {
    "lenet5": [("tinyms", "mindspore"), ("tinyms", "torch"),
               ("tinyms_generated", "mindspore_generated"), ("tinyms_generated", "torch_adam"),
               ("tinyms", "mindspore_default")],
    "resnet50": [("tinyms", "mindspore"), ("tinyms", "torch"),
                 ("tinyms_generated", "mindspore_generated"), ("tinyms_generated", "torch")],
    "predict": [("tinyms", "mindspore"), ("tinyms", "torch"), ("tinyms", "mindspore_default")],
}


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def generate(folder: Path, case: str) -> tuple[Path, Path]:
    """Make a project with tinyms-new and synthetic data for it; return (project, data)."""
    sys.path.insert(0, str(REPO / "tests"))
    import datagen

    model, dataset = ("lenet5", "mnist") if case == "lenet5" else ("resnet50", "cifar10")
    project = folder / f"{model}-{dataset}"
    subprocess.run([sys.executable, "-m", "tinyms.generator.cli", "--model", model,
                    "--dataset", dataset, "--output-dir", str(project)],
                   check=True, capture_output=True)
    data = folder / f"data-{dataset}"
    if case == "lenet5":
        datagen.write_mnist_idx(data, n_train=4096, n_test=32)
    else:
        datagen.write_cifar10_bins(data)
    return project, data


class Worker:
    """A runner process: start it, then ask for timed rounds."""

    def __init__(self, case: str, runner: str, steps: int, threads: int, extra: list[str]):
        self.name = runner
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), case, runner, "--steps", str(steps),
             "--threads", str(threads), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, cwd=str(HERE),
        )
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} stopped; run speed_worker.py by hand "
                               "to see its error")
        return json.loads(line)

    def round(self) -> dict[str, Any]:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def run_case(case: str, runners: list[str], steps: int, rounds: int, threads: int,
             folder: Path) -> dict[str, list[float]]:
    """Alternate rounds between the runners; return seconds per step (per call) of each round."""
    extra: list[str] = []
    if any("generated" in name for name in runners):
        project, data = generate(folder, case)
        extra = ["--project", str(project), "--data", str(data)]
    times: dict[str, list[float]] = {name: [] for name in runners}
    workers = {}
    try:
        for name in runners:  # started together, so each stays warm between rounds
            workers[name] = Worker(case, name, steps, threads, extra)
        for index in range(rounds):
            shift = index % len(runners)
            for name in runners[shift:] + runners[:shift]:
                result = workers[name].round()
                times[name].append(result["seconds"] / result["steps"])
    finally:
        for worker in workers.values():
            worker.close()
    return times


def report(case: str, times: dict[str, list[float]]) -> list[str]:
    """Format the medians and ratios of one case."""
    lines = [f"## {case}"]
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        spread = f"{min(times[name]) * 1e3:.2f}-{max(times[name]) * 1e3:.2f}"
        if case == "predict":
            lines.append(f"{name:22s} {median * 1e3:8.3f} ms/call  (range {spread} ms)")
        else:
            lines.append(f"{name:22s} {1 / median:8.2f} steps/s  {median:7.4f} s/step  "
                         f"(range {spread} ms)")
    for mine, base in RATIOS[case]:
        if mine in medians and base in medians:
            lines.append(f"time ratio {mine}/{base}: {medians[mine] / medians[base]:.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--steps", type=int, default=64, help="LeNet5 steps per round")
    parser.add_argument("--resnet-steps", type=int, default=6, help="ResNet-50 steps per round")
    parser.add_argument("--threads", type=int, default=0,
                        help="PyTorch threads (default: MindSpore's runtime_num_threads)")
    parser.add_argument("--cases", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    parser.add_argument("--runners", nargs="+", help="only these runners")
    parser.add_argument("--json", help="also write the raw times to this file")
    args = parser.parse_args(argv)

    threads = args.threads or _mindspore_threads()
    print(f"# train_speed {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} cores; MindSpore runtime_num_threads="
          f"{_mindspore_threads()}, torch threads={threads}; load before: {load()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for case in args.cases:
            runners = [name for name in RUNNERS[case]
                       if not args.runners or name in args.runners]
            steps = {"lenet5": args.steps, "resnet50": args.resnet_steps}.get(case, 1)
            results[case] = run_case(case, runners, steps, args.rounds, threads, Path(folder))
            print("\n".join(report(case, results[case])), flush=True)
    print(f"# load after: {load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def _mindspore_threads() -> int:
    out = subprocess.run(
        [sys.executable, "-c", "import tinyms, mindspore as ms; "
         "print(ms.get_context('runtime_num_threads'))"],
        capture_output=True, text=True, check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
