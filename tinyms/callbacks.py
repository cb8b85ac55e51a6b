"""Training callbacks.

tinyms's :class:`~tinyms.model.Model` records one log per epoch: ``epoch``,
``loss`` (the mean training loss of the epoch) and, when training validates,
``val_loss`` and ``val_<metric name>`` for each compiled metric. The callbacks
here read that log (``epoch_logs(run_context)``), so ``EarlyStopping`` and the
CSV logger see the same numbers that ``model.history`` keeps. MindSpore's own
callbacks (LossMonitor, TimeMonitor, LambdaCallback, ...) are re-exported.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from mindspore.train import (
    Callback,
    LambdaCallback,
    LearningRateScheduler,
    LossMonitor,
    ReduceLROnPlateau,
    RunContext,
    TimeMonitor,
)

from tinyms._registry import Registry
from tinyms.errors import InvalidArgumentError
from tinyms.model.checkpoint import save_checkpoint_atomic

__all__ = [
    "CALLBACKS",
    "get_callback",
    "list_callbacks",
    "epoch_logs",
    "final_epoch",
    "Callback",
    "RunContext",
    "CheckpointConfig",
    "LambdaCallback",
    "LearningRateScheduler",
    "LossMonitor",
    "ReduceLROnPlateau",
    "TimeMonitor",
    "ModelCheckpoint",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "CSVLogger",
    "plot_metrics",
    "model_cb",
    "lenet5_cb",
    "alexnet_cb",
    "vgg11_cb",
    "vgg13_cb",
    "vgg16_cb",
    "vgg19_cb",
    "resnet18_cb",
    "resnet34_cb",
    "resnet50_cb",
    "resnet101_cb",
    "mobilenetv2_cb",
    "densenet100_cb",
]

logger = logging.getLogger(__name__)

LOGS_KEY = "tinyms_epoch_logs"
FINAL_EPOCH_KEY = "tinyms_final_epoch"


def final_epoch(run_context: RunContext) -> int:
    """Return the last epoch number of the run (``epoch`` given to ``Model.train``)."""
    cb_params = run_context.original_args()
    return int(getattr(cb_params, FINAL_EPOCH_KEY, None) or cb_params.epoch_num)


def epoch_logs(run_context: RunContext) -> dict[str, float]:
    """Return the current epoch's log (empty before the first epoch ends)."""
    return dict(getattr(run_context.original_args(), LOGS_KEY, None) or {})


def scalar_loss(outputs: Any) -> float:
    """Return the loss of one training step's outputs as a float."""
    if isinstance(outputs, (tuple, list)):
        outputs = outputs[0]
    value = outputs.asnumpy() if hasattr(outputs, "asnumpy") else np.asarray(outputs)
    return float(np.mean(value))


class EpochLog(Callback):
    """Builds the per-epoch log that the other callbacks and ``model.history`` read.

    ``Model.train`` puts it first in the callback list; users do not add it.
    """

    def __init__(
        self, history: list[dict[str, float]], metric_names: list[str], final_epoch: int
    ):
        super().__init__()
        self.history = history
        self.metric_names = metric_names
        self.final_epoch = final_epoch
        self._losses: list[Any] = []

    def on_train_begin(self, run_context: RunContext) -> None:
        # MindSpore's epoch_num counts the epochs of this call, not the last epoch number.
        setattr(run_context.original_args(), FINAL_EPOCH_KEY, self.final_epoch)

    def on_train_epoch_begin(self, run_context: RunContext) -> None:
        self._losses = []

    def on_train_step_end(self, run_context: RunContext) -> None:
        # The Tensor is kept and converted once per epoch, so no step waits on the host.
        self._losses.append(run_context.original_args().net_outputs)

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        cb_params = run_context.original_args()
        logs: dict[str, float] = {"epoch": int(cb_params.cur_epoch_num)}
        losses = [scalar_loss(item) for item in self._losses]
        logs["loss"] = float(np.mean(losses)) if losses else math.nan
        results = cb_params.get("eval_results") or {}
        if "eval_loss" in results:
            logs["val_loss"] = float(results["eval_loss"])
        for name in self.metric_names:
            if name in results:
                logs[f"val_{name}"] = _as_float(results[name])
        setattr(cb_params, LOGS_KEY, logs)
        self.history.append(logs)


