"""The ``tinyms-new`` command: generate a standardized train/eval/predict/export project.

    tinyms-new --model lenet5 --dataset mnist --output-dir lenet5-mnist
    tinyms-new --list-models

It loads the model and dataset specs, checks them and the ``--set`` overrides
against the schema and the catalog, and renders the template. It imports no
MindSpore.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tinyms
from tinyms.errors import TinyMSError

__all__ = ["build_parser", "generate", "main"]

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``tinyms-new``."""
    parser = argparse.ArgumentParser(
        prog="tinyms-new",
        description="Generate a standardized tinyms project (config.yaml, train.py, eval.py, "
        "predict.py, export.py) for a model and a dataset.",
        epilog="Example: tinyms-new --model lenet5 --dataset mnist_sample --output-dir demo",
    )
    parser.add_argument("--model", help="model spec name (see --list-models)")
    parser.add_argument("--dataset", help="dataset spec name (see --list-datasets)")
    parser.add_argument(
        "--output-dir", type=Path, help="project folder to create (default: ./MODEL-DATASET)"
    )
    parser.add_argument(
        "--device",
        choices=["CPU", "GPU", "Ascend"],
        help="device target written to config.yaml (default: the spec's)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value by dotted key, the value read as YAML, "
        "e.g. --set optimizer.lr=0.01 --set training.epochs=3; repeatable",
    )
    parser.add_argument(
        "--spec",
        dest="spec_files",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="your own model or dataset spec file; it adds a spec or replaces "
        "the installed one of the same name; repeatable",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="update an existing project: files you changed are kept and the "
        "new version is written beside them as FILE.new",
    )
    parser.add_argument(
        "--list-models",
        action="store_true",
        help="list the model specs and the datasets each fits, then exit",
    )
    parser.add_argument(
        "--list-datasets", action="store_true", help="list the dataset specs, then exit"
    )
    parser.add_argument("--version", action="version", version=f"tinyms {tinyms.__version__}")
    return parser


def _spec_record(spec: Any, spec_dir: Path) -> dict[str, str]:
    source = spec.document.source
    if spec.path is not None and spec.path.resolve().is_relative_to(spec_dir.resolve()):
        # Shipped specs are named by package path, so the record is the same on every machine.
        source = "tinyms/spec/" + spec.path.resolve().relative_to(spec_dir.resolve()).as_posix()
    return {
        "name": spec.name,
        "source": source,
        "sha256": hashlib.sha256(spec.text.encode("utf-8")).hexdigest(),
    }


def generate(
    model: str,
    dataset: str,
    output_dir: str | Path | None = None,
    *,
    device: str | None = None,
    overrides: Sequence[str] = (),
    spec_files: Sequence[str | Path] = (),
    force: bool = False,
) -> Any:
    """Generate a project; the Python form of ``tinyms-new``.

    Returns:
        A :class:`~tinyms.generator.render.RenderResult`.

    Raises:
        SpecError: an invalid spec or override (every problem listed).
        ProjectExistsError: the output folder exists and ``force`` is false.
    """
    from tinyms.generator.render import render_project
    from tinyms.generator.resolve import resolve_config
    from tinyms.generator.spec import SpecSet
    from tinyms.generator.yamlio import dump_yaml

    specs = SpecSet(extra=spec_files)
    config = resolve_config(specs, model, dataset, overrides, device)
    slug = config["project"]["name"]
    target = Path(output_dir) if output_dir is not None else Path.cwd() / slug
    config_yaml = dump_yaml(config)
    context = {
        "project_slug": slug,
        "model": model,
        "dataset": dataset,
        "_summary": config["project"]["summary"],
        "_config_yaml": config_yaml.rstrip("\n"),
        "_tinyms_version": tinyms.__version__,
    }
    record = {
        "generator": "tinyms-new",
        "tinyms_version": tinyms.__version__,
        "model_spec": _spec_record(specs.get("model", model), specs.spec_dir),
        "dataset_spec": _spec_record(specs.get("dataset", dataset), specs.spec_dir),
        "overrides": list(overrides) + ([f"--device {device}"] if device else []),
        "config_sha256": hashlib.sha256(config_yaml.encode("utf-8")).hexdigest(),
    }
    return render_project(context, record, target, force=force)


def _list(kind: str, spec_files: Sequence[Path]) -> None:
    from tinyms.generator.spec import SpecSet

    specs = SpecSet(extra=spec_files)
    for name in specs.names(kind):
        data = specs.get(kind, name).data
        line = f"{name:<16} {data['summary']}"
        if kind == "model":
            line += f" [datasets: {', '.join(data['datasets'])}]"
        print(line)


def _report(result: Any) -> None:
    target = result.output_dir
    print(f"Project written to {target}")
    if result.kept:
        print("Kept your changes to these files; the new versions are beside them:")
        for name, new in zip(result.kept, result.new_versions):
            print(f"  {name} -> {new}")
    print(f"Next: cd {json.dumps(str(target))[1:-1]} && python train.py")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tinyms-new``; return the exit status (0 done, 1 invalid input, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.list_models or args.list_datasets:
            if args.list_models:
                _list("model", args.spec_files)
            if args.list_datasets:
                _list("dataset", args.spec_files)
            return 0
        if not args.model or not args.dataset:
            parser.error("--model and --dataset are required (or --list-models, --list-datasets)")
        result = generate(
            args.model,
            args.dataset,
            args.output_dir,
            device=args.device,
            overrides=args.overrides,
            spec_files=args.spec_files,
            force=args.force,
        )
    except TinyMSError as err:
        print(f"tinyms-new: error: {err}", file=sys.stderr)
        return 1
    _report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
