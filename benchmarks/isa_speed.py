"""LeNet5 training steps/s with oneDNN's default ISA against ONEDNN_MAX_CPU_ISA=AVX2.

The evidence behind tinyms's CPU rule (tinyms/_cpu.py). Each setting runs in
its own process (oneDNN reads the variable once), alternating, and the loss
after the same steps is compared, so the speed-up is shown with equal results.

Run: python benchmarks/isa_speed.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r"""
import json, time, sys
import numpy as np
import mindspore as ms
from mindspore import nn
sys.path.insert(0, sys.argv[1])
from tinyms.model.networks.lenet import lenet5  # imports tinyms, which keeps a set variable
ms.set_context(mode=ms.GRAPH_MODE)
ms.set_seed(0)
net = lenet5(class_num=10)
step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(
    sparse=True, reduction="mean")), nn.Momentum(net.trainable_params(), 0.01, 0.9))
rng = np.random.default_rng(0)
x = ms.Tensor(rng.random((32, 1, 32, 32), dtype=np.float32))
y = ms.Tensor(rng.integers(0, 10, 32).astype(np.int32))
for _ in range(5):
    loss = step(x, y)
loss.asnumpy()
start = time.perf_counter()
for _ in range(100):
    loss = step(x, y)
value = float(loss.asnumpy())
print(json.dumps({"steps_per_s": 100 / (time.perf_counter() - start), "loss": value}))
"""


def run(isa: str, repo: str) -> dict:
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa)
    out = subprocess.run([sys.executable, "-c", WORKER, repo], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    settings = {"ALL (oneDNN default)": "ALL", "AVX2 (tinyms rule)": "AVX2"}
    results: dict[str, list[dict]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, isa in settings.items():
            results[name].append(run(isa, repo))
    for name, rows in results.items():
        speed = statistics.median(row["steps_per_s"] for row in rows)
        print(f"{name:22s} {speed:7.1f} steps/s   loss after 105 steps {rows[0]['loss']:.6f}")
    base = statistics.median(r["steps_per_s"] for r in results["ALL (oneDNN default)"])
    fast = statistics.median(r["steps_per_s"] for r in results["AVX2 (tinyms rule)"])
    print(f"speed-up AVX2/ALL: {fast / base:.2f}x")


if __name__ == "__main__":
    main()
