"""Helpers shared by the scripts of a generated project (train, eval, predict, export).

The scripts keep the steps a user may want to change (which objects are built,
how training runs) and call this module for the plumbing they share: reading
``config.yaml`` and applying command-line flags, finding or downloading the
data, counting image-folder classes, run folders and checkpoints. This module
imports no MindSpore; the scripts import the library parts they use.
"""

from __future__ import annotations

import argparse
import copy
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyms.errors import CheckpointError, DatasetError, DownloadError, SpecError
from tinyms.generator.resolve import validate_config
from tinyms.generator.yamlio import dump_yaml, load_yaml

__all__ = [
    "add_standard_arguments",
    "component",
    "config_for_checkpoint",
    "configure",
    "fail",
    "find_checkpoint",
    "latest_checkpoint",
    "load_config",
    "new_run_dir",
    "prepare_data",
    "resolve_classes",
    "save_config",
    "setup_logging",
    "standard_flags",
]

logger = logging.getLogger(__name__)

# Flag destination -> config key path it overrides.
FLAG_KEYS = {
    "data_dir": ("dataset", "data_dir"),
    "epochs": ("training", "epochs"),
    "batch_size": ("training", "batch_size"),
    "lr": ("optimizer", "lr"),
    "device": ("device",),
    "output_dir": ("output_dir",),
    "seed": ("training", "seed"),
}
_RUN_PATTERN = re.compile(r"^run-(\d+)$")


def setup_logging(verbose: bool = False) -> None:
    """Send log records to stderr: INFO by default, DEBUG when ``verbose``."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def add_standard_arguments(parser: argparse.ArgumentParser, config_file: Path) -> None:
    """Add the flags every generated script takes; each overrides one config value."""
    parser.add_argument(
        "--config",
        type=Path,
        default=config_file,
        help="YAML config to read first (default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        help="dataset root (holding train/ and test/) or one "
        "split folder; default: download the dataset into ./data",
    )
    parser.add_argument("--epochs", type=int, help="number of training epochs")
    parser.add_argument("--batch-size", type=int, help="samples per batch")
    parser.add_argument("--lr", type=float, help="base learning rate (optimizer.lr)")
    parser.add_argument("--device", choices=["CPU", "GPU", "Ascend"], help="device target")
    parser.add_argument(
        "--output-dir", help="folder of the run folders (default: runs, beside config.yaml)"
    )
    parser.add_argument("--seed", type=int, help="random seed of weights, shuffling and split")
    parser.add_argument(
        "--num-samples",
        type=int,
        help="read at most this many samples of each split (quick trial runs)",
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages")


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and check a project config.

    Raises:
        SpecError: the file is missing or invalid, every problem listed with its line.
    """
    document = load_yaml(path)
    return validate_config(document.data, document.where, document.raw)


def configure(args: argparse.Namespace) -> dict[str, Any]:
    """Load ``args.config``, apply the flags that were given, and check the result.

    Relative ``output_dir`` and ``data_dir`` values in the file are taken
    relative to the config file's folder; flag values relative to the working
    directory.
    """
    setup_logging(getattr(args, "verbose", False))
    config_path = Path(args.config)
    config = load_config(config_path)
    base = config_path.resolve().parent
    config["output_dir"] = str(base / config["output_dir"])
    if config["dataset"]["data_dir"] is not None:
        config["dataset"]["data_dir"] = str(base / config["dataset"]["data_dir"])

    sources = {}
    for dest, path in FLAG_KEYS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        if dest in ("data_dir", "output_dir"):
            value = str(Path(value).resolve())
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        sources[path] = "--" + dest.replace("_", "-")
    return validate_config(config, lambda path: sources.get(path, str(config_path)))


