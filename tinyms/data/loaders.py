"""Dataset loaders over MindSpore's readers, taking a dataset root or one split's folder.

Each loader accepts either the root that ``download_dataset`` returns, which
contains ``train/`` and ``test/`` (``usage`` picks the split, None reads both),
or a folder that contains one split's files directly. A folder with the wrong layout
raises :class:`~tinyms.errors.DatasetError` naming the files expected there.
MindSpore is imported when a loader is called, not when this module is.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import Any, Union

import numpy as np

from tinyms import catalog
from tinyms.errors import DatasetError, InvalidArgumentError

__all__ = [
    "MnistDataset",
    "Cifar10Dataset",
    "Cifar100Dataset",
    "ImageFolderDataset",
    "split_dataset",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

_USAGES = ("train", "test", "all", None)
_SPLITS = ("train", "test")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

# Record sizes of the CIFAR binary formats (label bytes + 32 * 32 * 3 pixels) and the
# record count of each full file. MindSpore 2.10's readers accept only full-size files.
_CIFAR_RECORD = {"cifar10": 1 + 3072, "cifar100": 2 + 3072}
_CIFAR_RECORDS = {
    "data_batch_1.bin": 10_000, "data_batch_2.bin": 10_000, "data_batch_3.bin": 10_000,
    "data_batch_4.bin": 10_000, "data_batch_5.bin": 10_000, "test_batch.bin": 10_000,
    "train.bin": 50_000, "test.bin": 10_000,
}
_TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}


def _mindspore_dataset() -> Any:
    import mindspore.dataset as ms_dataset

    return ms_dataset


def _check_usage(usage: str | None) -> str | None:
    if usage not in _USAGES:
        raise InvalidArgumentError(
            f"usage={usage!r} is invalid: expected 'train', 'test' or None (both splits)."
        )
    return None if usage == "all" else usage


def _check_folder(path: PathLike, name: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DatasetError(
            f"Dataset folder {str(folder)!r} not found. Create it with "
            f"download_dataset({name!r}, local_path) and pass the folder it returns."
        )
    if not folder.is_dir():
        raise DatasetError(f"{str(folder)!r} is a file; expected the {name} dataset folder.")
    return folder


def _layout_error(name: str, folder: Path, usage: str | None, layout: dict[str, list[str]],
                  detail: str = "") -> DatasetError:
    wanted = [usage] if usage else list(_SPLITS)
    expected = " and/or ".join(f"{', '.join(layout[s])} ({s})" for s in wanted)
    subfolders = " or ".join(f"{s}/" for s in wanted)
    gz = sorted(p.name for p in folder.rglob("*.gz"))[:4]
    hint = ""
    if gz:
        hint = (f" Found compressed files ({', '.join(gz)}): MindSpore reads the uncompressed "
                f"files, which download_dataset({name!r}, local_path) unpacks.")
    return DatasetError(
        f"No {_TITLES[name]} data in {str(folder)!r}{detail}: expected {expected}, either "
        f"directly in that folder or in its {subfolders} folder (the layout download_dataset "
        f"leaves).{hint} Get the files with download_dataset({name!r}, local_path)."
    )


def _split_state(folder: Path, names: list[str]) -> tuple[bool, list[str]]:
    """Return (complete, missing names) for one split's files in ``folder``."""
    missing = [n for n in names if not (folder / n).is_file()]
    return not missing, missing


def _resolve_fixed(name: str, path: PathLike, usage: str | None) -> list[tuple[Path, str]]:
    """Return ``(folder, split)`` pairs to read for a dataset whose files have fixed names."""
    usage = _check_usage(usage)
    folder = _check_folder(path, name)
    layout = catalog.dataset_info(name)["layout"]
    wanted = [usage] if usage else list(_SPLITS)

    flat = [s for s in wanted if _split_state(folder, layout[s])[0]]
    if flat:
        return [(folder, s) for s in flat]

    found: list[tuple[Path, str]] = []
    for split in wanted:
        sub = folder / split
        if not sub.is_dir():
            continue
        complete, missing = _split_state(sub, layout[split])
        if not complete:
            present = [n for n in layout[split] if n not in missing]
            if present or usage:
                raise _layout_error(name, folder, split, layout,
                                    f" ({split}/ lacks {', '.join(missing)})")
            continue
        found.append((sub, split))
    if not found:
        raise _layout_error(name, folder, usage, layout)
    return found


