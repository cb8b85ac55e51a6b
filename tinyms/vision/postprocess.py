"""Turn a network's logits into ranked class predictions."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinyms.errors import InvalidArgumentError

__all__ = ["Prediction", "STRATEGIES", "postprocess"]

#: Valid ``strategy`` values and the number of classes each returns.
STRATEGIES = {"TOP1_CLASS": 1, "TOP5_CLASS": 5}

_PredictionFields = namedtuple("_PredictionFields", ["label", "index", "score"])


class Prediction(_PredictionFields):
    """One ranked class prediction: a ``(label, index, score)`` named tuple.

    Attributes:
        label: The class name, or the index as a string when no names are known.
        index: The class index, i.e. the position in the logits.
        score: The softmax probability of the class, in [0, 1].
        rank: The position in the ranking, 1 for the best class (not a tuple field).
    """

    def __new__(cls, label: str, index: int, score: float, rank: int = 1) -> Prediction:
        self = super().__new__(cls, label, index, score)
        self.rank = rank
        return self

    def __repr__(self) -> str:
        return (
            f"Prediction(label={self.label!r}, index={self.index}, score={self.score:.6g}, "
            f"rank={self.rank})"
        )

    def __str__(self) -> str:
        return f"TOP{self.rank}: {self.label}, score: {self.score:.4f}"


def _logits_vector(logits: Any) -> np.ndarray:
    if hasattr(logits, "asnumpy"):  # a MindSpore Tensor
        logits = logits.asnumpy()
    try:
        array = np.asarray(logits, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidArgumentError(
            f"Expected logits as a numpy array or a MindSpore Tensor, got "
            f"{type(logits).__name__}: {err}."
        ) from err

    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1 or array.size == 0:
        raise InvalidArgumentError(
            f"Expected the logits of one sample, shape (classes,) or (1, classes), got shape "
            f"{array.shape}. For a batch, call postprocess on each row: logits[i]."
        )
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError(
            f"Expected finite logits, got {array.tolist()!r}. Check the network and its "
            "checkpoint for NaN or infinite outputs."
        )
    return array


def postprocess(
    logits: Any, class_names: Sequence[str] | None = None, strategy: str = "TOP1_CLASS"
) -> list[Prediction]:
    """Rank the classes of one sample by softmax probability.

    Args:
        logits: Network outputs for one sample: shape (classes,) or (1, classes), as a
            numpy array, a MindSpore Tensor or a nested list.
        class_names: One name per class; ``None`` labels each class by its index.
        strategy: ``'TOP1_CLASS'`` (default) returns the best class, ``'TOP5_CLASS'``
            the best five (fewer when the network has fewer classes).

    Returns:
        A list of :class:`Prediction`, best first.

    Raises:
        InvalidArgumentError: Unknown strategy, logits that are not one sample's or
            not finite, or ``class_names`` of another length than the logits.

    Example:
        >>> print(postprocess([0.1, 3.0, 0.2], ['cat', 'dog', 'fox'])[0])
        TOP1: dog, score: 0.8962
    """
    if strategy not in STRATEGIES:
        raise InvalidArgumentError(
            f"Unknown postprocess strategy {strategy!r}. Valid strategies: "
            f"{', '.join(STRATEGIES)}."
        )
    vector = _logits_vector(logits)
    if class_names is not None and len(class_names) != vector.size:
        raise InvalidArgumentError(
            f"The logits have {vector.size} classes but class_names has {len(class_names)} "
            "names. Pass class_names matching the network's class_num."
        )

    exponentials = np.exp(vector - vector.max())
    probabilities = exponentials / exponentials.sum()
    count = min(STRATEGIES[strategy], vector.size)
    # A stable sort keeps the lower index first among equal scores.
    order = np.argsort(-probabilities, kind="stable")[:count]

    results = []
    for rank, index in enumerate(order, start=1):
        label = str(class_names[index]) if class_names is not None else str(index)
        results.append(Prediction(label, int(index), float(probabilities[index]), rank))
    return results
