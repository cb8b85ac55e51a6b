"""Shared pieces of the serving tests: real MNIST digits and a LeNet5 trained on them.

This module contains no tests. The trained checkpoint is cached per process, so
every serving test module of one pytest run shares one training.
"""

from __future__ import annotations

import atexit
import base64
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
    "BAD_REQUESTS",
    "broken_servable",
]

#: Real MNIST digits in IDX format, shared read-only beside the repository.
MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TRAIN_EPOCHS = 5
TRAIN_LR = 0.003


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (big-endian header, uint8 data) into a numpy array."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


@functools.cache
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


@functools.cache
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


# -- bad requests and the exact responses the server must send ---------------------------------

#: Limits of the test configuration (small, so the 413 cases stay small).
MAX_CONTENT_LENGTH = 20_000
MAX_IMAGE_PIXELS = 250_000
SUPPORTED_TYPES = ["multipart/form-data", "application/json", "image/*",
                   "application/octet-stream"]
KNOWN_SERVABLES = ["broken", "lenet5_mnist"]


def _multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    boundary = "tinymsboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, (filename, data) in fields.items():
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _bad_requests() -> list[tuple[str, str, str, dict[str, str], bytes, int, dict]]:
    """Return ``(id, method, path, headers, body, status, body without request_id)`` rows."""
    predict = "/servables/lenet5_mnist/predict"
    json_type = {"Content-Type": "application/json"}
    png = {"Content-Type": "image/png"}
    digit = png_bytes(np.full((28, 28), 200, np.uint8))
    large_image = png_bytes(np.zeros((600, 600), np.uint8))
    multipart_no_file = _multipart({"strategy": ("", b"TOP1_CLASS")})
    multipart_empty_file = _multipart({"file": ("digit.png", b"")})

    def error(status: int, code: str, message: str, **extra: object) -> dict:
        return {"error": code, "message": message, "status": status, **extra}

    not_image = ("Cannot decode an image from {} bytes: the data is not a PNG, JPEG, BMP, "
                 "TIFF, GIF or WebP file.")
    too_large = (f"The request body is larger than the limit of {MAX_CONTENT_LENGTH} bytes. "
                 "Send a smaller image, or raise max_content_length in the serving "
                 "configuration.")
    return [
        ("malformed-json", "POST", predict, json_type, b'{"image": ', 400,
         error(400, "malformed_json",
               "The request body is not valid JSON: Expecting value: line 1 column 11 "
               "(char 10).")),
        ("json-not-object", "POST", predict, json_type, b"[1, 2]", 400,
         error(400, "invalid_field",
               'Expected a JSON object {"image": "<base64>"}, got list.')),
        ("json-missing-image", "POST", predict, json_type, b'{"strategy": "TOP1_CLASS"}', 400,
         error(400, "missing_field",
               "The JSON body has no 'image' field. Send {\"image\": \"<base64 of the image "
               "file>\"}.")),
        ("json-image-not-string", "POST", predict, json_type, b'{"image": 5}', 400,
         error(400, "invalid_field", "The 'image' field must be a base64 string, got int.")),
        ("json-invalid-base64", "POST", predict, json_type, b'{"image": "@@@@"}', 400,
         error(400, "invalid_base64",
               "The 'image' field is not valid base64. Encode the image file's bytes with "
               "standard or URL-safe base64.")),
        ("json-base64-not-image", "POST", predict, json_type, b'{"image": "aGVsbG8"}', 400,
         error(400, "invalid_image", not_image.format(5))),
        ("json-invalid-strategy", "POST", predict, json_type,
         json.dumps({"image": base64.b64encode(digit).decode(), "strategy": 5}).encode(), 400,
         error(400, "invalid_strategy",
               "Invalid strategy 5. Valid strategies: TOP1_CLASS, TOP5_CLASS.")),
        ("json-empty-body", "POST", predict, json_type, b"", 400,
         error(400, "empty_body", 'The request body is empty. Send JSON {"image": "<base64>"}.')),
        ("raw-empty-body", "POST", predict, png, b"", 400,
         error(400, "empty_body", "The image is empty (0 bytes). Send an image.")),
        ("no-type-empty-body", "POST", predict, {}, b"", 400,
         error(400, "empty_body",
               "The request body is empty. Send an image (see /openapi.json).")),
        ("raw-not-image", "POST", predict, png, b"GIF89a but not really", 400,
         error(400, "invalid_image", not_image.format(21))),
        ("raw-truncated-png", "POST", predict, png, digit[: len(digit) - 30], 400,
         error(400, "invalid_image",
               f"Cannot decode the 28x28 image in {len(digit) - 30} bytes: the file is "
               "truncated or corrupt. Send a complete image file.")),
        ("query-invalid-strategy", "POST", predict + "?strategy=TOP3_CLASS", png, digit, 400,
         error(400, "invalid_strategy",
               "Invalid strategy 'TOP3_CLASS'. Valid strategies: TOP1_CLASS, TOP5_CLASS.")),
        ("multipart-missing-file", "POST", predict,
         {"Content-Type": multipart_no_file[0]}, multipart_no_file[1], 400,
         error(400, "missing_field",
               "The multipart body has no 'file' field. Send the image as the form field "
               "'file'.")),
        ("multipart-empty-file", "POST", predict,
         {"Content-Type": multipart_empty_file[0]}, multipart_empty_file[1], 400,
         error(400, "empty_body", "The image is empty (0 bytes). Send an image.")),
        ("unknown-servable", "POST", "/servables/resnet50_cifar10/predict", png, digit, 404,
         error(404, "unknown_servable",
               "Unknown servable 'resnet50_cifar10'. Known servables: broken, lenet5_mnist.",
               known=KNOWN_SERVABLES)),
        ("unknown-route", "GET", "/models", {}, b"", 404,
         error(404, "not_found", "No route for '/models'; see /openapi.json.")),
        ("raw-over-limit", "POST", predict, png, b"\x89PNG" + bytes(MAX_CONTENT_LENGTH), 413,
         error(413, "payload_too_large", too_large, limit=MAX_CONTENT_LENGTH)),
        ("json-over-limit", "POST", predict, json_type,
         json.dumps({"image": "A" * MAX_CONTENT_LENGTH}).encode(), 413,
         error(413, "payload_too_large", too_large, limit=MAX_CONTENT_LENGTH)),
        ("image-over-pixel-limit", "POST", predict, png, large_image, 413,
         error(413, "image_too_large",
               f"The image is 600x600 pixels, more than the limit of {MAX_IMAGE_PIXELS} "
               "pixels. Resize it before sending.")),
        ("unsupported-type", "POST", predict, {"Content-Type": "text/plain"}, b"7", 415,
         error(415, "unsupported_media_type",
               "Unsupported content type 'text/plain'. Send multipart/form-data with a 'file' "
               "field, application/json with an 'image' field, or the raw image (image/png, "
               "image/jpeg, ...).", supported=SUPPORTED_TYPES)),
        ("get-on-predict", "GET", predict, {}, b"", 405,
         error(405, "method_not_allowed",
               "Method GET is not allowed on '/servables/lenet5_mnist/predict'. Allowed "
               "methods: OPTIONS, POST.", allowed=["OPTIONS", "POST"])),
        ("delete-servables", "DELETE", "/servables", {}, b"", 405,
         error(405, "method_not_allowed",
               "Method DELETE is not allowed on '/servables'. Allowed methods: GET, HEAD, "
               "OPTIONS.", allowed=["GET", "HEAD", "OPTIONS"])),
        ("failed-servable", "POST", "/servables/broken/predict", png, digit, 503,
         error(503, "servable_unavailable", "Servable 'broken' failed to load and cannot "
               "predict: {error}. Fix its configuration and restart the server.")),
    ]


BAD_REQUESTS = _bad_requests()


def broken_servable(folder: Path) -> dict:
    """Return a servable entry whose checkpoint does not exist (it fails to load)."""
    return {"name": "broken", "model": "resnet18", "dataset": "cifar10",
            "checkpoint": str(Path(folder) / "absent.ckpt")}
