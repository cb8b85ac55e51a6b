"""Evaluation metrics: MindSpore's metrics, macro-averaged classification
metrics that return plain floats, and ``get_metric`` by catalog name.

Labels may be class indices (shape ``[N]``) or one-hot rows (``[N, C]``);
predictions are logits or probabilities of shape ``[N, C]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mindspore.train import (
    Accuracy,
    Loss,
    Metric,
    Top1CategoricalAccuracy,
    Top5CategoricalAccuracy,
    TopKCategoricalAccuracy,
)

from tinyms._registry import Registry
from tinyms.errors import InvalidArgumentError

__all__ = [
    "METRICS",
    "get_metric",
    "list_metrics",
    "Metric",
    "Accuracy",
    "Loss",
    "Top1CategoricalAccuracy",
    "Top5CategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "Precision",
    "Recall",
    "F1",
]


def _to_numpy(value: Any) -> np.ndarray:
    return value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)


class _MacroClassificationMetric(Metric):
    """Accumulates per-class true positive, false positive and false negative counts.

    The macro average runs over the classes that occur in the labels or the
    predictions seen so far, as scikit-learn's ``average='macro'`` does; a class
    with no predicted (or no true) sample scores 0 for precision (or recall).
    """

    def __init__(self) -> None:
        super().__init__()
        self.clear()

    def clear(self) -> None:
        self._tp: np.ndarray = np.zeros(0, dtype=np.int64)
        self._fp: np.ndarray = np.zeros(0, dtype=np.int64)
        self._fn: np.ndarray = np.zeros(0, dtype=np.int64)
        self._seen: np.ndarray = np.zeros(0, dtype=bool)

    def _grow(self, size: int) -> None:
        if size > self._tp.size:
            pad = size - self._tp.size
            self._tp = np.pad(self._tp, (0, pad))
            self._fp = np.pad(self._fp, (0, pad))
            self._fn = np.pad(self._fn, (0, pad))
            self._seen = np.pad(self._seen, (0, pad))

    def update(self, *inputs: Any) -> None:
        if len(inputs) != 2:
            raise InvalidArgumentError(
                f"{type(self).__name__}.update expects (predictions, labels), "
                f"got {len(inputs)} inputs."
            )
        logits, labels = (_to_numpy(item) for item in inputs)
        if logits.ndim != 2:
            raise InvalidArgumentError(
                f"Predictions must have shape [N, C]; got shape {logits.shape}."
            )
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        labels = labels.reshape(-1).astype(np.int64)
        predicted = logits.argmax(axis=1)
        classes = logits.shape[1]
        self._grow(classes)
        for true, pred in zip(labels, predicted):
            self._seen[true] = self._seen[pred] = True
            if true == pred:
                self._tp[true] += 1
            else:
                self._fp[pred] += 1
                self._fn[true] += 1

    def _ratios(self, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        return np.divide(
            numerator, denominator, out=np.zeros(numerator.shape, dtype=np.float64),
            where=denominator > 0,
        )

    def _precision(self) -> np.ndarray:
        return self._ratios(self._tp, self._tp + self._fp)

    def _recall(self) -> np.ndarray:
        return self._ratios(self._tp, self._tp + self._fn)

    def _macro(self, per_class: np.ndarray) -> float:
        if not self._seen.any():
            raise RuntimeError(f"{type(self).__name__} has no samples; call update() first.")
        return float(per_class[self._seen].mean())


class Precision(_MacroClassificationMetric):
    """Macro-averaged precision as a Python float."""

    def eval(self) -> float:
        return self._macro(self._precision())


class Recall(_MacroClassificationMetric):
    """Macro-averaged recall as a Python float."""

    def eval(self) -> float:
        return self._macro(self._recall())


class F1(_MacroClassificationMetric):
    """Macro-averaged F1 score (per-class F1, then the mean) as a Python float."""

    def eval(self) -> float:
        precision, recall = self._precision(), self._recall()
        per_class = self._ratios(2 * precision * recall, precision + recall)
        return self._macro(per_class)


METRICS = Registry("metric")


@METRICS.register("accuracy")
def _accuracy() -> Metric:
    return Accuracy("classification")


@METRICS.register("top5_accuracy")
def _top5_accuracy() -> Metric:
    return Top5CategoricalAccuracy()


@METRICS.register("precision")
def _precision() -> Metric:
    return Precision()


@METRICS.register("recall")
def _recall() -> Metric:
    return Recall()


@METRICS.register("f1")
def _f1() -> Metric:
    return F1()


@METRICS.register("loss")
def _loss() -> Metric:
    return Loss()


def get_metric(name: str, **kwargs: Any) -> Metric:
    """Build a metric by catalog name, e.g. ``get_metric('accuracy')``."""
    return METRICS.build(name, **kwargs)


def list_metrics() -> list[str]:
    """Return the registered metric names."""
    return METRICS.names()