def _as_float(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    return float(array.mean()) if array.size != 1 else float(array.reshape(()))


class History(Callback):
    """Keeps every epoch's log in ``self.epochs`` (a list of dicts)."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[dict[str, float]] = []

    def on_train_begin(self, run_context: RunContext) -> None:
        self.epochs = []

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        self.epochs.append(epoch_logs(run_context))


class MonitorMixin:
    """Checks before training that the monitored quantity will exist."""

    monitor: str

    def check_monitor(self, available: list[str]) -> None:
        """Raise InvalidArgumentError when nothing produces ``self.monitor``."""
        if self.monitor not in available:
            raise InvalidArgumentError(
                f"{type(self).__name__}: monitor={self.monitor!r} is not produced by this "
                f"training run. Available: {', '.join(available)}. Use 'loss', or pass "
                "valid_dataset to train() and compile metrics to monitor 'val_loss' or "
                "'val_<metric name>'."
            )


class EarlyStopping(MonitorMixin, Callback):
    """Stops training when the monitored quantity has stopped improving.

    Args:
        monitor: ``'loss'``, ``'val_loss'`` or ``'val_<metric name>'``.
        patience: Epochs with no improvement after which training stops (0 stops
            at the first epoch that does not improve). Default 5.
        min_delta: Smallest change that counts as an improvement. Default 0.
        mode: ``'min'``, ``'max'``, or ``'auto'`` (max for accuracy-like names,
            min for losses). Default ``'auto'``.
        restore_best_weights: Load the best epoch's weights when training ends,
            whether or not it stopped early. Default True.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise InvalidArgumentError(f"Invalid mode {mode!r}; expected 'auto', 'min' or 'max'.")
        if patience < 0 or min_delta < 0:
            raise InvalidArgumentError(
                f"patience ({patience!r}) and min_delta ({min_delta!r}) must be >= 0."
            )
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        if mode == "auto":
            mode = "min" if "loss" in monitor else "max"
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch = 0
        self.stopped_epoch = 0
        self._wait = 0
        self._best_weights: dict[str, np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, run_context: RunContext) -> None:
        self.best, self.best_epoch, self.stopped_epoch, self._wait = None, 0, 0, 0
        self._best_weights = None

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        logs = epoch_logs(run_context)
        if self.monitor not in logs:  # validation may run every few epochs only
            return
        value = logs[self.monitor]
        network = run_context.original_args().network
        if self._improved(value):
            self.best, self.best_epoch, self._wait = value, logs["epoch"], 0
            if self.restore_best_weights:
                self._best_weights = {
                    name: param.asnumpy().copy()
                    for name, param in network.parameters_and_names()
                }
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = logs["epoch"]
            logger.info(
                "Early stopping at epoch %d: %s did not improve on %.6g (epoch %d) for %d epochs",
                self.stopped_epoch, self.monitor, self.best, self.best_epoch, self._wait,
            )
            run_context.request_stop()

    def on_train_end(self, run_context: RunContext) -> None:
        if not self.restore_best_weights or self._best_weights is None:
            return
        from mindspore import Tensor

        network = run_context.original_args().network
        for name, param in network.parameters_and_names():
            if name in self._best_weights:
                param.set_data(Tensor(self._best_weights[name]))
        logger.info("Restored the weights of epoch %d (%s=%.6g)",
                    self.best_epoch, self.monitor, self.best)


@dataclasses.dataclass
class CheckpointConfig:
    """When :class:`ModelCheckpoint` saves, with MindSpore's argument names.

    Attributes:
        save_checkpoint_steps: Steps between saves; used only when
            ``save_checkpoint_epochs`` is None.
        save_checkpoint_epochs: Epochs between saves. Default 1.
        keep_checkpoint_max: Newest files kept; older ones are deleted. Default 5.
    """

    save_checkpoint_steps: int | None = None
    save_checkpoint_epochs: int | None = 1
    keep_checkpoint_max: int = 5

    def __post_init__(self) -> None:
        for name in ("save_checkpoint_steps", "save_checkpoint_epochs"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidArgumentError(
                    f"Invalid {name} {value!r}; expected an integer >= 1 or None."
                )
        if self.save_checkpoint_steps is None and self.save_checkpoint_epochs is None:
            raise InvalidArgumentError(
                "CheckpointConfig needs save_checkpoint_epochs or save_checkpoint_steps."
            )
        if not isinstance(self.keep_checkpoint_max, int) or self.keep_checkpoint_max < 1:
            raise InvalidArgumentError(
                f"Invalid keep_checkpoint_max {self.keep_checkpoint_max!r}; "
                "expected an integer >= 1."
            )


class ModelCheckpoint(Callback):
    """Saves checkpoints atomically during training.

    The training network is saved, so the file holds the optimizer state (for
    resuming) beside the weights, and the epoch number under ``epoch_num``.

    Args:
        prefix: File name prefix; files are ``<prefix>-<epoch>_<step>.ckpt``.
        directory: Folder of the files. Default: the working directory.
        config: A :class:`CheckpointConfig`; ``save_checkpoint_epochs`` (default 1),
            ``save_checkpoint_steps`` (used when epochs is None) and
            ``keep_checkpoint_max`` apply.
    """

    def __init__(
        self, prefix: str = "model", directory: str | None = None,
        config: CheckpointConfig | None = None,
    ):
        super().__init__()
        config = config or CheckpointConfig()
        self.prefix = prefix
        self.directory = Path(directory or ".")
        self.save_epochs = config.save_checkpoint_epochs
        self.save_steps = config.save_checkpoint_steps if not self.save_epochs else None
        self.keep_max = config.keep_checkpoint_max
        self.saved: list[str] = []

    def _save(self, run_context: RunContext) -> None:
        cb_params = run_context.original_args()
        step = int(cb_params.cur_step_num)
        epoch = int(cb_params.cur_epoch_num)
        name = f"{self.prefix}-{epoch}_{step}.ckpt"
        path = save_checkpoint_atomic(
            cb_params.train_network, self.directory / name,
            append_dict={"epoch_num": epoch, "step_num": step},
        )
        if path in self.saved:
            self.saved.remove(path)
        self.saved.append(path)
        while self.keep_max and len(self.saved) > self.keep_max:
            old = self.saved.pop(0)
            try:
                os.chmod(old, 0o600)
                os.remove(old)
            except OSError as err:
                logger.warning("Could not remove old checkpoint %s: %s", old, err)

    def on_train_step_end(self, run_context: RunContext) -> None:
        if self.save_steps and run_context.original_args().cur_step_num % self.save_steps == 0:
            self._save(run_context)

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        if self.save_epochs and run_context.original_args().cur_epoch_num % self.save_epochs == 0:
            self._save(run_context)

    @property
    def latest(self) -> str | None:
        """The newest checkpoint written, or None."""
        return self.saved[-1] if self.saved else None


class ProgressBar(Callback):
    """Shows steps, loss and ETA on a terminal (tqdm); one plain line per epoch otherwise.

    Args:
        stream: Where to write. Default ``sys.stdout``.
        force_tty: Override the terminal check (``None``: ask ``stream.isatty()``).
    """

    def __init__(self, stream: TextIO | None = None, force_tty: bool | None = None):
        super().__init__()
        self.stream = stream
        self.force_tty = force_tty
        self._bar: Any = None
        self._start = 0.0

    def _out(self) -> TextIO:
        return self.stream or sys.stdout

    def _is_tty(self) -> bool:
        if self.force_tty is not None:
            return self.force_tty
        return bool(getattr(self._out(), "isatty", lambda: False)())

    def on_train_epoch_begin(self, run_context: RunContext) -> None:
        self._start = time.perf_counter()
        cb_params = run_context.original_args()
        if self._is_tty():
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=cb_params.batch_num, file=self._out(), leave=True, unit="step",
                desc=f"epoch {cb_params.cur_epoch_num}/{final_epoch(run_context)}",
            )

    def on_train_step_end(self, run_context: RunContext) -> None:
        if self._bar is not None:
            self._bar.update(1)
            step = run_context.original_args().cur_step_num
            if step % 20 == 0:  # a host sync for the loss every 20 steps only
                self._bar.set_postfix(loss=f"{scalar_loss(run_context.original_args().net_outputs):.4f}")

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        logs = epoch_logs(run_context)
        seconds = time.perf_counter() - self._start
        cb_params = run_context.original_args()
        text = ", ".join(f"{key} {value:.4f}" for key, value in logs.items() if key != "epoch")
        epoch = logs.get("epoch", cb_params.cur_epoch_num)
        line = f"epoch {epoch}/{final_epoch(run_context)}: {text} ({seconds:.1f} s)"
        if self._bar is not None:
            self._bar.set_postfix_str(text)
            self._bar.close()
            self._bar = None
        else:
            print(line, file=self._out(), flush=True)


class CSVLogger(Callback):
    """Writes one CSV row per epoch (``epoch, loss, val_loss, val_<metric>...``).

    The header is written with the first row; rows are flushed as they come, so
    the file is readable while training runs.
    """

    def __init__(self, path: str | os.PathLike):
        super().__init__()
        self.path = Path(path)
        self._fields: list[str] | None = None

    def on_train_begin(self, run_context: RunContext) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fields = None

    def on_train_epoch_end(self, run_context: RunContext) -> None:
        logs = epoch_logs(run_context)
        if self._fields is None:
            self._fields = list(logs)
            with open(self.path, "w", newline="", encoding="utf-8") as handle:
                csv.DictWriter(handle, self._fields).writeheader()
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, self._fields, extrasaction="ignore")
            writer.writerow({key: logs.get(key, "") for key in self._fields})