def _check_cifar_sizes(name: str, targets: list[tuple[Path, str]]) -> None:
    layout = catalog.dataset_info(name)["layout"]
    record = _CIFAR_RECORD[name]
    for folder, split in targets:
        for file_name in layout[split]:
            path = folder / file_name
            size = path.stat().st_size
            records = _CIFAR_RECORDS[file_name]
            if size != records * record:
                raise DatasetError(
                    f"{path} has {size} bytes; a full {_TITLES[name]} file {file_name} has "
                    f"{records} records of {record} bytes ({records * record} bytes), and "
                    "MindSpore's reader accepts only full-size files. Download the dataset "
                    f"again with download_dataset({name!r}, local_path)."
                )


def _sampler_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in ("shuffle", "num_samples", "num_shards", "shard_id")
            if k in kwargs}


def _concat(children: list[Any], sampling: dict[str, Any]) -> Any:
    """Concatenate split readers, shuffling across them and sharding each alike."""
    ms_dataset = _mindspore_dataset()
    combined = children[0]
    for child in children[1:]:
        combined = combined + child
    if sampling.get("shuffle") is not False:
        combined.use_sampler(ms_dataset.RandomSampler())
    if sampling.get("num_samples") is not None:
        combined = combined.take(sampling["num_samples"])
    return combined


def _build(targets: list[tuple[Path, str]], reader: Any, kwargs: dict[str, Any]) -> Any:
    if len(targets) == 1:
        folder, split = targets[0]
        return reader(str(folder), split, **kwargs)

    # Two split folders: read each in order (sharded alike), then shuffle and cap the union.
    sampling = _sampler_kwargs(kwargs)
    shards = {k: sampling[k] for k in ("num_shards", "shard_id") if k in sampling}
    children = [reader(str(folder), split, shuffle=False, **shards, **kwargs)
                for folder, split in targets]
    return _concat(children, sampling)


def MnistDataset(dataset_dir: PathLike, usage: str | None = None, **kwargs: Any) -> Any:
    """Load MNIST (IDX files) as a MindSpore dataset with columns ``image`` and ``label``.

    ``image`` is uint8 of shape (28, 28, 1); ``label`` a uint32 scalar, 0 to 9.
    MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.

    Args:
        dataset_dir: The root from ``download_dataset('mnist')`` (with ``train/`` and
            ``test/``), or a folder holding one split's IDX files directly
            (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` for train;
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` for test).
        usage: ``'train'``, ``'test'`` or None (every split found). Default: None.
        **kwargs: Passed to ``mindspore.dataset.MnistDataset``: ``shuffle``,
            ``num_samples``, ``num_parallel_workers``, ``num_shards``, ``shard_id``, ...

    Returns:
        A ``mindspore.dataset.MnistDataset`` (or the concatenation of both splits).

    Raises:
        DatasetError: The folder is missing or lacks the IDX files.

    Example:
        >>> train = MnistDataset(download_dataset('mnist_sample', '/tmp'), usage='train')
    """
    targets = _resolve_fixed("mnist", dataset_dir, usage)
    ms_dataset = _mindspore_dataset()

    def reader(folder: str, split: str, **options: Any) -> Any:
        return ms_dataset.MnistDataset(folder, usage=split, **options)

    return _build(targets, reader, dict(kwargs))


