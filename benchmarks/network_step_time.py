"""Seconds per training step of each zoo network at batch 32 on this machine's CPU.

Each network is built with 10 classes and its catalog input size and channels
(LeNet-5 1x32x32, VGG and DenseNet 3x32x32, AlexNet 3x227x227, ResNet and
MobileNetV2 3x224x224). A step is one ``nn.TrainOneStepCell`` call: forward,
softmax cross-entropy, backward and a Momentum (0.01, 0.9) update, on one fixed
random batch. The first ``--warmup`` steps include graph compilation in graph
mode, so they are timed apart. The script reports the median wall time of the
next ``--steps`` steps. It also reports the process CPU time per step and the
1-minute load average, because a busy machine inflates the wall time.

Run: python benchmarks/network_step_time.py [NAME ...] [--mode graph|pynative]
     [--steps 5] [--warmup 2] [--batch-size 32] [--json results.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time

import mindspore as ms
import numpy as np
from mindspore import nn

# Importing tinyms sets ONEDNN_MAX_CPU_ISA; it only has to precede the first operator.
from tinyms import catalog
from tinyms.model.registry import get_network, list_networks


def measure(name: str, batch_size: int, steps: int, warmup: int) -> dict:
    """Build ``name``, run ``warmup`` then ``steps`` training steps, and return the timings."""
    info = catalog.network_info(name)
    height, width = info["input_size"]
    channels = info["default_channels"]
    ms.set_seed(0)
    network = get_network(name, **{info["class_num_arg"]: 10})
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    optimizer = nn.Momentum(network.trainable_params(), learning_rate=0.01, momentum=0.9)
    step = nn.TrainOneStepCell(nn.WithLossCell(network, loss_fn), optimizer)
    step.set_train()

    rng = np.random.default_rng(0)
    images = ms.Tensor(rng.standard_normal((batch_size, channels, height, width)), ms.float32)
    labels = ms.Tensor(rng.integers(0, 10, batch_size), ms.int32)

    start = time.perf_counter()
    for _ in range(warmup):
        step(images, labels).asnumpy()
    warmup_seconds = time.perf_counter() - start

    wall, cpu = [], []
    for _ in range(steps):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        loss = step(images, labels).asnumpy()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)
    if not np.isfinite(loss):
        raise RuntimeError(f"{name}: the loss is not finite ({loss}) after {steps} steps")

    return {
        "name": name,
        "input": [channels, height, width],
        "params": sum(int(p.size) for p in network.trainable_params()),
        "warmup_s": round(warmup_seconds, 2),
        "step_s": round(statistics.median(wall), 3),
        "cpu_s_per_step": round(statistics.median(cpu), 3),
        "load_1min": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="networks to time (default: every built-in)")
    parser.add_argument("--mode", choices=("graph", "pynative"), default="graph",
                        help="MindSpore execution mode (default: graph)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per network")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per network")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    ms.set_context(mode=ms.GRAPH_MODE if args.mode == "graph" else ms.PYNATIVE_MODE)
    ms.set_device("CPU")
    names = args.names or [
        name for name in list_networks() if not catalog.network_info(name).get("user")
    ]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"MindSpore {ms.__version__}, {args.mode} mode, batch {args.batch_size}")
    print("| network | input | params | s/step | CPU s/step | warmup s | load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")

    results = []
    for name in names:
        result = measure(name, args.batch_size, args.steps, args.warmup)
        results.append(result)
        shape = "x".join(map(str, result["input"]))
        print(f"| {name} | {shape} | {result['params']:,} | {result['step_s']} | "
              f"{result['cpu_s_per_step']} | {result['warmup_s']} | {result['load_1min']} |",
              flush=True)
        gc.collect()

    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"mode": args.mode, "batch_size": args.batch_size, "results": results},
                      file, indent=2)


if __name__ == "__main__":
    main()
