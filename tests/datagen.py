"""Writers of small on-disk datasets in the real formats, for tests.

Each writer builds files that MindSpore's readers (and ``tinyms.data``'s
loaders) accept, in the layout that ``tinyms.data.download_dataset`` leaves:
``<root>/train`` and ``<root>/test``. Pass ``layout='flat'`` to put every file
directly in ``folder`` instead.

The pixel data is synthetic but learnable: each class draws a bright square at
its own position over noise, so a small network trained on it beats chance.
MindSpore's CIFAR readers accept only full-size batch files (10,000 records
per CIFAR-10 file, 50,000 in CIFAR-100's ``train.bin``), so those writers
always write full-size files: about 184 MB for CIFAR-10 and 184 MB for
CIFAR-100. Build them once per test session in a temporary folder.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "CIFAR10_TRAIN_FILES",
    "CIFAR10_TEST_FILES",
    "CIFAR100_TRAIN_FILES",
    "CIFAR100_TEST_FILES",
    "MNIST_TRAIN_FILES",
    "MNIST_TEST_FILES",
    "class_images",
    "write_idx_images",
    "write_idx_labels",
    "write_mnist_idx",
    "write_cifar10_bins",
    "write_cifar100_bins",
    "write_image_folder",
    "write_sha256sums",
]

MNIST_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
MNIST_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch.bin",)
CIFAR100_TRAIN_FILES = ("train.bin",)
CIFAR100_TEST_FILES = ("test.bin",)

_CIFAR10_RECORDS = 10_000  # records per CIFAR-10 batch file
_CIFAR100_TRAIN_RECORDS = 50_000
_CIFAR100_TEST_RECORDS = 10_000
_CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
                  "dog", "frog", "horse", "ship", "truck")


def class_images(labels: np.ndarray, height: int, width: int, channels: int,
                 num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Return uint8 images (N, H, W, C): low noise plus a bright square placed by class.

    The square for class ``k`` sits at one of ``num_classes`` positions on a grid,
    so the label can be read from the image.
    """
    count = len(labels)
    images = rng.integers(0, 64, size=(count, height, width, channels), dtype=np.uint8)
    grid = int(np.ceil(np.sqrt(num_classes)))
    side = max(2, min(height, width) // (grid + 1))
    for index, label in enumerate(labels):
        row, col = divmod(int(label) % (grid * grid), grid)
        top = row * height // grid
        left = col * width // grid
        images[index, top:top + side, left:left + side, :] = 255
    return images


def write_idx_images(path: str | Path, images: np.ndarray, compress: bool = False) -> Path:
    """Write uint8 images (N, H, W) as an IDX3 file (magic 2051, big-endian sizes)."""
    count, height, width = images.shape
    payload = struct.pack(">IIII", 2051, count, height, width) + images.astype(np.uint8).tobytes()
    return _write_bytes(Path(path), payload, compress)


def write_idx_labels(path: str | Path, labels: np.ndarray, compress: bool = False) -> Path:
    """Write uint8 labels (N,) as an IDX1 file (magic 2049, big-endian count)."""
    payload = struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()
    return _write_bytes(Path(path), payload, compress)


def _write_bytes(path: Path, payload: bytes, compress: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        # mtime=0 keeps the bytes, and so the checksum, the same for the same data.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
    return path


def _split_dirs(folder: str | Path, layout: str) -> tuple[Path, Path, Path]:
    root = Path(folder)
    if layout == "split":
        return root, root / "train", root / "test"
    if layout == "flat":
        return root, root, root
    raise ValueError(f"layout={layout!r}: expected 'split' or 'flat'")


def write_mnist_idx(folder: str | Path, n_train: int = 200, n_test: int = 100, seed: int = 0,
                    layout: str = "split", compress: bool = False) -> Path:
    """Write an MNIST dataset of 28x28 digits in IDX format and return its root.

    Args:
        folder: Root folder; created if missing.
        n_train: Training images (written as ``train-*-ubyte``).
        n_test: Test images (written as ``t10k-*-ubyte``).
        seed: Seed of the random labels and pixels.
        layout: ``'split'`` puts the files in ``train/`` and ``test/``, ``'flat'``
            puts all four in ``folder``.
        compress: Write ``.gz`` files, as the official download serves them.
    """
    root, train_dir, test_dir = _split_dirs(folder, layout)
    rng = np.random.default_rng(seed)
    for count, target, (images_name, labels_name) in (
        (n_train, train_dir, MNIST_TRAIN_FILES),
        (n_test, test_dir, MNIST_TEST_FILES),
    ):
        labels = np.arange(count, dtype=np.uint8) % 10
        rng.shuffle(labels)
        images = class_images(labels, 28, 28, 1, 10, rng)[..., 0]
        write_idx_images(target / images_name, images, compress)
        write_idx_labels(target / labels_name, labels, compress)
    return root


def _cifar_records(count: int, num_classes: int, label_bytes: int,
                   rng: np.random.Generator) -> bytes:
    """Return ``count`` CIFAR binary records: label byte(s), then 3072 CHW pixel bytes."""
    labels = (np.arange(count) % num_classes).astype(np.uint8)
    rng.shuffle(labels)
    records = np.empty((count, label_bytes + 3072), dtype=np.uint8)
    if label_bytes == 2:  # CIFAR-100: coarse label (20 classes), then fine label
        records[:, 0] = labels % 20
    records[:, label_bytes - 1] = labels
    # Noise everywhere, then a bright class square in the red plane (rows 0-1023).
    records[:, label_bytes:] = rng.integers(0, 64, size=(count, 3072), dtype=np.uint8)
    red = records[:, label_bytes:label_bytes + 1024].reshape(count, 32, 32)
    grid = int(np.ceil(np.sqrt(num_classes)))
    cell = 32 // grid
    side = max(2, 32 // (grid + 1))
    for label in range(num_classes):
        row, col = divmod(label, grid)
        mask = labels == label
        block = red[mask]
        block[:, row * cell:row * cell + side, col * cell:col * cell + side] = 255
        red[mask] = block
    records[:, label_bytes:label_bytes + 1024] = red.reshape(count, 1024)
    return records.tobytes()


def write_cifar10_bins(folder: str | Path, seed: int = 0, layout: str = "split") -> Path:
    """Write full-size CIFAR-10 binary batches and return the root.

    Writes ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) and
    ``test_batch.bin`` (test), 10,000 records of 3,073 bytes each, plus
    ``batches.meta.txt``. About 184 MB in all.
    """
    root, train_dir, test_dir = _split_dirs(folder, layout)
    rng = np.random.default_rng(seed)
    for target, names in ((train_dir, CIFAR10_TRAIN_FILES), (test_dir, CIFAR10_TEST_FILES)):
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            (target / name).write_bytes(_cifar_records(_CIFAR10_RECORDS, 10, 1, rng))
        (target / "batches.meta.txt").write_text("\n".join(_CIFAR10_NAMES) + "\n")
    return root


def write_cifar100_bins(folder: str | Path, seed: int = 0, layout: str = "split") -> Path:
    """Write full-size CIFAR-100 binary files and return the root.

    Writes ``train.bin`` (50,000 records) and ``test.bin`` (10,000 records), each
    record a coarse label byte, a fine label byte and 3,072 pixel bytes. About 184 MB.
    """
    root, train_dir, test_dir = _split_dirs(folder, layout)
    rng = np.random.default_rng(seed)
    for target, name, count in ((train_dir, "train.bin", _CIFAR100_TRAIN_RECORDS),
                                (test_dir, "test.bin", _CIFAR100_TEST_RECORDS)):
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(_cifar_records(count, 100, 2, rng))
    return root


def write_image_folder(folder: str | Path, classes: Sequence[str] = ("cat", "dog"),
                       per_class: int = 4, size: tuple[int, int] = (32, 32),
                       image_format: str = "png", mode: str = "RGB", seed: int = 0) -> Path:
    """Write ``folder/<class>/<i>.<format>`` images (one folder per class); return ``folder``.

    Args:
        folder: Root folder; created if missing.
        classes: Class folder names; class ``k`` gets its square at position ``k``.
        per_class: Images per class.
        size: ``(width, height)`` in pixels, as PIL takes it.
        image_format: ``'png'``, ``'jpg'`` or ``'bmp'``.
        mode: PIL mode of the saved images (``'RGB'`` or ``'L'``).
        seed: Seed of the pixel noise.
    """
    from PIL import Image

    root = Path(folder)
    rng = np.random.default_rng(seed)
    width, height = size
    channels = 1 if mode == "L" else 3
    for label, name in enumerate(classes):
        target = root / name
        target.mkdir(parents=True, exist_ok=True)
        labels = np.full(per_class, label)
        images = class_images(labels, height, width, channels, len(classes), rng)
        for index, image in enumerate(images):
            pixels = image[..., 0] if channels == 1 else image
            Image.fromarray(pixels, mode=mode).save(target / f"{index}.{image_format}")
    return root


def write_sha256sums(folder: str | Path, names: Sequence[str] | None = None) -> Path:
    """Write ``folder/SHA256SUMS`` (``<hex>  <name>`` lines) for ``names`` or every file."""
    root = Path(folder)
    if names is None:
        names = sorted(p.name for p in root.iterdir() if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}" for n in names]
    path = root / "SHA256SUMS"
    path.write_text("\n".join(lines) + "\n")
    return path