def _cifar(name: str, dataset_dir: PathLike, usage: str | None, kwargs: dict[str, Any]) -> Any:
    targets = _resolve_fixed(name, dataset_dir, usage)
    _check_cifar_sizes(name, targets)
    ms_dataset = _mindspore_dataset()
    cls = ms_dataset.Cifar10Dataset if name == "cifar10" else ms_dataset.Cifar100Dataset

    def reader(folder: str, split: str, **options: Any) -> Any:
        return cls(folder, usage=split, **options)

    return _build(targets, reader, dict(kwargs))


def Cifar10Dataset(dataset_dir: PathLike, usage: str | None = None, **kwargs: Any) -> Any:
    """Load CIFAR-10 (binary batches) as a MindSpore dataset with ``image`` and ``label``.

    ``image`` is uint8 of shape (32, 32, 3) (HWC, RGB); ``label`` a uint32 scalar, 0 to 9.

    Args:
        dataset_dir: The root from ``download_dataset('cifar10')``, or a folder holding
            ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) and/or
            ``test_batch.bin`` (test), each a full 10,000-record file.
        usage: ``'train'``, ``'test'`` or None (every split found). Default: None.
        **kwargs: Passed to ``mindspore.dataset.Cifar10Dataset`` (``shuffle``,
            ``num_samples``, ``num_parallel_workers``, ``num_shards``, ``shard_id``, ...).

    Raises:
        DatasetError: The folder is missing, lacks batch files or has truncated ones.
    """
    return _cifar("cifar10", dataset_dir, usage, kwargs)


def Cifar100Dataset(dataset_dir: PathLike, usage: str | None = None, **kwargs: Any) -> Any:
    """Load CIFAR-100 as a MindSpore dataset with ``image``, ``coarse_label``, ``fine_label``.

    ``image`` is uint8 of shape (32, 32, 3); ``fine_label`` (0 to 99) and
    ``coarse_label`` (0 to 19) are uint32 scalars.

    Args:
        dataset_dir: The root from ``download_dataset('cifar100')``, or a folder holding
            ``train.bin`` (50,000 records) and/or ``test.bin`` (10,000 records).
        usage: ``'train'``, ``'test'`` or None (every split found). Default: None.
        **kwargs: Passed to ``mindspore.dataset.Cifar100Dataset``.

    Raises:
        DatasetError: The folder is missing, lacks the files or has truncated ones.
    """
    return _cifar("cifar100", dataset_dir, usage, kwargs)


def _class_dirs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _has_images(folder: Path, extensions: list[str] | None) -> bool:
    suffixes = tuple(e.lower() for e in (extensions or _IMAGE_EXTENSIONS))
    return any(p.suffix.lower() in suffixes for p in folder.rglob("*") if p.is_file())


def ImageFolderDataset(dataset_dir: PathLike, usage: str | None = None,
                       **kwargs: Any) -> Any:
    """Load images stored one folder per class as a MindSpore dataset (``image``, ``label``).

    Images are decoded to uint8 HWC RGB arrays unless ``decode=False`` is passed.
    Labels are uint32, numbered by sorted class folder name.

    Args:
        dataset_dir: A folder of class folders (``root/<class>/<image>``), or a root with
            ``train/`` and ``test/`` folders of class folders.
        usage: ``'train'`` or ``'test'`` picks a split folder; None reads the class
            folders of ``dataset_dir``, or both splits of a split root. Default: None.
        **kwargs: Passed to ``mindspore.dataset.ImageFolderDataset`` (``shuffle``,
            ``extensions``, ``class_indexing``, ``decode``, ...).

    Raises:
        DatasetError: The folder is missing or contains no class folders with images.
    """
    usage = _check_usage(usage)
    folder = _check_folder(path=dataset_dir, name="image_folder")
    kwargs = dict(kwargs)
    kwargs.setdefault("decode", True)
    extensions = kwargs.get("extensions")

    split_dirs = [s for s in _SPLITS if (folder / s).is_dir() and _class_dirs(folder / s)]
    if usage:
        target = folder / usage if usage in split_dirs else folder
        targets = [target]
    else:
        targets = [folder / s for s in split_dirs] or [folder]

    where = f"or under {usage}/" if usage else "optionally under train/ and test/"
    for target in targets:
        classes = _class_dirs(target)
        if not classes or not _has_images(target, extensions):
            raise DatasetError(
                f"No class folders with images in {str(target)!r}: expected "
                f"<class name>/<image file> in it, {where} (image extensions "
                f"{', '.join(extensions or _IMAGE_EXTENSIONS)})."
            )
    ms_dataset = _mindspore_dataset()
    if len(targets) == 1:
        return ms_dataset.ImageFolderDataset(str(targets[0]), **kwargs)

    # Both splits: number the classes over the union so a label means one class in both.
    if "class_indexing" not in kwargs:
        names = sorted(set(_class_dirs(targets[0])) | set(_class_dirs(targets[1])))
        kwargs["class_indexing"] = {n: i for i, n in enumerate(names)}

    def reader(path: str, split: str, **options: Any) -> Any:
        return ms_dataset.ImageFolderDataset(path, **options)

    return _build([(t, t.name) for t in targets], reader, kwargs)


