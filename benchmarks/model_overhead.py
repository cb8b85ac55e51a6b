"""One LeNet5 epoch through tinyms.Model against the same loop in plain MindSpore.

Both sides use the same network class (tinyms's lenet5), the same data
(MNIST-shaped, 4,096 images, batch 32), loss, optimizer (Momentum 0.01/0.9),
graph mode and no dataset sinking. Rounds alternate between the two, and the
script prints the median epoch time of each and their ratio.

Run: python benchmarks/model_overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import mindspore as ms
import mindspore.dataset as ds
from _lenet_data import mnist_shaped
from mindspore import nn

from tinyms.model import Model, lenet5


def make_dataset(images, labels, batch_size):
    return ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False).batch(
        batch_size, drop_remainder=True
    )


def tinyms_runner(images, labels, batch_size):
    net = lenet5(class_num=10)
    model = Model(net)
    model.compile(loss_fn=nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
                  optimizer=nn.Momentum(net.trainable_params(), 0.01, 0.9))
    dataset = make_dataset(images, labels, batch_size)
    return lambda: model.train(1, dataset)


def mindspore_runner(images, labels, batch_size):
    net = lenet5(class_num=10)
    model = ms.train.Model(net, loss_fn=nn.SoftmaxCrossEntropyWithLogits(sparse=True,
                                                                          reduction="mean"),
                           optimizer=nn.Momentum(net.trainable_params(), 0.01, 0.9))
    dataset = make_dataset(images, labels, batch_size)
    return lambda: model.train(1, dataset, dataset_sink_mode=False)


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    args = parser.parse_args()

    ms.set_context(mode=ms.GRAPH_MODE)
    images, labels = mnist_shaped()
    runners = {
        "tinyms.Model": tinyms_runner(images, labels, args.batch_size),
        "mindspore.train.Model": mindspore_runner(images, labels, args.batch_size),
    }
    for run in runners.values():  # compile both graphs before timing
        run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name].append(timed(run))
    steps = len(images) // args.batch_size
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:24s} median epoch {median:.3f} s  ({steps / median:.1f} steps/s)")
    ratio = medians["tinyms.Model"] / medians["mindspore.train.Model"]
    print(f"ratio tinyms/mindspore: {ratio:.3f}")


if __name__ == "__main__":
    main()
