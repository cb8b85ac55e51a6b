"""Conversion of images in any mode to uint8 HWC arrays with the channels a network takes.

Both the one-image path (``DatasetTransform.__call__``) and the dataset
pipeline (``DatasetTransform.apply_ds``) go through :func:`to_uint8_hwc` and
:func:`adapt_channels`, so a given image gets the same pixels either way.

Sample scales:
    * uint8 is taken as is; bool maps to 0 and 255.
    * uint16 (Pillow modes ``I;16``, ``I;16B``, ...) keeps its high byte (``x >> 8``),
      as MindSpore's ``Decode`` (OpenCV) does for 16-bit PNG files.
    * Other integer types (Pillow mode ``I``, numpy's default int64) are taken on
      the 0-255 scale and clipped, as Pillow's ``convert('L')`` does.
    * Floating point (Pillow mode ``F``) is taken on the [0, 1] scale, multiplied
      by 255, rounded and clipped; NaN maps to 0.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from tinyms.errors import InvalidArgumentError

__all__ = ["to_uint8_hwc", "adapt_channels", "decode_image"]

# Pillow modes whose pixels numpy reads directly as one band or as RGB(A).
_DIRECT_MODES = frozenset(
    {"1", "L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N", "RGB", "RGBA"}
)
# ITU-R 601-2 luma weights, in thousandths (the weights Pillow's convert('L') uses).
_LUMA_WEIGHTS = np.array([299, 587, 114], dtype=np.uint32)


# Leading bytes of the formats MindSpore's Decode reads: JPEG, PNG, BMP, TIFF (both byte orders).
_MINDSPORE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*")


def decode_image(source: Any) -> np.ndarray:
    """Decode an image file or encoded bytes to a uint8 HWC array.

    MindSpore's ``Decode`` reads JPEG, PNG, BMP and TIFF, as the dataset pipeline
    does for an undecoded image column, and returns RGB. Other formats (GIF,
    WebP, ...) are read with Pillow and converted by :func:`to_uint8_hwc`.

    Args:
        source: A path (``str`` or ``os.PathLike``), the bytes of an encoded image,
            or a 1-D uint8 numpy array of those bytes.

    Returns:
        A uint8 array of shape (H, W, C).

    Raises:
        InvalidArgumentError: The file is missing or is not an image Pillow can read.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, np.ndarray):
        data = source.tobytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        try:
            with open(os.fspath(source), "rb") as handle:
                data = handle.read()
        except OSError as err:
            raise InvalidArgumentError(
                f"Cannot read the image file {source!r}: {err}. Check the path."
            ) from err

    # MindSpore 2.10's Decode writes any input it cannot read to unsupported_image.<ext>
    # in the working directory, so only the formats it reads are handed to it.
    if data.startswith(_MINDSPORE_SIGNATURES):
        import mindspore.dataset.vision as vision

        try:
            return vision.Decode()(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError:
            pass  # a damaged file: Pillow gives the clearer error, or reads it

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, UnidentifiedImageError) as err:
        raise InvalidArgumentError(
            f"Cannot decode an image from {len(data)} bytes: {err}. Pass a PIL image, a "
            "numpy array, or the path or bytes of a PNG, JPEG, BMP, TIFF, GIF or WebP file."
        ) from err
    return to_uint8_hwc(image)


def _pil_to_array(image: Any) -> np.ndarray:
    mode = image.mode
    if mode in _DIRECT_MODES:
        return np.asarray(image)
    if mode in ("LA", "La"):
        return np.asarray(image.getchannel(0))
    try:
        return np.asarray(image.convert("RGB"))
    except (ValueError, OSError) as err:
        raise InvalidArgumentError(
            f"Cannot convert a PIL image in mode {mode!r} to RGB: {err}. Convert it first, "
            "e.g. image.convert('RGB')."
        ) from err


def _samples_to_uint8(array: np.ndarray) -> np.ndarray:
    dtype = array.dtype
    if dtype == np.uint8:
        return array
    if dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if dtype.kind == "u" and dtype.itemsize == 2:
        return (array.astype(np.uint16) >> 8).astype(np.uint8)
    if dtype.kind in "iu":
        return np.clip(array, 0, 255).astype(np.uint8)
    if dtype.kind == "f":
        scaled = np.nan_to_num(array.astype(np.float64), nan=0.0) * 255.0
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    raise InvalidArgumentError(
        f"Unsupported image dtype {dtype}: expected uint8, uint16, another integer type, "
        "bool or floating point. Convert the array with array.astype(np.uint8)."
    )


def to_uint8_hwc(image: Any) -> np.ndarray:
    """Convert one image to a uint8 array of shape (height, width, channels).

    Args:
        image: A ``PIL.Image.Image`` in any mode, or a numpy array of shape (H, W)
            or (H, W, C) with C in 1-4. Sample scales are described in the module
            docstring.

    Returns:
        A C-contiguous uint8 array with 1, 2 (gray and alpha), 3 or 4 (RGBA) channels.

    Raises:
        InvalidArgumentError: The input is not an image, is empty, or has a shape or
            dtype this function does not read.
    """
    if hasattr(image, "mode") and hasattr(image, "getchannel"):
        array = _pil_to_array(image)
    elif isinstance(image, np.ndarray):
        array = image
    elif hasattr(image, "asnumpy"):  # a MindSpore Tensor
        array = image.asnumpy()
    else:
        raise InvalidArgumentError(
            f"Expected a PIL image, a numpy array, a path or image bytes, got "
            f"{type(image).__name__}. Open the file with PIL.Image.open(path) first."
        )

    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or not 1 <= array.shape[2] <= 4:
        raise InvalidArgumentError(
            f"Expected an image array of shape (H, W) or (H, W, C) with C in 1-4, got shape "
            f"{tuple(array.shape)}. A CHW array needs array.transpose(1, 2, 0) first."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidArgumentError(
            f"Expected an image of at least 1x1 pixels, got shape {tuple(array.shape)}."
        )
    return np.ascontiguousarray(_samples_to_uint8(array))


def adapt_channels(array: np.ndarray, channels: int) -> np.ndarray:
    """Convert a uint8 HWC image to ``channels`` channels (1 or 3).

    Alpha is dropped, as Pillow's ``convert('RGB')`` does. Gray becomes RGB by
    copying the band. RGB becomes gray by the ITU-R 601-2 luma transform
    ``(299 R + 587 G + 114 B) / 1000``, rounded half up.

    Args:
        array: A uint8 array of shape (H, W, C) with C in 1-4, as returned by
            :func:`to_uint8_hwc`.
        channels: The channel count of the result, 1 or 3.

    Returns:
        A C-contiguous uint8 array of shape (H, W, channels).
    """
    present = array.shape[2]
    if present == 4:
        array = array[:, :, :3]
    elif present == 2:
        array = array[:, :, :1]

    present = array.shape[2]
    if present == channels:
        return np.ascontiguousarray(array)
    if channels == 3:
        return np.ascontiguousarray(np.repeat(array, 3, axis=2))
    luma = (array.astype(np.uint32) @ _LUMA_WEIGHTS + 500) // 1000
    return luma.astype(np.uint8)[:, :, np.newaxis]
