"""Export a checkpoint to MINDIR or ONNX for inference.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

    python export.py [--format ONNX] [--checkpoint PATH] [--output FILE]
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
    parser = argparse.ArgumentParser(description=f"Export {MODEL} ({DATASET}) for inference.")
    runtime.add_standard_arguments(parser, PROJECT_DIR / "config.yaml")
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="checkpoint to export (default: the newest of the latest run)",
    )
    parser.add_argument(
        "--format", choices=["MINDIR", "ONNX"], default="MINDIR", help="file format"
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="file to write (default: export/model.<format> in the checkpoint's run folder)",
    )
    return parser.parse_args(argv)


def build(config: dict[str, Any]) -> dict[str, Any]:
    """Build the network and model that the config names."""
    from tinyms.model import Model, get_network

    name, args = runtime.component(config["network"])
    network = get_network(name, **args)
    return {"network": network, "model": Model(network)}


def export(config: dict[str, Any], args: argparse.Namespace) -> str:
    """Export the checkpoint and return the file written."""
    from tinyms import context

    context.set_device(config["device"])
    checkpoint = runtime.find_checkpoint(config, args.checkpoint)
    config = runtime.config_for_checkpoint(config, checkpoint)
    model = build(config)["model"]
    model.load_checkpoint(checkpoint, strict=True)
    size = config["transform"]["image_size"]
    shape = (1, config["transform"]["channels"], size, size)
    output = args.output
    if output is None:
        output = Path(checkpoint).resolve().parent.parent / "export" / "model"
    return model.export(output, file_format=args.format, input_shape=shape)


def main(argv: list[str] | None = None) -> int:
    """Run export.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        path = export(config, args)
    except TinyMSError as err:
        return runtime.fail(err)
    print(f"Exported: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
