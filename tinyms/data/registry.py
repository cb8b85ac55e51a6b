"""The dataset registry: one builder per catalog dataset name, used by ``get_dataset``.

Each builder takes the dataset folder and the split positionally and the
catalog arguments (``shuffle``, ``num_samples``, ...) as keyword-only
arguments, which the registry validates against ``datasets.yaml``.
"""

from __future__ import annotations

import os
from typing import Any, Union

from tinyms._registry import Registry

from . import loaders

__all__ = ["DATASETS", "get_dataset"]

PathLike = Union[str, "os.PathLike[str]"]

DATASETS = Registry("dataset")


def _options(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


@DATASETS.register("mnist")
def _mnist(path: PathLike, usage: str | None = None, *, shuffle: bool | None = None,
           num_samples: int | None = None, num_parallel_workers: int | None = None,
           num_shards: int | None = None, shard_id: int | None = None) -> Any:
    return loaders.MnistDataset(path, usage, **_options(
        shuffle=shuffle, num_samples=num_samples, num_parallel_workers=num_parallel_workers,
        num_shards=num_shards, shard_id=shard_id))


@DATASETS.register("mnist_sample")
def _mnist_sample(path: PathLike, usage: str | None = None, *, shuffle: bool | None = None,
                  num_samples: int | None = None, num_parallel_workers: int | None = None,
                  num_shards: int | None = None, shard_id: int | None = None) -> Any:
    return loaders.MnistDataset(path, usage, **_options(
        shuffle=shuffle, num_samples=num_samples, num_parallel_workers=num_parallel_workers,
        num_shards=num_shards, shard_id=shard_id))


@DATASETS.register("cifar10")
def _cifar10(path: PathLike, usage: str | None = None, *, shuffle: bool | None = None,
             num_samples: int | None = None, num_parallel_workers: int | None = None,
             num_shards: int | None = None, shard_id: int | None = None) -> Any:
    return loaders.Cifar10Dataset(path, usage, **_options(
        shuffle=shuffle, num_samples=num_samples, num_parallel_workers=num_parallel_workers,
        num_shards=num_shards, shard_id=shard_id))


@DATASETS.register("cifar100")
def _cifar100(path: PathLike, usage: str | None = None, *, shuffle: bool | None = None,
              num_samples: int | None = None, num_parallel_workers: int | None = None,
              num_shards: int | None = None, shard_id: int | None = None) -> Any:
    # The reader yields image, coarse_label and fine_label; training scripts and Model
    # take (image, label), so the 100-class fine label becomes "label".
    dataset = loaders.Cifar100Dataset(path, usage, **_options(
        shuffle=shuffle, num_samples=num_samples, num_parallel_workers=num_parallel_workers,
        num_shards=num_shards, shard_id=shard_id))
    return dataset.rename(["fine_label"], ["label"]).project(["image", "label"])


@DATASETS.register("image_folder")
def _image_folder(path: PathLike, usage: str | None = None, *, shuffle: bool | None = None,
                  num_samples: int | None = None, num_parallel_workers: int | None = None,
                  num_shards: int | None = None, shard_id: int | None = None,
                  extensions: list[str] | None = None) -> Any:
    return loaders.ImageFolderDataset(path, usage, **_options(
        shuffle=shuffle, num_samples=num_samples, num_parallel_workers=num_parallel_workers,
        num_shards=num_shards, shard_id=shard_id, extensions=extensions))


def get_dataset(name: str, path: PathLike, usage: str | None = None, **kwargs: Any) -> Any:
    """Build a dataset loader by catalog name, e.g. ``get_dataset('cifar10', root, 'train')``.

    Args:
        name: A catalog dataset name (``mnist``, ``mnist_sample``, ``cifar10``,
            ``cifar100``, ``image_folder``).
        path: The dataset root or one split's folder, as the loaders take it.
        usage: ``'train'``, ``'test'`` or None (every split found).
        **kwargs: The dataset's catalog arguments (``shuffle``, ``num_samples``,
            ``num_parallel_workers``, ``num_shards``, ``shard_id``; ``extensions``
            for ``image_folder``), validated against the catalog.

    Raises:
        UnknownNameError: ``name`` is not a registered dataset.
        InvalidArgumentError: An argument is unknown or fails its schema.
    """
    return DATASETS.build(name, path, usage, **kwargs)
