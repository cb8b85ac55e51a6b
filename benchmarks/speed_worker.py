"""One long-lived process of ``train_speed.py``: builds one runner, then times rounds on request.

Each framework runs in its own process (MindSpore and PyTorch each bring their
own oneDNN and OpenMP), and the process stays up between rounds, so the
parent can alternate rounds between runners without paying start-up and graph
compilation each time. Protocol: the worker builds its runner, runs one
untimed warm-up round and writes ``{"ready": ...}`` as one JSON line on its
real stdout; for each ``run`` line read from stdin it times one round and
writes ``{"seconds": s, "steps": n}``. Everything else the libraries print goes
to stderr.

Run by ``train_speed.py``:
``python speed_worker.py CASE RUNNER --steps N [--project DIR --data DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]

BATCH = 32
SHAPES = {"lenet5": (1, 32, 32), "resnet50": (3, 32, 32)}


def make_data(case: str, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``steps * 32`` random images of the case's shape and int32 labels 0-9."""
    rng = np.random.default_rng(seed)
    images = rng.random((steps * BATCH, *SHAPES[case]), dtype=np.float32)
    labels = rng.integers(0, 10, steps * BATCH).astype(np.int32)
    return images, labels


# -- MindSpore ------------------------------------------------------------------------
def _ms_threads() -> int:
    import mindspore as ms

    return int(ms.get_context("runtime_num_threads") or os.cpu_count() or 1)


def _ms_network(case: str) -> Any:
    from tinyms.model import get_network

    return get_network(case, class_num=10)


def _ms_dataset(images: np.ndarray, labels: np.ndarray) -> Any:
    import mindspore.dataset as ds

    return ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False).batch(
        BATCH, drop_remainder=True
    )


def _ms_parts(case: str) -> tuple[Any, Any, Any]:
    from mindspore import nn

    network = _ms_network(case)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    optimizer = nn.Momentum(network.trainable_params(), 0.01, 0.9)
    return network, loss, optimizer


def tinyms_runner(case: str, steps: int, **_: Any) -> Callable[[], int]:
    """Return a runner for tinyms's Model.train with its defaults, leaving the global mode alone."""
    from tinyms.model import Model

    network, loss, optimizer = _ms_parts(case)
    model = Model(network)
    model.compile(loss_fn=loss, optimizer=optimizer)
    dataset = _ms_dataset(*make_data(case, steps))
    return lambda: (model.train(1, dataset), steps)[1]


def mindspore_runner(case: str, steps: int, graph: bool = True, **_: Any) -> Callable[[], int]:
    """Return a runner for plain ``mindspore.train.Model`` in graph mode or PyNative mode."""
    import mindspore as ms

    ms.set_context(mode=ms.GRAPH_MODE if graph else ms.PYNATIVE_MODE)
    network, loss, optimizer = _ms_parts(case)
    model = ms.train.Model(network, loss_fn=loss, optimizer=optimizer)
    dataset = _ms_dataset(*make_data(case, steps))
    return lambda: (model.train(1, dataset, dataset_sink_mode=False), steps)[1]


