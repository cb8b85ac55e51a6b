"""Train the network on the training split.

Model: {{ cookiecutter.model | identifier }}
Dataset: {{ cookiecutter.dataset | identifier }}

Reads config.yaml, then applies the command-line flags. Trains on the training
split minus the validation part and writes a run folder (runs/run-NNN) with the
resolved config, checkpoints, metrics.csv (one row per epoch) and metrics.png.

Started by MindSpore's msrun launcher, it trains data-parallel: each worker
reads its shard of the training part, --batch-size is per worker, and only
rank 0 writes the run folder and logs (README.md shows the commands).

    python train.py --data-dir DATA --epochs 3
    msrun --worker_num=2 --local_worker_num=2 --master_addr=127.0.0.1 \
        --master_port=8118 --join=True train.py --data-dir DATA
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import tinyms  # noqa: F401  (sets the CPU defaults that must precede MindSpore)
from tinyms import distributed
from tinyms.errors import DatasetError, TinyMSError
from tinyms.generator import runtime

MODEL = {{ cookiecutter.model | py }}
DATASET = {{ cookiecutter.dataset | py }}
PROJECT_DIR = Path(__file__).resolve().parent
# Callbacks that write files or print progress: only rank 0 runs them under msrun.
MAIN_PROCESS_CALLBACKS = ("model_checkpoint", "progress_bar", "loss_monitor", "time_monitor")

logger = logging.getLogger(Path(__file__).stem)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every flag overrides one value of the config."""
    parser = argparse.ArgumentParser(description=f"Train {MODEL} on {DATASET}.")
    runtime.add_standard_arguments(parser, PROJECT_DIR / "config.yaml")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume-from",
        metavar="CKPT",
        help="continue training from a checkpoint of this project (weights, optimizer, epoch)",
    )
    group.add_argument(
        "--pretrained",
        metavar="CKPT",
        help="fine-tune: load the matching weights of a checkpoint, keep a new head",
    )
    parser.add_argument(
        "--distribute",
        action="store_true",
        help="require data-parallel training under MindSpore's msrun launcher (detected "
        "without this flag too); an error when msrun did not start the script",
    )
    return parser.parse_args(argv)


def build(config: dict[str, Any], steps_per_epoch: int = 1) -> dict[str, Any]:
    """Build the network, loss, optimizer, metrics and model that the config names."""
    from tinyms import losses, metrics, optimizers
    from tinyms.model import Model, get_network

    name, args = runtime.component(config["network"])
    network = get_network(name, **args)
    name, args = runtime.component(config["loss"])
    loss = losses.get_loss(name, **args)
    name, args = runtime.component(config["optimizer"])
    schedule, schedule_args = runtime.component(config["lr_schedule"])
    epochs = config["training"]["epochs"]
    if config["training"].get("scale_lr", False):
        # Linear scaling rule: the batch of one step is batch_size x the number of workers.
        args["lr"] = args["lr"] * distributed.group_size()
    args["lr"] = optimizers.get_lr_schedule(
        schedule, args["lr"], steps_per_epoch, epochs, **schedule_args
    )
    optimizer = optimizers.get_optimizer(name, network.trainable_params(), **args)
    metric_objects = {name: metrics.get_metric(name) for name in config["metrics"]}
    model = Model(network)
    model.compile(
        loss_fn=loss,
        optimizer=optimizer,
        metrics=metric_objects,
        amp_level=config["training"].get("amp_level", "O0"),
    )
    return {
        "network": network,
        "loss": loss,
        "optimizer": optimizer,
        "lr": args["lr"],
        "metrics": metric_objects,
        "model": model,
    }


def build_callbacks(config: dict[str, Any], run_dir: Path | None) -> list[Any]:
    """Build the callbacks that the config names, plus the metrics.csv logger.

    ``run_dir`` is None on the workers other than rank 0: they get only the
    callbacks that write nothing (early stopping, history), so every worker
    still stops at the same epoch.
    """
    from tinyms import callbacks

    built = []
    for name, args in config["callbacks"].items():
        if run_dir is None and name in MAIN_PROCESS_CALLBACKS:
            continue
        args = dict(args)
        if "directory" in args:
            args["directory"] = str(run_dir / args["directory"])
        built.append(callbacks.get_callback(name, **args))
    if run_dir is not None:
        built.append(callbacks.CSVLogger(run_dir / "metrics.csv"))
    return built


