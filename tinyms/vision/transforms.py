"""Dataset transforms: one object preprocesses one image or a whole MindSpore dataset.

A transform is resolved from a dataset name (its mean, std, class names and
transform kind come from the dataset catalog) and the network's input size
and channels (from the network catalog). ``transform_for`` is the one resolver
that training, evaluation, prediction and serving call, so they apply the same
preprocessing.

MindSpore is imported when a transform first runs, not when this module loads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tinyms import catalog
from tinyms._registry import Registry
from tinyms.errors import DatasetError, InvalidArgumentError, UnknownNameError

from .images import adapt_channels, decode_image, to_uint8_hwc
from .postprocess import Prediction
from .postprocess import postprocess as _postprocess

__all__ = [
    "TRANSFORMS",
    "DatasetTransform",
    "MnistTransform",
    "Cifar10Transform",
    "ImageFolderTransform",
    "make_transform",
    "transform_for",
    "list_transforms",
]

logger = logging.getLogger(__name__)

TRANSFORMS = Registry("transform")

# ITU-R 601-2 luma weights, used to turn RGB statistics into grayscale ones.
_LUMA = (0.299, 0.587, 0.114)
_LABEL_TYPES = "iub"  # numpy kinds of label columns that are cast to int32


class _ChannelAdapter:
    """Pipeline step that converts any image sample to uint8 HWC with ``channels`` channels.

    A class rather than a closure, so MindSpore can pickle it for worker processes.
    """

    def __init__(self, channels: int):
        self.channels = channels

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return adapt_channels(to_uint8_hwc(image), self.channels)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(
            f"{name} must be an integer >= {minimum}, got {value!r}. Pass e.g. {name}={minimum}."
        )


def _check_stats(name: str, values: Sequence[Any], channels: int) -> tuple[float, ...]:
    """Validate a mean or std list and broadcast a single value to every channel."""
    numbers = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidArgumentError(f"{name} must be a list of numbers, got {list(values)!r}.")
        numbers.append(float(value))
    if len(numbers) == 1:
        numbers = numbers * channels
    if len(numbers) != channels:
        raise InvalidArgumentError(
            f"{name} has {len(numbers)} values but the transform outputs {channels} channels. "
            f"Pass one value or {channels} values."
        )
    if not all(np.isfinite(numbers)):
        raise InvalidArgumentError(f"{name} must contain finite numbers, got {numbers!r}.")
    if name == "std" and min(numbers) <= 0:
        raise InvalidArgumentError(f"std values must be > 0, got {numbers!r}.")
    return tuple(numbers)


def _dataset_stats(values: Sequence[float], channels: int) -> list[float]:
    """Adapt a dataset's per-channel statistic to the output channel count.

    Gray statistics are copied to each RGB channel, which is exact because the
    gray band is copied. RGB statistics become gray through the luma weights.
    NOTE: for std the weighted sum is an estimate; the exact value needs the
    covariance of the channels, which the catalog does not hold.
    """
    values = [float(value) for value in values]
    if len(values) == channels:
        return values
    if len(values) == 1:
        return values * channels
    if len(values) == 3 and channels == 1:
        return [sum(weight * value for weight, value in zip(_LUMA, values))]
    return values  # _check_stats reports the mismatch


class DatasetTransform:
    """Preprocessing for one dataset kind and one network input size.

    Calling the object preprocesses one image; :meth:`apply_ds` builds the same
    steps into a MindSpore dataset pipeline, and :meth:`postprocess` turns the
    network's logits into ranked class names. Build instances with
    :func:`make_transform` or :func:`transform_for` rather than directly.

    Each image first becomes uint8 HWC with ``channels`` channels (see
    ``tinyms.vision.images``), then goes through :meth:`operations`: the resize
    and crop steps of the subclass (random ones only when training), then
    ``Rescale(1/255)``, ``Normalize(mean, std)`` and ``HWC2CHW``.

    Args:
        dataset: The dataset catalog name the statistics come from, or ``None``.
        image_size: Side of the square output image, in pixels.
        channels: Output channels, 1 or 3.
        mean: Per-channel mean on the [0, 1] scale (one value is used for every
            channel).
        std: Per-channel standard deviation on the [0, 1] scale.
        class_names: One name per class, or ``None`` to label classes by index.
    """

    #: The transform's catalog name; set by each subclass.
    name = ""

    def __init__(
        self,
        dataset: str | None = None,
        *,
        image_size: int,
        channels: int,
        mean: Sequence[float],
        std: Sequence[float],
        class_names: Sequence[Any] | None = None,
    ):
        _check_int("image_size", image_size, 1)
        if channels not in (1, 3):
            raise InvalidArgumentError(
                f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}."
            )
        self.dataset = dataset
        self.image_size = image_size
        self.channels = channels
        self.mean = _check_stats("mean", mean, channels)
        self.std = _check_stats("std", std, channels)
        self.class_names = None if class_names is None else [str(name) for name in class_names]
        self._eval_operations: list[Any] | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dataset={self.dataset!r}, image_size={self.image_size}, "
            f"channels={self.channels}, mean={self.mean}, std={self.std})"
        )

    def _spatial_operations(self, training: bool) -> list[Any]:
        """Return the resize and crop steps; subclasses define them."""
        raise NotImplementedError

    def operations(self, training: bool = False) -> list[Any]:
        """Build the MindSpore operations applied to a uint8 HWC image.

        Args:
            training: Include the random augmentation steps. Defaults to False.

        Returns:
            A new list of ``mindspore.dataset.vision`` operations, ending with
            ``HWC2CHW``; the output is float32 CHW.
        """
        import mindspore.dataset.vision as vision

        return [
            *self._spatial_operations(training),
            vision.Rescale(1.0 / 255.0, 0.0),
            vision.Normalize(mean=list(self.mean), std=list(self.std)),
            vision.HWC2CHW(),
        ]

    def __call__(self, image: Any) -> np.ndarray:
        """Preprocess one image, without random augmentation.

        Args:
            image: A ``PIL.Image.Image`` in any mode (L, RGB, RGBA, P, CMYK, I;16,
                I, F, ...), a numpy array of shape (H, W) or (H, W, C), a path, or
                the bytes of an encoded image.

        Returns:
            A float32 array of shape (channels, image_size, image_size).

        Raises:
            InvalidArgumentError: The input is not an image this transform reads.
        """
        if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
            array = decode_image(image)
        else:
            array = to_uint8_hwc(image)
        array = adapt_channels(array, self.channels)

        if self._eval_operations is None:
            self._eval_operations = self.operations(training=False)
        for operation in self._eval_operations:
            array = operation(array)
        return np.asarray(array, dtype=np.float32)

    def _input_operations(self, shape: list[int] | None, dtype: np.dtype | None) -> list[Any]:
        """Return the steps that bring the dataset's image column to uint8 HWC.

        ``shape`` and ``dtype`` are those of the first row, ``None`` when it is
        unknown. Encoded bytes get ``Decode``, and uint8 HWC with the right
        channel count needs no step. Anything else gets a Python step.
        NOTE: the first row stands for all rows, so a dataset that mixes
        encoded and decoded images, or channel counts, fails in a later step.
        """
        import mindspore.dataset.vision as vision

        if shape is None:
            return [_ChannelAdapter(self.channels)]
        if len(shape) == 1 and dtype == np.uint8:
            steps = [vision.Decode()]  # MindSpore's Decode returns RGB
            if self.channels != 3:
                steps.append(_ChannelAdapter(self.channels))
            return steps
        if len(shape) == 3 and dtype == np.uint8 and shape[2] == self.channels:
            return []
        logger.debug("Image column of shape %s and dtype %s is converted in Python", shape, dtype)
        return [_ChannelAdapter(self.channels)]

    def apply_ds(
        self,
        ds: Any,
        repeat_size: int = 1,
        batch_size: int = 32,
        num_parallel_workers: int | None = None,
        training: bool = False,
    ) -> Any:
        """Preprocess a whole MindSpore dataset: map, cast labels, batch and repeat.

        The ``image`` column goes through the same steps as :meth:`__call__`
        (plus random augmentation when ``training``). Label columns (``label``
        and any ``*_label``) are cast to int32.

        Args:
            ds: A MindSpore dataset with an ``image`` column, e.g. from
                ``tinyms.data.MnistDataset`` or ``mindspore.dataset.GeneratorDataset``.
            repeat_size: Times to repeat the dataset. Defaults to 1.
            batch_size: Rows per batch. Defaults to 32.
            num_parallel_workers: Workers for the map and batch steps; ``None``
                (default) keeps MindSpore's default.
            training: Apply random augmentation and drop the last incomplete
                batch. Defaults to False.

        Returns:
            The mapped, batched and repeated dataset.

        Raises:
            InvalidArgumentError: An argument is out of range or ``ds`` is not a dataset.
            DatasetError: The dataset has no ``image`` column.

        Example:
            >>> train_ds = mnist_transform.apply_ds(MnistDataset(path), training=True)
        """
        _check_int("repeat_size", repeat_size, 1)
        _check_int("batch_size", batch_size, 1)
        if num_parallel_workers is not None:
            _check_int("num_parallel_workers", num_parallel_workers, 1)
        if not isinstance(training, bool):
            raise InvalidArgumentError(f"training must be True or False, got {training!r}.")
        if not (hasattr(ds, "map") and hasattr(ds, "get_col_names")):
            raise InvalidArgumentError(
                f"apply_ds expects a MindSpore dataset, got {type(ds).__name__}. To preprocess "
                "one image, call the transform directly: transform(image)."
            )

        import mindspore
        from mindspore.dataset.transforms import TypeCast

        columns = ds.get_col_names()
        if "image" not in columns:
            raise DatasetError(
                f"The dataset has no 'image' column; its columns are {columns}. Rename the "
                "image column with ds.rename(input_columns=[...], output_columns=['image'])."
            )
        try:
            shapes = ds.output_shapes()
            types = [np.dtype(dtype) for dtype in ds.output_types()]
        except RuntimeError as err:  # an empty dataset, say
            logger.debug("Cannot read the first row (%s); converting every image in Python", err)
            shapes = types = None
        image_index = columns.index("image")
        operations = self._input_operations(
            shapes[image_index] if shapes else None, types[image_index] if types else None
        )
        operations += self.operations(training=training)
        ds = ds.map(operations=operations, input_columns="image",
                    num_parallel_workers=num_parallel_workers)

        for index, column in enumerate(columns):
            if column != "label" and not column.endswith("_label"):
                continue
            dtype = types[index] if types else None
            if dtype is None or (dtype.kind in _LABEL_TYPES and dtype != np.int32):
                ds = ds.map(operations=TypeCast(mindspore.int32), input_columns=column,
                            num_parallel_workers=num_parallel_workers)

        ds = ds.batch(batch_size, drop_remainder=training,
                      num_parallel_workers=num_parallel_workers)
        if repeat_size > 1:
            ds = ds.repeat(repeat_size)
        return ds

    def postprocess(self, logits: Any, strategy: str = "TOP1_CLASS") -> list[Prediction]:
        """Rank the classes of one sample's logits by softmax probability.

        Args:
            logits: Shape (classes,) or (1, classes), numpy or a MindSpore Tensor.
            strategy: ``'TOP1_CLASS'`` (default) or ``'TOP5_CLASS'``.

        Returns:
            A list of :class:`~tinyms.vision.Prediction` ``(label, index, score)``,
            best first; ``str()`` of one reads ``TOP1: 7, score: 0.9996``.

        Raises:
            InvalidArgumentError: Unknown strategy, or logits of another shape.
        """
        return _postprocess(logits, self.class_names, strategy)


class MnistTransform(DatasetTransform):
    """Grayscale digits: resize to the square input size; no random augmentation."""

    name = "mnist"

    def _spatial_operations(self, training: bool) -> list[Any]:
        import mindspore.dataset.vision as vision

        return [vision.Resize((self.image_size, self.image_size))]


class Cifar10Transform(DatasetTransform):
    """Small colour images: resize to the square input size.

    When training, a random crop after zero padding of 1/8 of the side (4 pixels
    at 32) and a random horizontal flip follow.
    """

    name = "cifar10"

    def _spatial_operations(self, training: bool) -> list[Any]:
        import mindspore.dataset.vision as vision

        size = (self.image_size, self.image_size)
        steps = [vision.Resize(size)]
        if training:
            steps += [
                vision.RandomCrop(size, padding=max(1, self.image_size // 8)),
                vision.RandomHorizontalFlip(0.5),
            ]
        return steps


class ImageFolderTransform(DatasetTransform):
    """Photos: resize the shorter side to 8/7 of the input size, then centre crop.

    At 224 that is the usual resize to 256 and centre crop to 224. When
    training, a random resized crop (scale 0.08-1) and a random horizontal flip
    replace them.
    """

    name = "imagefolder"

    def _spatial_operations(self, training: bool) -> list[Any]:
        import mindspore.dataset.vision as vision

        if training:
            return [
                vision.RandomResizedCrop(self.image_size, scale=(0.08, 1.0)),
                vision.RandomHorizontalFlip(0.5),
            ]
        return [
            vision.Resize(round(self.image_size * 8 / 7)),
            vision.CenterCrop(self.image_size),
        ]


def _resolve_defaults(
    transform_name: str,
    dataset: str | None,
    channels: int,
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    class_names: Sequence[Any] | None,
) -> dict[str, Any]:
    """Fill null mean, std and class names from the dataset, else from the transform entry."""
    info = catalog.dataset_info(dataset) if dataset else {}
    fallback = catalog.entry("transform", transform_name)
    values = {"mean": mean, "std": std}
    for key, value in values.items():
        if value is not None:
            continue
        found = info.get(key) or fallback.get(key)
        if not found:
            raise InvalidArgumentError(
                f"No {key} is known for the transform {transform_name!r} with dataset "
                f"{dataset!r}. Pass {key}=[...] (per channel, on the [0, 1] scale) or add "
                f"'{key}' to the dataset's entry in datasets.yaml."
            )
        values[key] = _dataset_stats(found, channels)
    if class_names is None:
        # "auto" (an image folder's names come from its folders) leaves the labels as indices.
        known = info.get("class_names")
        class_names = known if isinstance(known, list) else None
    return {**values, "class_names": class_names}


def _builder(cls: type[DatasetTransform]) -> Any:
    def build(
        dataset: str | None = None,
        *,
        image_size: int,
        channels: int,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        class_names: list[str] | None = None,
    ) -> DatasetTransform:
        if dataset is None:
            dataset = _default_dataset(cls.name)
        values = _resolve_defaults(cls.name, dataset, channels, mean, std, class_names)
        return cls(dataset, image_size=image_size, channels=channels, **values)

    build.__name__ = build.__qualname__ = cls.name
    build.__doc__ = (
        f"Build a {cls.__name__} with the statistics of ``dataset`` (a dataset catalog name; "
        "None takes the dataset that uses this transform)."
    )
    return TRANSFORMS.register(cls.name)(build)


for _cls in (MnistTransform, Cifar10Transform, ImageFolderTransform):
    _builder(_cls)


def list_transforms() -> list[str]:
    """Return the names of every registered transform."""
    return TRANSFORMS.names()


def _default_dataset(transform_name: str) -> str | None:
    """Return the dataset whose statistics a transform uses when none is named.

    That is the dataset named like the transform ('imagefolder' takes
    'image_folder'), else the first by name among those that use it.
    """
    users = [
        item for item in catalog.names("dataset")
        if catalog.dataset_info(item).get("transform") == transform_name
    ]
    users.sort(key=lambda item: (item.replace("_", "") != transform_name, item))
    return users[0] if users else None


def _resolve_dataset(name: str) -> tuple[str, str | None]:
    """Map a dataset or transform name to ``(transform name, dataset name or None)``."""
    datasets = catalog.names("dataset")
    transforms = catalog.names("transform")
    if isinstance(name, str) and name in datasets:
        transform = catalog.dataset_info(name).get("transform")
        if transform not in transforms:
            raise InvalidArgumentError(
                f"The dataset {name!r} names the transform {transform!r}, which is not "
                f"registered. Set its 'transform' key to one of: {', '.join(transforms)}."
            )
        return transform, name
    if isinstance(name, str) and name in transforms:
        return name, _default_dataset(name)
    raise UnknownNameError("dataset", name, set(datasets) | set(transforms))


def make_transform(
    dataset_name: str, image_size: int | None = None, channels: int | None = None, **args: Any
) -> DatasetTransform:
    """Build the transform for a dataset at a network's input size.

    Args:
        dataset_name: A dataset catalog name (``'mnist'``, ``'cifar10'``, ...) whose
            transform kind, mean, std and class names are used; a transform name
            (``'imagefolder'``) is accepted too.
        image_size: Side of the square output in pixels; ``None`` (default) takes
            the transform's catalog default (32 for mnist and cifar10, 224 for
            imagefolder).
        channels: Output channels, 1 or 3; ``None`` (default) takes the catalog
            default (1 for mnist, 3 otherwise).
        **args: Other catalog arguments of the transform: ``mean``, ``std``,
            ``class_names`` (each ``None`` by default, meaning the dataset's).

    Returns:
        A :class:`DatasetTransform`.

    Raises:
        UnknownNameError: ``dataset_name`` is neither a dataset nor a transform name.
        InvalidArgumentError: An argument is unknown or out of range.

    Example:
        >>> transform = make_transform('cifar10', image_size=224)
        >>> transform(np.zeros((32, 32, 3), np.uint8)).shape
        (3, 224, 224)
    """
    transform_name, dataset = _resolve_dataset(dataset_name)
    if image_size is not None:
        args["image_size"] = image_size
    if channels is not None:
        args["channels"] = channels
    return TRANSFORMS.build(transform_name, dataset, **args)


def transform_for(
    network_name: str,
    dataset_name: str,
    network_args: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DatasetTransform:
    """Resolve the transform for a network trained or served on a dataset.

    Training, evaluation, prediction and serving all call this function, so
    they preprocess images the same way. The image size is the network's
    catalog ``input_size``. The channel count is the network's channel argument
    in ``network_args`` if given, else its ``default_channels``. The rest comes
    from the dataset (see :func:`make_transform`).

    Args:
        network_name: A network catalog name, e.g. ``'lenet5'``.
        dataset_name: A dataset catalog name, e.g. ``'mnist'``.
        network_args: The arguments the network is built with, e.g.
            ``{'num_channel': 3}``; ``None`` (default) means its defaults.
        **overrides: Transform arguments that win over the resolved ones
            (``image_size``, ``channels``, ``mean``, ``std``, ``class_names``).

    Returns:
        A :class:`DatasetTransform`.

    Raises:
        UnknownNameError: An unknown network or dataset name.
        InvalidArgumentError: A network with a non-square input and no
            ``image_size`` override, or an invalid override.

    Example:
        >>> transform_for('lenet5', 'mnist').image_size
        32
    """
    info = catalog.network_info(network_name)
    height, width = info["input_size"]
    if height != width and "image_size" not in overrides:
        raise InvalidArgumentError(
            f"The network {network_name!r} takes {height}x{width} images, but tinyms "
            "transforms produce square images. Pass image_size=... and resize the "
            "network's input, or register the network with a square input_size."
        )

    channels = info.get("default_channels", 3)
    channels_arg = info.get("channels_arg")
    if network_args and channels_arg and channels_arg in network_args:
        channels = network_args[channels_arg]

    args: dict[str, Any] = {"image_size": height, "channels": channels}
    args.update(overrides)
    return make_transform(dataset_name, **args)
