"""Time ``tinyms-new`` as a user runs it: a fresh process per generated project.

    python benchmarks/generator_time.py [--runs 10]

Prints the median and the range of the wall-clock time of
``tinyms-new --model resnet50 --dataset cifar10 --output-dir DIR`` (process
start to exit), of the import of the generator alone, and whether MindSpore was
imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_CHECK = (
    "import sys, time; start = time.perf_counter(); "
    "import tinyms.generator.cli, tinyms.generator.render, cookiecutter.generate; "
    "print(time.perf_counter() - start, 'mindspore' in sys.modules)"
)


def time_generation(runs: int) -> list[float]:
    """Return the wall-clock seconds of ``runs`` fresh ``tinyms-new`` processes."""
    script = Path(sys.executable).with_name("tinyms-new")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "tinyms.generator.cli"]
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(runs):
            target = Path(folder) / f"p{index}"
            start = time.perf_counter()
            subprocess.run(
                [
                    *command,
                    "--model",
                    "resnet50",
                    "--dataset",
                    "cifar10",
                    "--output-dir",
                    str(target),
                ],
                check=True,
                capture_output=True,
            )
            seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="processes to time")
    args = parser.parse_args(argv)

    seconds = time_generation(args.runs)
    output = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK], check=True, capture_output=True, text=True
    ).stdout.split()
    print(
        f"tinyms-new, {args.runs} runs: median {statistics.median(seconds):.3f} s, "
        f"min {min(seconds):.3f} s, max {max(seconds):.3f} s"
    )
    print(
        f"import of the generator and cookiecutter: {float(output[0]):.3f} s; "
        f"mindspore imported: {output[1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