def load_data(
    config: dict[str, Any], data_root: str, num_samples: int | None = None
) -> tuple[Any, Any]:
    """Return the batched training part and validation part of the training split.

    Under msrun each worker trains on its shard of the training part: rank r
    reads records r, r + workers, ... of the reading order. Every worker
    validates on the whole validation part, so all compute the same validation
    metrics and early stopping agrees. Rank 0 writes them. ``num_samples`` is
    the total over all workers.
    """
    from tinyms.data import get_dataset, split_dataset
    from tinyms.vision import make_transform

    dataset, training = config["dataset"], config["training"]
    _, transform_args = runtime.component(config["transform"])
    if dataset["class_names"] is not None:
        transform_args["class_names"] = dataset["class_names"]
    transform = make_transform(dataset["loader"], **transform_args)
    shuffle = training.get("shuffle", True)
    workers = distributed.group_size()
    options: dict[str, Any] = {"shuffle": shuffle, "num_samples": num_samples}
    if workers > 1 and training["validation_split"] == 0:
        options.update(num_shards=workers, shard_id=distributed.rank())
        if num_samples is not None:  # the loader counts num_samples per shard
            options["num_samples"] = -(-num_samples // workers)
    source = get_dataset(dataset["loader"], data_root, usage="train", **options)
    valid = None
    if training["validation_split"] > 0:
        # Splitting needs the whole training split, so the training part is sharded after it.
        source, valid = split_dataset(source, training["validation_split"], training["seed"])
        valid = transform.apply_ds(valid, batch_size=training["batch_size"])
        if workers > 1:
            distributed.shard_dataset(source, shuffle=shuffle)
    train = transform.apply_ds(source, batch_size=training["batch_size"], training=True)
    return train, valid


def train(config: dict[str, Any], args: argparse.Namespace) -> Path | None:
    """Train as the config says and return the run folder (None on workers other than rank 0)."""
    from tinyms import callbacks, context
    from tinyms.model import Model

    context.set_device(config["device"])
    # Under msrun: join the workers (the scheduler process never returns from here).
    parallel = distributed.init(required=args.distribute)
    if not parallel.is_main:
        logging.getLogger().setLevel(logging.WARNING)
    context.set_seed(config["training"]["seed"])
    dataset = config["dataset"]
    if parallel.distributed and dataset["data_dir"] is None and dataset["download"] is not None:
        raise DatasetError(
            "Data-parallel workers cannot download the dataset together: download it "
            f"once with tinyms.data.download_dataset({dataset['download']!r}, 'data') and "
            "pass --data-dir with the folder it returns."
        )
    data_root = runtime.prepare_data(config, PROJECT_DIR / "data")
    config = runtime.resolve_classes(config, data_root)
    train_ds, valid_ds = load_data(config, data_root, args.num_samples)
    built = build(config, steps_per_epoch=train_ds.get_dataset_size())
    model = built["model"]

    initial_epoch = 0
    if args.resume_from:
        # The compiled model loads the optimizer state and step count too.
        report = model.load_checkpoint(args.resume_from, strict=True)
        initial_epoch = Model.checkpoint_epoch(args.resume_from)
        logger.info(
            "Resumed from %s after epoch %d: %s", args.resume_from, initial_epoch, report.summary()
        )
    elif args.pretrained:
        # A model without an optimizer loads the network weights only: training starts anew.
        report = Model(built["network"]).load_checkpoint(args.pretrained, strict=False)
        logger.info("Loaded pretrained weights from %s: %s", args.pretrained, report.summary())

    run_dir = None
    if parallel.is_main:
        run_dir = runtime.new_run_dir(config["output_dir"])
        runtime.save_config(config, run_dir / "config.yaml")
        logger.info("Run folder: %s", run_dir)
    started = time.perf_counter()
    model.train(
        config["training"]["epochs"],
        train_ds,
        callbacks=build_callbacks(config, run_dir),
        valid_dataset=valid_ds,
        initial_epoch=initial_epoch,
    )
    seconds = time.perf_counter() - started
    if run_dir is None:
        return None
    last = model.history[-1] if model.history else {}
    epoch = int(last.get("epoch", config["training"]["epochs"]))
    final = model.save_checkpoint(run_dir / "checkpoints" / "final.ckpt", epoch=epoch)
    callbacks.plot_metrics(run_dir / "metrics.csv", run_dir / "metrics.png")
    summary = ", ".join(f"{key}={value:.4f}" for key, value in last.items() if key != "epoch")
    print(f"Trained in {seconds:.1f} s; last epoch: {summary}")
    print(f"Checkpoint: {final}")
    return run_dir


def main(argv: list[str] | None = None) -> int:
    """Run train.py; return the exit status."""
    args = parse_args(argv)
    try:
        config = runtime.configure(args)
        train(config, args)
    except TinyMSError as err:
        return runtime.fail(err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