def plot_metrics(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> str:
    """Plot the training curves of a :class:`CSVLogger` file into a PNG.

    One panel per quantity (loss, then each metric), the training value and the
    validation value (``val_`` prefix) on the same panel.

    Returns:
        The PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise InvalidArgumentError(f"No rows in {str(csv_path)!r}; train at least one epoch first.")
    columns = [name for name in rows[0] if name != "epoch"]
    quantities = sorted({name.removeprefix("val_") for name in columns},
                        key=lambda name: (name != "loss", name))
    epochs = [int(row["epoch"]) for row in rows]
    figure, axes = plt.subplots(1, len(quantities), figsize=(4.5 * len(quantities), 3.5),
                                squeeze=False)
    for axis, quantity in zip(axes[0], quantities):
        for column, label in ((quantity, "train"), (f"val_{quantity}", "validation")):
            if column in columns:
                values = [float(row[column]) if row[column] != "" else math.nan for row in rows]
                axis.plot(epochs, values, marker="o", label=label)
        axis.set_title(quantity)
        axis.set_xlabel("epoch")
        axis.legend()
        axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)
    plt.close(figure)
    return str(png_path)


CALLBACKS = Registry("callback")


@CALLBACKS.register("loss_monitor")
def _loss_monitor(*, per_print_steps: int) -> Callback:
    return LossMonitor(per_print_steps)


@CALLBACKS.register("time_monitor")
def _time_monitor() -> Callback:
    return TimeMonitor()


@CALLBACKS.register("progress_bar")
def _progress_bar() -> Callback:
    return ProgressBar()


@CALLBACKS.register("model_checkpoint")
def _model_checkpoint(
    *, directory: str, prefix: str, save_checkpoint_epochs: int, keep_checkpoint_max: int
) -> Callback:
    config = CheckpointConfig(
        save_checkpoint_steps=None, save_checkpoint_epochs=save_checkpoint_epochs,
        keep_checkpoint_max=keep_checkpoint_max,
    )
    return ModelCheckpoint(prefix=prefix, directory=directory, config=config)


@CALLBACKS.register("early_stopping")
def _early_stopping(
    *, monitor: str, patience: int, min_delta: float, mode: str, restore_best_weights: bool
) -> Callback:
    return EarlyStopping(monitor, patience, min_delta, mode, restore_best_weights)


@CALLBACKS.register("history")
def _history() -> Callback:
    return History()


def get_callback(name: str, **kwargs: Any) -> Callback:
    """Build a callback by catalog name, e.g. ``get_callback('early_stopping', patience=3)``."""
    return CALLBACKS.build(name, **kwargs)


def list_callbacks() -> list[str]:
    """Return the registered callback names."""
    return CALLBACKS.names()


def model_cb(
    model_name: str,
    device_target: str = "CPU",
    lr: Any = None,
    is_saving_checkpoint: bool = True,
    save_checkpoint_epochs: int = 1,
    step_size: int = 1,
    directory: str = "checkpoints",
) -> list[Callback]:
    """Return the standard training callbacks of a zoo network.

    A time monitor and a loss monitor, a learning-rate log when ``lr`` is given,
    and a :class:`ModelCheckpoint` writing ``<model>-<device>-<epoch>_<step>.ckpt``.

    Args:
        model_name: A catalog network name, e.g. ``'mobilenetv2'``.
        device_target: ``'CPU'``, ``'GPU'`` or ``'Ascend'``; named in the
            checkpoint prefix so runs on different devices do not collide.
        lr: The per-step learning-rate list (from ``get_lr_schedule``) or one
            rate; when given, the current rate is logged after every epoch.
        is_saving_checkpoint: Add a :class:`ModelCheckpoint`.
        save_checkpoint_epochs: Epochs between checkpoints.
        step_size: Steps per epoch, for the monitors' per-step figures.
        directory: Folder of the checkpoints.

    Raises:
        UnknownNameError: ``model_name`` is not a catalog network.
        InvalidArgumentError: an invalid device target or step size.
    """
    from tinyms import catalog
    from tinyms.context import DEVICE_TARGETS

    catalog.entry("network", model_name)
    if device_target not in DEVICE_TARGETS:
        raise InvalidArgumentError(
            f"Invalid device_target {device_target!r}; "
            f"expected one of {', '.join(DEVICE_TARGETS)}."
        )
    if not isinstance(step_size, int) or step_size < 1:
        raise InvalidArgumentError(f"Invalid step_size {step_size!r}; expected an integer >= 1.")
    callbacks: list[Callback] = [
        TimeMonitor(data_size=step_size),
        LossMonitor(per_print_times=step_size),
    ]
    if lr is not None:
        rates = list(lr) if isinstance(lr, (list, tuple)) else [float(lr)]

        def log_lr(run_context: RunContext) -> None:
            step = int(run_context.original_args().cur_step_num) - 1
            logger.info("learning rate %.6g", rates[min(step, len(rates) - 1)])

        callbacks.append(LambdaCallback(on_train_epoch_end=log_lr))
    if is_saving_checkpoint:
        config = CheckpointConfig(save_checkpoint_steps=None,
                                  save_checkpoint_epochs=save_checkpoint_epochs,
                                  keep_checkpoint_max=10)
        callbacks.append(ModelCheckpoint(prefix=f"{model_name}-{device_target.lower()}",
                                         directory=directory, config=config))
    return callbacks


def _named_model_cb(model_name: str) -> Any:
    def factory(
        device_target: str = "CPU",
        lr: Any = None,
        is_saving_checkpoint: bool = True,
        save_checkpoint_epochs: int = 1,
        step_size: int = 1,
        directory: str = "checkpoints",
    ) -> list[Callback]:
        return model_cb(model_name, device_target, lr, is_saving_checkpoint,
                        save_checkpoint_epochs, step_size, directory)

    factory.__name__ = factory.__qualname__ = f"{model_name}_cb"
    factory.__doc__ = (
        f"Return the {model_name} training callbacks; ``model_cb('{model_name}', ...)``, "
        "whose documentation lists the arguments."
    )
    return factory


# The design note's per-model factories, one per zoo network, all built by model_cb.
lenet5_cb = _named_model_cb("lenet5")
alexnet_cb = _named_model_cb("alexnet")
vgg11_cb = _named_model_cb("vgg11")
vgg13_cb = _named_model_cb("vgg13")
vgg16_cb = _named_model_cb("vgg16")
vgg19_cb = _named_model_cb("vgg19")
resnet18_cb = _named_model_cb("resnet18")
resnet34_cb = _named_model_cb("resnet34")
resnet50_cb = _named_model_cb("resnet50")
resnet101_cb = _named_model_cb("resnet101")
mobilenetv2_cb = _named_model_cb("mobilenetv2")
densenet100_cb = _named_model_cb("densenet100")
