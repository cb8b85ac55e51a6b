"""Evaluate a checkpoint on the test split.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

The last line printed is one JSON object of metrics, such as
{"accuracy": 0.98, "loss": 0.06}.

    python eval.py --data-dir DATA [--checkpoint runs/run-001/checkpoints/final.ckpt]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import tinyms  # noqa: F401  (sets the CPU defaults that must precede MindSpore)
from tinyms.errors import TinyMSError
from tinyms.generator import runtime

MODEL = {{ cookiecutter.model | py }}
DATASET = {{ cookiecutter.dataset | py }}
PROJECT_DIR = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every flag overrides one value of the config."""
    parser = argparse.ArgumentParser(description=f"Evaluate {MODEL} on the {DATASET} test split.")
    runtime.add_standard_arguments(parser, PROJECT_DIR / "config.yaml")
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="checkpoint to evaluate (default: the newest of the latest run)",
    )
    return parser.parse_args(argv)


def build(config: dict[str, Any]) -> dict[str, Any]:
    """Build the network, loss, metrics and model that the config names."""
    from tinyms import losses, metrics
    from tinyms.model import Model, get_network

    name, args = runtime.component(config["network"])
    network = get_network(name, **args)
    name, args = runtime.component(config["loss"])
    loss = losses.get_loss(name, **args)
    metric_objects = {name: metrics.get_metric(name) for name in config["metrics"]}
    model = Model(network)
    model.compile(loss_fn=loss, metrics=metric_objects)
    return {"network": network, "loss": loss, "metrics": metric_objects, "model": model}


def load_test_data(config: dict[str, Any], data_root: str, num_samples: int | None = None) -> Any:
    """Return the batched test split."""
    from tinyms.data import get_dataset
    from tinyms.vision import make_transform

    dataset = config["dataset"]
    _, transform_args = runtime.component(config["transform"])
    if dataset["class_names"] is not None:
        transform_args["class_names"] = dataset["class_names"]
    transform = make_transform(dataset["loader"], **transform_args)
    source = get_dataset(
        dataset["loader"], data_root, usage="test", shuffle=False, num_samples=num_samples
    )
    return transform.apply_ds(source, batch_size=config["training"]["batch_size"])


def evaluate(config: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    """Evaluate the checkpoint on the test split and return the metrics."""
    from tinyms import context

    context.set_device(config["device"])
    checkpoint = runtime.find_checkpoint(config, args.checkpoint)
    config = runtime.config_for_checkpoint(config, checkpoint)
    data_root = runtime.prepare_data(config, PROJECT_DIR / "data")
    model = build(config)["model"]
    model.load_checkpoint(checkpoint, strict=False)
    results = model.eval(load_test_data(config, data_root, args.num_samples))
    print(f"Checkpoint: {checkpoint}", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run eval.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        results = evaluate(config, args)
    except TinyMSError as err:
        return runtime.fail(err)
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