def _leaf(dataset: Any) -> Any:
    node = dataset
    while node.children:
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return node


def split_dataset(dataset: Any, valid_fraction: float = 0.1, seed: int = 0) -> tuple[Any, Any]:
    """Split a dataset's records into a training and a validation part.

    The records are permuted with ``seed``, so the same seed gives the same parts.
    Both parts keep the pipeline built on the reader (map, batch, ...). The
    training part reads its records in a new random order each epoch when the
    source was shuffled (the MindSpore default), else in index order. The
    validation part always reads in a fixed order.

    Args:
        dataset: A MindSpore dataset over one random-access reader (MnistDataset,
            ImageFolderDataset, ...), not sharded.
        valid_fraction: The share of records for validation, 0 < fraction < 1.
        seed: The seed of the permutation.

    Returns:
        ``(train_dataset, valid_dataset)``.

    Raises:
        InvalidArgumentError: ``valid_fraction`` is outside (0, 1) or leaves a part empty.
        DatasetError: The dataset is not over one random-access reader, or is sharded.
    """
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, (int, float)) \
            or not 0.0 < valid_fraction < 1.0:
        raise InvalidArgumentError(
            f"valid_fraction={valid_fraction!r} is invalid: expected a number between 0 and 1 "
            "(exclusive), such as 0.1."
        )
    ms_dataset = _mindspore_dataset()
    leaf = _leaf(dataset)
    if leaf is None or not isinstance(leaf, ms_dataset.MappableDataset):
        raise DatasetError(
            f"split_dataset needs a dataset over one random-access reader; got "
            f"{type(leaf or dataset).__name__}. Split before concatenating, or build a "
            "GeneratorDataset from a source with __getitem__ and __len__."
        )
    if leaf.is_sharded():
        raise DatasetError("split_dataset got a sharded dataset; split first, then shard.")

    # NOTE: the indices cover the first get_dataset_size() records of the reader, so a
    # reader built with num_samples is split over its first num_samples records.
    total = leaf.get_dataset_size()
    valid_count = int(round(total * valid_fraction))
    if valid_count == 0 or valid_count == total:
        raise InvalidArgumentError(
            f"valid_fraction={valid_fraction} of {total} records leaves a part empty; "
            "pick a fraction that keeps at least one record in each part."
        )
    order = np.random.default_rng(seed).permutation(total)
    valid_indices = sorted(int(i) for i in order[:valid_count])
    train_indices = sorted(int(i) for i in order[valid_count:])
    shuffled = leaf.is_shuffled()

    parts = []
    for indices, random_order in ((train_indices, shuffled), (valid_indices, False)):
        part = copy.deepcopy(dataset)
        sampler = (ms_dataset.SubsetRandomSampler(indices) if random_order
                   else ms_dataset.SubsetSampler(indices))
        _leaf(part).use_sampler(sampler)
        parts.append(part)
    logger.debug("Split %d records into %d train and %d valid (seed %d)",
                 total, len(train_indices), len(valid_indices), seed)
    return parts[0], parts[1]
