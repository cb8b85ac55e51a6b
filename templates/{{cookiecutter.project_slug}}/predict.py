"""Classify images with a trained checkpoint.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

Prints the top classes of each image, best first.

    python predict.py digit.png other.jpg [--top-k 5]
"""

from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(description=f"Classify images with {MODEL} ({DATASET}).")
    runtime.add_standard_arguments(parser, PROJECT_DIR / "config.yaml")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to classify")
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="checkpoint to use (default: the newest of the latest run)",
    )
    parser.add_argument(
        "--top-k", type=int, choices=[1, 5], default=1, help="classes shown per image"
    )
    return parser.parse_args(argv)


def build(config: dict[str, Any]) -> dict[str, Any]:
    """Build the network, transform and model that the config names."""
    from tinyms.model import Model, get_network
    from tinyms.vision import make_transform

    name, args = runtime.component(config["network"])
    network = get_network(name, **args)
    _, transform_args = runtime.component(config["transform"])
    if config["dataset"]["class_names"] is not None:
        transform_args["class_names"] = config["dataset"]["class_names"]
    transform = make_transform(config["dataset"]["loader"], **transform_args)
    return {"network": network, "transform": transform, "model": Model(network)}


def load_image(transform: Any, path: str) -> Any:
    """Return one image file as a batch of one, preprocessed by ``transform``."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.expand_dims(transform(image), 0)


def predict(config: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, list[Any]]]:
    """Return ``(image, predictions)`` for each image, predictions best first."""
    from tinyms import context

    context.set_device(config["device"])
    checkpoint = runtime.find_checkpoint(config, args.checkpoint)
    config = runtime.config_for_checkpoint(config, checkpoint)
    built = build(config)
    built["model"].load_checkpoint(checkpoint, strict=False)
    transform = built["transform"]
    strategy = "TOP5_CLASS" if args.top_k == 5 else "TOP1_CLASS"
    results = []
    for image_path in args.images:
        logits = built["model"].predict(load_image(transform, image_path))
        results.append((image_path, transform.postprocess(logits[0], strategy)))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run predict.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        results = predict(config, args)
    except (TinyMSError, OSError) as err:
        return runtime.fail(err)
    for image_path, predictions in results:
        ranked = ", ".join(f"{item.label} ({item.score:.4f})" for item in predictions)
        print(f"{image_path}: {ranked}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
