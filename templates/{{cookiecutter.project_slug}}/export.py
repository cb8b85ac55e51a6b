"""Export a checkpoint to MINDIR or ONNX for inference.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

    python export.py [--format MINDIR ONNX] [--checkpoint PATH] [--output FILE]
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
        "--format",
        nargs="+",
        choices=["MINDIR", "ONNX"],
        default=["MINDIR"],
        help="file format; give both to write both files (default: MINDIR)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="file to write, without the extension, which the format adds (default: "
        "export/model in the checkpoint's run folder)",
    )
    return parser.parse_args(argv)


def build(config: dict[str, Any]) -> dict[str, Any]:
    """Build the network and model that the config names."""
    from tinyms.model import Model, get_network

    name, args = runtime.component(config["network"])
    network = get_network(name, **args)
    return {"network": network, "model": Model(network)}


def export(config: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """Export the checkpoint in each requested format; return the files written."""
    from tinyms import context

    context.set_device(config["device"])
    checkpoint = runtime.find_checkpoint(config, args.checkpoint)
    config = runtime.config_for_checkpoint(config, checkpoint)
    model = build(config)["model"]
    model.load_checkpoint(checkpoint, strict=True)
    size = config["transform"]["image_size"]
    shape = (1, config["transform"]["channels"], size, size)
    if args.output is None:
        output = Path(checkpoint).resolve().parent.parent / "export" / "model"
    else:
        output = Path(args.output)
        if output.suffix.lower() in (".mindir", ".onnx"):
            output = output.with_suffix("")  # each format adds its own
    formats = dict.fromkeys(args.format)  # in the order given, without repeats
    return [model.export(output, file_format=fmt, input_shape=shape) for fmt in formats]


def main(argv: list[str] | None = None) -> int:
    """Run export.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        paths = export(config, args)
    except TinyMSError as err:
        return runtime.fail(err)
    for path in paths:
        print(f"Exported: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