def _generated(case: str, project: str, data: str,
               steps: int) -> tuple[Any, dict[str, Any], Any, Any]:
    """Import a generated train.py and build its training data and model as it does."""
    spec = importlib.util.spec_from_file_location("generated_train", Path(project) / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from tinyms import context
    from tinyms.generator import runtime

    args = module.parse_args(["--data-dir", data, "--num-samples", str(steps * BATCH)])
    config = runtime.configure(args)
    config["training"]["validation_split"] = 0.0  # time training steps only
    config["training"]["epochs"] = 20  # the lr schedule covers every round
    config["device"] = "CPU"  # the ResNet-50 spec names GPU; this benchmark times the CPU
    if case == "resnet50":
        # The spec upsamples CIFAR to 224x224, which makes a step ~40x dearer; time the
        # CIFAR shape that the other runners use.
        config["transform"]["image_size"] = 32
    context.set_device(config["device"])
    context.set_seed(config["training"]["seed"])
    config = runtime.resolve_classes(config, data)
    train_ds, _ = module.load_data(config, data, args.num_samples)
    return module, config, train_ds, train_ds.get_dataset_size()


def generated_runner(case: str, steps: int, project: str = "", data: str = "",
                     **_: Any) -> Callable[[], int]:
    """Return a runner for a generated train.py: its data, build() and Model.train."""
    from tinyms.callbacks import ProgressBar

    module, config, train_ds, count = _generated(case, project, data, steps)
    built = module.build(config, steps_per_epoch=count)
    model = built["model"]
    bar = ProgressBar(stream=sys.stderr)
    return lambda: (model.train(1, train_ds, callbacks=[bar]), count)[1]


def mindspore_generated_runner(case: str, steps: int, project: str = "", data: str = "",
                               **_: Any) -> Callable[[], int]:
    """Return a runner for plain MindSpore on the generated project's data and parts."""
    import mindspore as ms

    ms.set_context(mode=ms.GRAPH_MODE)
    module, config, train_ds, count = _generated(case, project, data, steps)
    built = module.build(config, steps_per_epoch=count)
    model = ms.train.Model(built["network"], loss_fn=built["loss"], optimizer=built["optimizer"])
    return lambda: (model.train(1, train_ds, dataset_sink_mode=False), count)[1]


# -- PyTorch ----------------------------------------------------------------------------
def torch_runner(case: str, steps: int, optimizer: str = "momentum", threads: int = 2,
                 **_: Any) -> Callable[[], int]:
    """Return a PyTorch eager runner with a DataLoader that reads the loss once per epoch."""
    import speed_torch
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    network = getattr(speed_torch, case)(class_num=10, **({"num_channel": 1}
                                                           if case == "lenet5" else {}))
    images, labels = make_data(case, steps)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(images),
                                       torch.from_numpy(labels.astype(np.int64))),
        batch_size=BATCH, shuffle=False, drop_last=True,
    )
    if optimizer == "adam":
        opt = torch.optim.Adam(network.parameters(), lr=0.002)
    else:
        opt = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> int:
        network.train()
        total = torch.zeros(())
        for x, y in loader:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(network(x), y)
            loss.backward()
            opt.step()
            total += loss.detach()
        float(total)
        return steps

    return run


# -- batch-1 prediction -------------------------------------------------------------------
PREDICT_CALLS = 200


def predict_runner(case: str, steps: int, framework: str = "tinyms", threads: int = 2,
                   **_: Any) -> Callable[[], int]:
    """Return a runner of ``PREDICT_CALLS`` single-image predictions, numpy in and out."""
    image = make_data("lenet5", 1)[0][:1]
    if framework == "torch":
        import speed_torch
        import torch

        torch.set_num_threads(threads)
        network = speed_torch.lenet5().eval()

        def call() -> Any:
            with torch.no_grad():
                return network(torch.from_numpy(image)).numpy()
    elif framework == "tinyms":
        from tinyms.model import Model

        model = Model(_ms_network("lenet5"))
        call = lambda: model.predict(image)  # noqa: E731
    else:
        import mindspore as ms

        ms.set_context(mode=ms.GRAPH_MODE if framework == "mindspore" else ms.PYNATIVE_MODE)
        network = _ms_network("lenet5")
        network.set_train(False)
        call = lambda: network(ms.Tensor(image)).asnumpy()  # noqa: E731

    def run() -> int:
        for _ in range(PREDICT_CALLS):
            call()
        return PREDICT_CALLS

    return run


RUNNERS: dict[str, Callable[..., Callable[[], int]]] = {
    "tinyms": tinyms_runner,
    "tinyms_generated": generated_runner,
    "mindspore": mindspore_runner,
    "mindspore_default": lambda case, steps, **kw: mindspore_runner(case, steps, graph=False,
                                                                     **kw),
    "mindspore_generated": mindspore_generated_runner,
    "torch": torch_runner,
    "torch_adam": lambda case, steps, **kw: torch_runner(case, steps, optimizer="adam", **kw),
}


def main(argv: list[str] | None = None) -> int:
    """Build one runner and serve timing requests on stdin until EOF."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["lenet5", "resnet50", "predict"])
    parser.add_argument("runner")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--project", default="")
    parser.add_argument("--data", default="")
    args = parser.parse_args(argv)

    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # library output (and C-level prints) goes to stderr
    sys.stdout = sys.stderr
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if not args.runner.startswith("torch"):
        import tinyms  # noqa: F401  (its CPU defaults precede MindSpore)

    kwargs = {"project": args.project, "data": args.data, "threads": args.threads}
    if args.case == "predict":
        run = predict_runner(args.case, args.steps, framework=args.runner, **kwargs)
    else:
        run = RUNNERS[args.runner](args.case, args.steps, **kwargs)
    started = time.perf_counter()
    run()
    info: dict[str, Any] = {"ready": args.runner, "warmup_s": time.perf_counter() - started}
    if args.runner.startswith("torch"):
        import torch

        info["threads"] = torch.get_num_threads()
    else:
        info["threads"] = _ms_threads()
    print(json.dumps(info), file=protocol, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        started = time.perf_counter()
        steps = run()
        print(json.dumps({"seconds": time.perf_counter() - started, "steps": steps}),
              file=protocol, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