def component(section: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split a config component into its catalog name and its arguments."""
    args = {key: value for key, value in section.items() if key != "name"}
    return section["name"], args


def prepare_data(config: dict[str, Any], download_dir: str | Path) -> str:
    """Return the dataset folder: ``dataset.data_dir``, or a fresh download.

    Raises:
        DatasetError: no data folder and the dataset cannot be downloaded.
        DownloadError: the download failed; the message explains how to use local
            files or a mirror instead.
    """
    dataset = config["dataset"]
    if dataset["data_dir"] is not None:
        path = Path(dataset["data_dir"])
        if not path.exists():
            raise DatasetError(
                f"The data folder {str(path)!r} does not exist; pass --data-dir "
                "with the dataset root (holding train/ and test/)."
            )
        return str(path)
    if dataset["download"] is None:
        raise DatasetError(
            f"The dataset {dataset['name']!r} cannot be downloaded; pass "
            "--data-dir with its folder (train/<class>/<image> and "
            "test/<class>/<image>) or set dataset.data_dir in config.yaml."
        )

    from tinyms.data import MIRROR_ENV, download_dataset

    logger.info("No --data-dir given: downloading %r into %s", dataset["download"], download_dir)
    try:
        return download_dataset(dataset["download"], local_path=download_dir)
    except DownloadError as err:
        raise DownloadError(
            f"{err}\nTo train without a download, pass --data-dir with a folder holding "
            f"train/ and test/ in the dataset's format, or set {MIRROR_ENV} to a mirror URL "
            "or a local folder with the original files."
        ) from err


def resolve_classes(config: dict[str, Any], data_root: str | Path) -> dict[str, Any]:
    """Replace ``class_num: auto`` by the class folders found under the data folder.

    The classes are the sub-folders of ``<root>/train`` (or of ``<root>``
    itself when it has no ``train/``), in sorted order, as the image-folder
    loader numbers them.
    """
    dataset = config["dataset"]
    if dataset["class_num"] != "auto":
        return config
    root = Path(data_root)
    folder = root / "train" if (root / "train").is_dir() else root
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and not entry.name.startswith(".")
    )
    if len(names) < 2:
        raise DatasetError(
            f"Found {len(names)} class folder(s) in {str(folder)!r}; expected "
            "at least 2, one folder of images per class."
        )
    logger.info("Found %d classes in %s: %s", len(names), folder, ", ".join(names))
    config = copy.deepcopy(config)
    dataset = config["dataset"]
    dataset["class_num"] = len(names)
    dataset["class_names"] = names
    from tinyms import catalog

    class_num_arg = catalog.network_info(config["network"]["name"]).get("class_num_arg")
    if class_num_arg:
        config["network"][class_num_arg] = len(names)
    return config


def new_run_dir(output_dir: str | Path) -> Path:
    """Create and return the next run folder, ``<output_dir>/run-NNN``."""
    root = Path(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [
        int(match.group(1)) for entry in root.iterdir() if (match := _RUN_PATTERN.match(entry.name))
    ]
    number = max(numbers, default=0) + 1
    while True:
        path = root / f"run-{number:03d}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another process took this number
            number += 1


def latest_checkpoint(output_dir: str | Path) -> Path:
    """Return the newest checkpoint of the latest run under ``output_dir``.

    Raises:
        CheckpointError: no run folder contains a checkpoint.
    """
    root = Path(output_dir)
    runs = sorted(
        (int(match.group(1)), entry)
        for entry in root.glob("run-*")
        if (match := _RUN_PATTERN.match(entry.name)) and entry.is_dir()
    )
    for _, run in reversed(runs):
        files = sorted(run.glob("checkpoints/*.ckpt"), key=lambda p: (p.stat().st_mtime, p.name))
        if files:
            return files[-1]
    raise CheckpointError(
        f"No checkpoint found under {str(root)!r}; run train.py first or pass --checkpoint PATH."
    )


def config_for_checkpoint(config: dict[str, Any], checkpoint: str | Path) -> dict[str, Any]:
    """Take the network, transform and classes from the run that wrote ``checkpoint``.

    A run folder keeps the config it trained with; its network and classes are
    what the checkpoint holds, even if ``config.yaml`` changed since. Without
    such a file (a checkpoint from elsewhere) ``config`` is returned as is.
    """
    run_config = Path(checkpoint).resolve().parent.parent / "config.yaml"
    if not run_config.is_file():
        return config
    try:
        trained = load_config(run_config)
    except SpecError as err:
        logger.warning("Ignoring the run config %s: %s", run_config, err)
        return config
    config = copy.deepcopy(config)
    config["network"] = trained["network"]
    config["transform"] = trained["transform"]
    for key in ("class_num", "class_names"):
        config["dataset"][key] = trained["dataset"][key]
    return config


def save_config(config: dict[str, Any], path: str | Path) -> Path:
    """Write a config as YAML that :func:`load_config` reads back unchanged."""
    path = Path(path)
    path.write_text(dump_yaml(config), encoding="utf-8")
    return path


def fail(error: Exception) -> int:
    """Print a tinyms error for a command-line user and return exit status 1."""
    print(f"error: {error}", file=sys.stderr)
    return 1


def find_checkpoint(config: dict[str, Any], checkpoint: str | None) -> Path:
    """Return ``checkpoint`` if given (it must exist), else the latest run's newest one."""
    if checkpoint is None:
        return latest_checkpoint(config["output_dir"])
    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(
            f"The checkpoint {checkpoint!r} does not exist; pass the path of "
            "a .ckpt file, or leave --checkpoint out to use the latest run's."
        )
    return path


def standard_flags() -> Sequence[str]:
    """Return the flags every generated script accepts."""
    return (
        "--config",
        "--data-dir",
        "--epochs",
        "--batch-size",
        "--lr",
        "--device",
        "--output-dir",
        "--seed",
    )
