"""Shared pieces of the serving tests: real MNIST digits and a LeNet5 trained on them.

This module holds no tests. The trained checkpoint is cached per process, so
every serving test module of one pytest run shares one training.
"""

from __future__ import annotations

import atexit
import functools
import gzip
import io
import json
import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

import tinyms  # noqa: F401  (sets the CPU defaults before MindSpore loads)

__all__ = [
    "MNIST_DIR",
    "read_idx",
    "mnist_split",
    "png_bytes",
    "trained_checkpoint",
    "write_config",
    "free_port",
]

#: Real MNIST digits in IDX format, shared read-only beside the repository.
MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TRAIN_EPOCHS = 4
TRAIN_LR = 0.003


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (big-endian header, uint8 data) into a numpy array."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


@functools.lru_cache(maxsize=None)
def mnist_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images [N, 28, 28] uint8, labels [N] uint8)`` of 'train' or 'test'."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(MNIST_DIR / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(MNIST_DIR / f"{prefix}-labels-idx1-ubyte.gz")
    return images, labels


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 grayscale array as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


_WORK_DIR = Path(tempfile.mkdtemp(prefix="tinyms-serving-tests-"))
atexit.register(shutil.rmtree, _WORK_DIR, ignore_errors=True)


@functools.lru_cache(maxsize=None)
def trained_checkpoint() -> str:
    """Train LeNet5 on the MNIST train split once per process; return its checkpoint path.

    The training images go through ``transform_for('lenet5', 'mnist')``, the
    transform the server resolves too.
    """
    import mindspore.dataset as ds

    from tinyms import context
    from tinyms.model import Model, get_network
    from tinyms.optimizers import get_lr_schedule, get_optimizer
    from tinyms.vision import transform_for

    context.set_seed(7)
    images, labels = mnist_split("train")
    dataset = ds.NumpySlicesDataset(
        {"image": images[:, :, :, None], "label": labels.astype(np.int32)}, shuffle=True
    )
    transform = transform_for("lenet5", "mnist")
    train_ds = transform.apply_ds(dataset, batch_size=64, training=True)

    network = get_network("lenet5", class_num=10)
    schedule = get_lr_schedule("cosine", TRAIN_LR, train_ds.get_dataset_size(), TRAIN_EPOCHS)
    model = Model(network)
    model.compile(loss_fn="softmax_cross_entropy",
                  optimizer=get_optimizer("adam", network.trainable_params(), lr=schedule))
    started = time.perf_counter()
    model.train(TRAIN_EPOCHS, train_ds)
    print(f"trained LeNet5 in {time.perf_counter() - started:.1f} s")
    return model.save_checkpoint(_WORK_DIR / "lenet5_mnist.ckpt")


def write_config(folder: Path, servables: list[dict], **settings: object) -> Path:
    """Write a JSON serving configuration into ``folder`` and return its path."""
    path = Path(folder) / "servables.json"
    path.write_text(json.dumps({"servables": servables, **settings}), encoding="utf-8")
    return path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
