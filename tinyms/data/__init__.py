"""Datasets: one-call download, loaders over MindSpore's readers, and a packaged sample.

    >>> from tinyms.data import download_dataset, MnistDataset
    >>> mnist_path = download_dataset('mnist', local_path='./')
    >>> mnist_ds = MnistDataset(mnist_path, usage='train', shuffle=True)

Importing this package does not import MindSpore: the loaders import
``mindspore.dataset`` when called, and ``GeneratorDataset`` and
``NumpySlicesDataset`` (MindSpore's own classes) load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from .download import (
    CHECKSUMS_ENV,
    MIRROR_ENV,
    download_dataset,
    downloadable_datasets,
    parse_sha256sums,
)
from .loaders import (
    Cifar10Dataset,
    Cifar100Dataset,
    ImageFolderDataset,
    MnistDataset,
    split_dataset,
)
from .registry import DATASETS, get_dataset

__all__ = [
    "CHECKSUMS_ENV",
    "DATASETS",
    "MIRROR_ENV",
    "Cifar10Dataset",
    "Cifar100Dataset",
    "GeneratorDataset",
    "ImageFolderDataset",
    "MnistDataset",
    "NumpySlicesDataset",
    "download_dataset",
    "downloadable_datasets",
    "get_dataset",
    "parse_sha256sums",
    "split_dataset",
]

_MINDSPORE_NAMES = ("GeneratorDataset", "NumpySlicesDataset")


def __getattr__(name: str) -> Any:
    if name in _MINDSPORE_NAMES:
        value = getattr(importlib.import_module("mindspore.dataset"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tinyms.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
