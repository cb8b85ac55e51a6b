"""Time ``import tinyms`` (and a few tinyms imports) against ``import mindspore``.

Each import runs in a fresh interpreter; rounds alternate; medians are printed.
Run: python benchmarks/import_time.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STATEMENTS = {
    "import tinyms": "import tinyms",
    "import tinyms.catalog": "import tinyms.catalog",
    "from tinyms.model import Model": "from tinyms.model import Model",
    "import mindspore": "import mindspore",
}

TIMER = (
    "import time; t = time.perf_counter(); {statement}; "
    "print(time.perf_counter() - t)"
)


def measure(statement: str) -> float:
    code = TIMER.format(statement=statement)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.rounds):
        for name, statement in STATEMENTS.items():
            times[name].append(measure(statement))
    baseline = statistics.median(times["import mindspore"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:34s} {median * 1000:8.1f} ms   {median / baseline:6.3f} x mindspore")


if __name__ == "__main__":
    main()
