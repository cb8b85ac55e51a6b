"""The levers behind ``train_speed.py``: each speed setting tried on LeNet5, one process.

Every variant trains LeNet5 (batch 32, Momentum 0.01/0.9, the same random
MNIST-shaped data) through ``mindspore.train.Model`` in graph mode, and
differs from the baseline in one setting only. Rounds alternate between the
variants; the script prints the median steps/s of each, its speed against the
baseline, and the loss after the warm-up epoch with the same seed, so a lever
that changes results shows it.

Run: python benchmarks/speed_levers.py [--rounds 3] [--steps 64]
"""

from __future__ import annotations  # noqa: I001  (tinyms before MindSpore)

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import tinyms  # noqa: F401  (its CPU defaults precede MindSpore)
import mindspore as ms
import mindspore.dataset as ds
import numpy as np
from mindspore import nn
from mindspore.train import Callback

from tinyms.model import Model, lenet5

__all__ = ["main"]


class _StepLoss(Callback):
    """Reads the loss back to the host after every step, as a per-step logger does."""

    def on_train_step_end(self, run_context: Any) -> None:
        run_context.original_args().net_outputs.asnumpy()


def _data(steps: int, workers: int | None = None) -> Any:
    rng = np.random.default_rng(0)
    images = rng.random((steps * 32, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, steps * 32).astype(np.int32)
    kwargs = {"num_parallel_workers": workers} if workers else {}
    return ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False,
                                 **kwargs).batch(32, drop_remainder=True, **kwargs)


def _parts(jit_level: str | None = None) -> tuple[Any, Any, Any]:
    ms.set_seed(0)
    network = lenet5(class_num=10)
    if jit_level:
        network.set_jit_config(ms.JitConfig(jit_level=jit_level))
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    return network, loss, nn.Momentum(network.trainable_params(), 0.01, 0.9)


def variant(steps: int, jit_level: str | None = None, workers: int | None = None,
            sink: bool = False, step_loss: bool = False,
            library: bool = False) -> tuple[Callable[[], None], float]:
    """Build one variant; return its one-epoch runner and its loss after a first epoch."""
    network, loss, optimizer = _parts(jit_level)
    dataset = _data(steps, workers)
    callbacks = [_StepLoss()] if step_loss else []
    if library:
        model = Model(network).compile(loss_fn=loss, optimizer=optimizer)
        run = lambda: model.train(1, dataset, callbacks=callbacks)  # noqa: E731
        run()
        batch = next(dataset.create_tuple_iterator(num_epochs=1))
        return run, float(model._ms(need_loss=True).train_network(*batch).asnumpy())
    model = ms.train.Model(network, loss_fn=loss, optimizer=optimizer)
    run = lambda: model.train(1, dataset, callbacks=callbacks,  # noqa: E731
                              dataset_sink_mode=sink)
    run()
    last = model.train_network(*next(dataset.create_tuple_iterator(num_epochs=1)))
    return run, float(last.asnumpy())


def tensor_loop(steps: int, jit_level: str | None = None) -> tuple[Callable[[], None], float]:
    """A TrainOneStepCell called on Tensors made beforehand: no dataset, no callbacks."""
    network, loss, optimizer = _parts(jit_level)
    step = nn.TrainOneStepCell(nn.WithLossCell(network, loss), optimizer)
    step.set_train()
    batches = [tuple(ms.Tensor(column) for column in row)
               for row in _data(steps).create_tuple_iterator(output_numpy=True, num_epochs=1)]

    def run() -> None:
        for images, labels in batches:
            value = step(images, labels)
        value.asnumpy()

    run()
    return run, float(step(*batches[0]).asnumpy())


def main(argv: list[str] | None = None) -> int:
    """Time every variant and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=64)
    args = parser.parse_args(argv)
    ms.set_context(mode=ms.GRAPH_MODE)
    steps = args.steps
    builders = {
        "baseline (ms.train.Model, graph)": lambda: variant(steps),
        "tinyms Model.train": lambda: variant(steps, library=True),
        "loss read back every step": lambda: variant(steps, step_loss=True),
        "jit_level O0": lambda: variant(steps, jit_level="O0"),
        "jit_level O1": lambda: variant(steps, jit_level="O1"),
        "jit_level O2": lambda: variant(steps, jit_level="O2"),
        "dataset workers 1": lambda: variant(steps, workers=1),
        "dataset sink mode": lambda: variant(steps, sink=True),
        "Tensor loop, no dataset": lambda: tensor_loop(steps),
        "Tensor loop, jit_level O2": lambda: tensor_loop(steps, jit_level="O2"),
    }
    runners, losses = {}, {}
    for name, build in builders.items():
        runners[name], losses[name] = build()
    times: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for index in range(args.rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times[names[0]])
    print(f"{'variant':34s} {'steps/s':>8s} {'vs base':>8s}  loss after warm-up")
    for name in names:
        median = statistics.median(times[name])
        print(f"{name:34s} {steps / median:8.1f} {base / median:8.2f}x  {losses[name]:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
