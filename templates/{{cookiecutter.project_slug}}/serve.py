"""Serve the trained model over HTTP: a REST API and a web page.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

Runs in the foreground until Ctrl-C or SIGTERM, on http://127.0.0.1:5000 by
default (the API is described at /openapi.json).

    python serve.py [--checkpoint PATH | --mindir PATH] [--host 127.0.0.1] [--port 5000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tinyms  # noqa: F401  (sets the CPU defaults that must precede MindSpore)
from tinyms.errors import TinyMSError
from tinyms.generator import runtime

MODEL = {{ cookiecutter.model | py }}
DATASET = {{ cookiecutter.dataset | py }}
PROJECT_DIR = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every flag overrides one value of the config."""
    parser = argparse.ArgumentParser(description=f"Serve {MODEL} ({DATASET}) over HTTP.")
    runtime.add_standard_arguments(parser, PROJECT_DIR / "config.yaml")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="checkpoint to serve (default: the newest of the latest run)",
    )
    weights.add_argument("--mindir", metavar="PATH", help="MINDIR file to serve instead")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s; 0.0.0.0 accepts other machines)",
    )
    parser.add_argument("--port", type=int, default=5000, help="port (default: %(default)s)")
    return parser.parse_args(argv)


def serve(config: dict, args: argparse.Namespace) -> None:
    """Load the model named by the config and serve it until stopped."""
    from tinyms import context
    from tinyms.serving import ServingConfig, run_server, spec_from_project

    context.set_device(config["device"])
    if args.mindir:
        spec = spec_from_project(config, mindir=args.mindir)
    else:
        checkpoint = runtime.find_checkpoint(config, args.checkpoint)
        config = runtime.config_for_checkpoint(config, checkpoint)
        spec = spec_from_project(config, checkpoint=checkpoint)
    run_server(ServingConfig((spec,)), host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    """Run serve.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        serve(config, args)
    except (TinyMSError, OSError) as err:
        return runtime.fail(err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
