"""The Keras-style ``Model``: compile, train, eval, predict, checkpoints, export."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import mindspore as ms
import numpy as np
from mindspore import nn

from tinyms.context import check_run_mode, run_mode
from tinyms.errors import InvalidArgumentError
from tinyms.model.checkpoint import (
    LoadReport,
    load_matching,
    read_checkpoint,
    save_checkpoint_atomic,
)

__all__ = ["Model"]

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("MINDIR", "ONNX", "AIR")


def _metric_dict(metrics: Any) -> dict[str, Any]:
    """Normalize metrics given as a dict, a list/tuple/set of names or objects, or one item."""
    from tinyms.metrics import Metric, get_metric

    if metrics is None:
        return {}
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    elif isinstance(metrics, (list, tuple, set, frozenset)):
        items = []
        for item in metrics:
            if isinstance(item, str):
                items.append((item, item))
            elif isinstance(item, Metric):
                items.append((type(item).__name__, item))
            else:
                raise InvalidArgumentError(
                    f"Invalid metric {item!r}; expected a catalog name or a Metric instance."
                )
    else:
        raise InvalidArgumentError(
            f"Invalid metrics {metrics!r}; expected a dict of name -> Metric, or a list of "
            "catalog names or Metric instances."
        )
    result = {}
    for name, value in items:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"Invalid metric name {name!r}; expected a non-empty string."
            )
        result[name] = get_metric(value) if isinstance(value, str) else value
        if not isinstance(result[name], Metric):
            raise InvalidArgumentError(
                f"Invalid metric {name!r}={value!r}; expected a catalog name or a Metric instance."
            )
    return result


class Model:
    """A network with its loss, optimizer and metrics, trained and evaluated in one call.

    Example::

        model = Model(lenet5(class_num=10))
        model.compile(loss_fn='softmax_cross_entropy', optimizer='momentum',
                      metrics=['accuracy'])
        model.train(5, train_ds, valid_dataset=valid_ds)
        print(model.eval(test_ds))   # {'accuracy': 0.98}

    Speed: ``train``, ``eval`` and ``predict`` run in MindSpore's graph mode by
    default (the network compiled once per input shape), whatever mode the
    global context holds, and restore that mode afterwards. MindSpore 2.10
    starts in PyNative mode, which runs each operator on its own and waits for
    it. Graph mode gave the same results with LeNet5 training 4x to 9x faster
    on a 2-core CPU (see ``benchmarks/README.md``). Pass ``mode='context'`` to keep the global mode
    (for example PyNative to debug a network step by step).

    Args:
        network: The network (a ``tinyms.layers.Layer``).
        mode: ``'graph'`` (default), ``'pynative'``, or ``'context'`` (keep the
            mode set with ``tinyms.context.set_context``).
    """

    def __init__(self, network: nn.Cell, *, mode: str = "graph"):
        if not isinstance(network, nn.Cell):
            raise InvalidArgumentError(
                f"Model expects a network (a tinyms.layers.Layer / mindspore.nn.Cell); got "
                f"{type(network).__name__}. Build one with tinyms.model.get_network(name)."
            )
        self.network = network
        self.mode = check_run_mode(mode)
        self.loss_fn: nn.Cell | None = None
        self.optimizer: nn.Optimizer | None = None
        self.metrics: dict[str, Any] = {}
        self.amp_level = "O0"
        self.history: list[dict[str, float]] = []
        self._ms_model: ms.train.Model | None = None
        self._ms_key: tuple[Any, ...] | None = None

    # -- configuration -------------------------------------------------------------
    def compile(
        self,
        loss_fn: nn.Cell | str | None = None,
        optimizer: nn.Optimizer | str | None = None,
        metrics: Any = None,
        amp_level: str | None = None,
    ) -> Model:
        """Set the loss, optimizer, metrics and mixed-precision level.

        Only what is given is replaced, so ``compile(loss_fn=..., optimizer=...)``
        followed by ``compile(metrics=...)`` keeps all three. Names are catalog
        names built with their default arguments (``'momentum'``, ``'accuracy'``).

        Args:
            loss_fn: A loss Cell or a catalog loss name.
            optimizer: An optimizer or a catalog optimizer name.
            metrics: ``{'name': Metric}``, or a list of catalog names or Metrics.
            amp_level: MindSpore's mixed-precision level, ``'O0'`` (none) to ``'O3'``.

        Returns:
            The model itself.
        """
        from tinyms.losses import get_loss
        from tinyms.optimizers import get_optimizer

        if loss_fn is not None:
            self.loss_fn = get_loss(loss_fn) if isinstance(loss_fn, str) else loss_fn
        if optimizer is not None:
            if isinstance(optimizer, str):
                optimizer = get_optimizer(optimizer, self.network.trainable_params())
            if not isinstance(optimizer, nn.Optimizer):
                raise InvalidArgumentError(
                    f"Invalid optimizer {optimizer!r}; expected a catalog name or a "
                    "tinyms.optimizers.Optimizer."
                )
            self.optimizer = optimizer
        if metrics is not None:
            self.metrics = _metric_dict(metrics)
        if amp_level is not None:
            if amp_level not in ("O0", "O1", "O2", "O3", "auto"):
                raise InvalidArgumentError(
                    f"Invalid amp_level {amp_level!r}; expected 'O0', 'O1', 'O2', 'O3' or 'auto'."
                )
            self.amp_level = amp_level
        return self

    def _ms(self, *, need_optimizer: bool = False, need_loss: bool = False) -> ms.train.Model:
        if need_loss and self.loss_fn is None:
            raise InvalidArgumentError(
                "No loss function: call model.compile(loss_fn=...) first, e.g. "
                "loss_fn='softmax_cross_entropy'."
            )
        if need_optimizer and self.optimizer is None:
            raise InvalidArgumentError(
                "No optimizer: call model.compile(optimizer=...) first, e.g. optimizer='momentum'."
            )
        key = (id(self.loss_fn), id(self.optimizer), tuple(self.metrics.items()), self.amp_level)
        if self._ms_model is None or key != self._ms_key:
            self._ms_model = ms.train.Model(
                self.network, loss_fn=self.loss_fn, optimizer=self.optimizer,
                metrics=dict(self.metrics) or None, amp_level=self.amp_level,
            )
            self._ms_key = key
        return self._ms_model

    # -- training and evaluation ------------------------------------------------------
    def train(
        self,
        epoch: int,
        train_dataset: Any,
        callbacks: Any = None,
        valid_dataset: Any = None,
        valid_frequency: int = 1,
        dataset_sink_mode: bool = False,
        initial_epoch: int = 0,
    ) -> list[dict[str, float]]:
        """Train for ``epoch`` epochs, validating on ``valid_dataset`` if given.

        Args:
            epoch: The last epoch number to reach (as Keras's ``epochs``): with
                ``initial_epoch=2`` and ``epoch=5``, epochs 3 to 5 run.
            train_dataset: A batched MindSpore dataset of ``(image, label)``.
            callbacks: A callback or a list of callbacks.
            valid_dataset: A batched dataset evaluated after every
                ``valid_frequency`` epochs; adds ``val_loss`` and
                ``val_<metric>`` to the epoch logs.
            valid_frequency: Epochs between validations.
            dataset_sink_mode: MindSpore's data sinking (device-side data loop).
            initial_epoch: Epochs already done (when resuming).

        Returns:
            The logs of the epochs run, one dict per epoch (also appended to
            ``model.history``).

        Raises:
            InvalidArgumentError: bad counts, no loss or optimizer compiled, or a
                callback monitoring a quantity that this run does not produce.
        """
        from tinyms.callbacks import EpochLog, MonitorMixin

        for label, value, low in (("epoch", epoch, 1), ("valid_frequency", valid_frequency, 1),
                                  ("initial_epoch", initial_epoch, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidArgumentError(
                    f"Invalid {label} {value!r}; expected an integer >= {low}."
                )
        if initial_epoch >= epoch:
            raise InvalidArgumentError(
                f"initial_epoch ({initial_epoch}) must be smaller than epoch ({epoch}); "
                "epoch is the last epoch number to reach, not the number of epochs to add."
            )
        if train_dataset is None:
            raise InvalidArgumentError("train_dataset is None; pass a batched dataset.")
        model = self._ms(need_optimizer=True, need_loss=True)

        callbacks = [] if callbacks is None else callbacks
        callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        available = ["loss"]
        if valid_dataset is not None:
            available += ["val_loss", *(f"val_{name}" for name in self.metrics)]
        for callback in callbacks:
            if isinstance(callback, MonitorMixin):
                callback.check_monitor(available)

        run_logs: list[dict[str, float]] = []
        recorder = EpochLog(run_logs, list(self.metrics), epoch)
        all_callbacks = [recorder, *callbacks]
        with run_mode(self.mode):
            if valid_dataset is not None:
                model.fit(epoch, train_dataset, valid_dataset=valid_dataset,
                          valid_frequency=valid_frequency, callbacks=all_callbacks,
                          dataset_sink_mode=dataset_sink_mode, initial_epoch=initial_epoch)
            else:
                model.train(epoch, train_dataset, callbacks=all_callbacks,
                            dataset_sink_mode=dataset_sink_mode, initial_epoch=initial_epoch)
        self.history.extend(run_logs)
        return run_logs

    def eval(self, dataset: Any, dataset_sink_mode: bool = False) -> dict[str, float]:
        """Evaluate the compiled metrics on a batched dataset.

        Returns:
            ``{metric name: float}``, keyed by the names given to ``compile``.
            With no metrics compiled, ``{'loss': ...}`` (a loss must be compiled).
        """
        from tinyms.metrics import Loss

        if not self.metrics:
            if self.loss_fn is None:
                raise InvalidArgumentError(
                    "Nothing to evaluate: compile metrics (e.g. metrics=['accuracy']) "
                    "or a loss first."
                )
            self.metrics = {"loss": Loss()}
        needs_loss = any(isinstance(metric, Loss) for metric in self.metrics.values())
        model = self._ms(need_loss=needs_loss)
        with run_mode(self.mode):
            results = model.eval(dataset, dataset_sink_mode=dataset_sink_mode)
        return {name: _to_float(value) for name, value in results.items()}

    def predict(self, inputs: Any) -> np.ndarray:
        """Run the network in inference mode.

        Args:
            inputs: A batch as a numpy array or Tensor, shape ``[N, C, H, W]``
                for image networks (a single CHW image is also accepted).

        Returns:
            The network output as a float32 numpy array (logits, ``[N, class_num]``).
        """
        if isinstance(inputs, ms.Tensor):
            tensor = inputs
        else:
            array = np.asarray(inputs)
            if array.dtype != np.float32:
                array = array.astype(np.float32)
            tensor = ms.Tensor(array)
        if tensor.ndim == 3:
            tensor = tensor.expand_dims(0)
        if self.network.training:  # set_train walks every sub-cell: skip it when already set
            self.network.set_train(False)
        with run_mode(self.mode):  # reading the output back inside is faster
            return self.network(tensor).asnumpy()

    # -- checkpoints and export --------------------------------------------------------
    def _save_target(self) -> nn.Cell:
        # The training cell holds the optimizer state too (moments, step), for resuming.
        if self.optimizer is not None and self.loss_fn is not None:
            model = self._ms(need_optimizer=True, need_loss=True)
            return model.train_network
        return self.network

    def save_checkpoint(self, path: str | os.PathLike, epoch: int | None = None) -> str:
        """Save weights (and optimizer state, once compiled) atomically to ``path``.

        Returns:
            The file written (``.ckpt`` appended when missing).
        """
        extra = {"epoch_num": int(epoch)} if epoch is not None else None
        return save_checkpoint_atomic(self._save_target(), path, append_dict=extra)

    def load_checkpoint(
        self, path: str | os.PathLike, strict: bool = False, weights_only: bool = False
    ) -> LoadReport:
        """Load every parameter of a checkpoint that fits this model by name and shape.

        A checkpoint of the same network with another head (another
        ``class_num``) loads everything but the head, and the optimizer moments
        of the skipped parameters are skipped too.

        Args:
            path: The ``.ckpt`` file.
            strict: Raise when any network parameter is skipped or missing.
            weights_only: Load the network's weights and leave the optimizer
                state (moments, step count) as it is. Use it to fine-tune from a
                pretrained checkpoint with a new learning-rate schedule; leave it
                False to resume a run.

        Raises:
            CheckpointError: unreadable file, nothing fits, more than half of the
                network's parameters would be dropped, or ``strict`` and anything
                differs.
        """
        params = read_checkpoint(path)
        network_names = {param.name for param in self.network.get_parameters()}
        target = self.network if weights_only else self._save_target()
        if weights_only:
            params = {name: value for name, value in params.items() if name in network_names}
        return load_matching(target, params, network_names, source=str(path), strict=strict)

    @staticmethod
    def checkpoint_epoch(path: str | os.PathLike) -> int:
        """Return the epoch number stored in a tinyms checkpoint (0 when absent)."""
        params = read_checkpoint(path)
        value = params.get("epoch_num")
        return int(value.asnumpy()) if value is not None else 0

    def export(
        self,
        path: str | os.PathLike,
        file_format: str = "MINDIR",
        input_shape: Sequence[int] | None = None,
        inputs: Iterable[Any] | None = None,
    ) -> str:
        """Export the network for inference to MINDIR or ONNX.

        Args:
            path: The output file; the format's suffix (``.mindir``, ``.onnx``)
                is added when missing.
            file_format: ``'MINDIR'`` or ``'ONNX'`` (``'AIR'`` on Ascend only).
            input_shape: The example input's shape, e.g. ``(1, 1, 32, 32)``.
            inputs: Example inputs instead of ``input_shape``.

        Returns:
            The path written.
        """
        file_format = str(file_format).upper()
        if file_format not in EXPORT_FORMATS:
            raise InvalidArgumentError(
                f"Invalid file_format {file_format!r}; expected one of {', '.join(EXPORT_FORMATS)}."
            )
        if inputs is None:
            if not input_shape:
                raise InvalidArgumentError(
                    "export needs input_shape, e.g. (1, 3, 224, 224), or example inputs."
                )
            inputs = [ms.Tensor(np.zeros(tuple(input_shape), dtype=np.float32))]
        suffix = "." + file_format.lower()
        target = Path(path)
        stem = target.with_suffix("") if target.suffix.lower() == suffix else target
        stem.parent.mkdir(parents=True, exist_ok=True)
        self.network.set_train(False)
        if file_format == "ONNX":
            from mindspore import onnx as ms_onnx

            ms_onnx.export(self.network, *inputs, file_name=str(stem),
                           input_names=["image"], output_names=["logits"])
        else:
            ms.export(self.network, *inputs, file_name=str(stem), file_format=file_format)
        written = stem.with_name(stem.name + suffix)
        logger.info("Exported %s to %s", file_format, written)
        return str(written)


def _to_float(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    return float(array.mean()) if array.size != 1 else float(array.reshape(()))
