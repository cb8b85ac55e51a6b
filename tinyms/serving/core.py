"""The serving core: load servables, then decode, preprocess, predict and postprocess.

Nothing here depends on HTTP. The Flask app (``tinyms.serving.app``) is a thin
adapter that maps the exceptions below to status codes.

Each servable resolves its transform with ``tinyms.vision.transform_for``, the
call training and evaluation use too, so a served model gets the same pixels
it was trained on. Its network runs behind a :class:`MicroBatcher`: one worker
thread runs every forward pass of that servable, and stacks the requests that
are waiting when it starts a pass into one batch.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import io
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinyms import catalog
from tinyms.errors import CheckpointError, ServingError, TinyMSError
from tinyms.serving.config import DEFAULT_MAX_IMAGE_PIXELS, ServableSpec, ServingConfig

__all__ = [
    "STRATEGIES",
    "DEFAULT_MAX_BATCH_SIZE",
    "InvalidRequestError",
    "UnknownServableError",
    "ServableUnavailableError",
    "MicroBatcher",
    "Servable",
    "ServingCore",
    "check_strategy",
    "decode",
    "load_servable",
    "preprocess",
    "predict",
    "postprocess",
]

logger = logging.getLogger(__name__)

#: Valid ``strategy`` values and the number of classes each returns.
STRATEGIES = {"TOP1_CLASS": 1, "TOP5_CLASS": 5}
#: Most requests one forward pass of a checkpoint servable takes at once.
DEFAULT_MAX_BATCH_SIZE = 16


class InvalidRequestError(ServingError):
    """A request the server cannot use: bad JSON, missing field, undecodable image, ...

    Attributes:
        code: A short machine-readable reason, e.g. ``'invalid_image'``.
    """

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class UnknownServableError(ServingError):
    """A servable name that the server does not serve.

    Attributes:
        name: The name requested.
        known: The names the server serves.
    """

    def __init__(self, name: str, known: Iterable[str]):
        self.name = name
        self.known = sorted(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(f"Unknown servable {name!r}. Known servables: {listed}.")


class ServableUnavailableError(ServingError):
    """A servable that is configured but failed to load."""


_MODE_LOCK = threading.Lock()

def check_strategy(strategy: Any) -> str:
    """Return ``strategy`` if it is a valid postprocess strategy.

    Raises:
        InvalidRequestError: Any other value; the message lists the valid ones.
    """
    if not isinstance(strategy, str) or strategy.upper() not in STRATEGIES:
        raise InvalidRequestError(
            "invalid_strategy",
            f"Invalid strategy {strategy!r}. Valid strategies: {', '.join(STRATEGIES)}.",
        )
    return strategy.upper()


class MicroBatcher:
    """Runs every call of ``run_batch`` on one worker thread, batching waiting inputs.

    :meth:`submit` queues one input and blocks until its output row is ready.
    The worker takes the oldest input, adds whatever else is already queued (up
    to ``max_batch_size`` in all, without waiting for more), stacks them and
    calls ``run_batch`` once. A lone request is therefore never delayed.

    Args:
        run_batch: Maps an array of shape ``[N, ...]`` to outputs of shape ``[N, ...]``.
        max_batch_size: Largest batch; 1 runs one input per call.
        name: Used in the worker thread's name.
    """

    def __init__(self, run_batch: Callable[[np.ndarray], np.ndarray], max_batch_size: int,
                 name: str = "servable"):
        if max_batch_size < 1:
            raise ServingError(f"max_batch_size must be at least 1, got {max_batch_size}.")
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.batches = 0
        self.items = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=f"batcher-{name}", daemon=True)
        self._thread.start()

    def submit(self, item: np.ndarray) -> np.ndarray:
        """Run one input through ``run_batch`` and return its output row."""
        if self._closed:
            raise ServingError("The servable is shut down; no more predictions are run.")
        future: concurrent.futures.Future[np.ndarray] = concurrent.futures.Future()
        self._queue.put((item, future))
        return future.result()

    def close(self) -> None:
        """Stop the worker after the queued inputs are done."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _collect(self, first: Any) -> tuple[list[Any], bool]:
        batch = [first]
        while len(batch) < self.max_batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._collect(first)
            futures = [future for _, future in batch]
            try:
                outputs = self.run_batch(np.stack([item for item, _ in batch]))
            except Exception as err:  # handed to every waiting request, which re-raises it
                for future in futures:
                    future.set_exception(err)
            else:
                self.batches += 1
                self.items += len(batch)
                for future, row in zip(futures, outputs):
                    future.set_result(row)
            if stop:
                return


@dataclasses.dataclass
class Servable:
    """A loaded (or failed) servable.

    Attributes:
        spec: The configuration it was built from.
        status: ``'ready'`` or ``'failed'``.
        error: Why loading failed, or ``None``.
        transform: The ``tinyms.vision`` transform of its model and dataset.
        network: The MindSpore network (a Cell, or a GraphCell for MINDIR files).
        loads: How many times this process has loaded the network (1 after start).
        load_seconds: How long loading took.
        batcher: Runs the network; ``None`` until loaded.
    """

    spec: ServableSpec
    status: str = "failed"
    error: str | None = None
    transform: Any = None
    network: Any = None
    loads: int = 0
    load_seconds: float = 0.0
    batcher: MicroBatcher | None = None
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        """The servable's name."""
        return self.spec.name

    @property
    def classes(self) -> list[str]:
        """The class labels, in network output order (empty when unknown)."""
        if self.transform is None or self.transform.class_names is None:
            return list(self.spec.class_names or [])
        return list(self.transform.class_names)

    def describe(self) -> dict[str, Any]:
        """Return the servable's public description (the ``/servables`` entry)."""
        info: dict[str, Any] = {
            "name": self.name,
            "model": self.spec.model,
            "dataset": self.spec.dataset,
            "classes": self.classes,
            "status": self.status,
            "format": "mindir" if self.spec.mindir else "checkpoint",
            "loads": self.loads,
        }
        if self.error is not None:
            info["error"] = self.error
        return info


def _build_network(spec: ServableSpec, transform: Any) -> Any:
    from tinyms.model import Model, get_network

    info = catalog.network_info(spec.model)
    args = dict(spec.network_args)
    class_arg = info.get("class_num_arg")
    if class_arg and class_arg not in args and transform.class_names:
        args[class_arg] = len(transform.class_names)
    network = get_network(spec.model, **args)
    model = Model(network)
    report = model.load_checkpoint(spec.checkpoint, strict=True)
    logger.info("Servable %s: checkpoint %s (%s)", spec.name, spec.checkpoint, report.summary())
    network.set_train(False)
    return network


def _load_mindir(spec: ServableSpec) -> Any:
    import mindspore as ms
    from mindspore import nn

    try:
        graph = ms.load(spec.mindir)
    except (OSError, RuntimeError, ValueError, TypeError) as err:
        raise CheckpointError(
            f"Failed to read the MINDIR file {spec.mindir!r}: {err}. Export it again with "
            "Model.export(path, file_format='MINDIR')."
        ) from err
    network = nn.GraphCell(graph)
    network.set_train(False)
    logger.info("Servable %s: MINDIR %s", spec.name, spec.mindir)
    return network


def load_servable(spec: ServableSpec, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE) -> Servable:
    """Build a servable's transform and network and load its weights.

    Args:
        spec: The servable's configuration.
        max_batch_size: Largest batch one forward pass takes. MINDIR files are
            run one image at a time, since they are exported with a fixed
            input shape.

    Returns:
        A ready :class:`Servable`.

    Raises:
        TinyMSError: The transform, network or weights cannot be built or read
            (a missing file, a checkpoint of another network, ...).
    """
    from tinyms.vision import transform_for

    started = time.perf_counter()
    weights = spec.mindir or spec.checkpoint
    if not os.path.isfile(weights):
        raise CheckpointError(
            f"Servable {spec.name!r}: weights file not found: {weights!r}. Train the model "
            "or fix the 'checkpoint' or 'mindir' path in the serving configuration."
        )
    overrides = dict(spec.transform_args)
    if spec.class_names:
        overrides["class_names"] = list(spec.class_names)
    transform = transform_for(spec.model, spec.dataset, dict(spec.network_args), **overrides)
    if spec.mindir:
        network = _load_mindir(spec)
        max_batch_size = 1
    else:
        network = _build_network(spec, transform)

    servable = Servable(spec, status="ready", transform=transform, network=network, loads=1)
    warm_up(servable, max_batch_size)
    servable.batcher = MicroBatcher(lambda batch: predict(servable, batch), max_batch_size,
                                    name=spec.name)
    servable.load_seconds = time.perf_counter() - started
    logger.info("Servable %s loaded in %.2f s", spec.name, servable.load_seconds)
    return servable


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode an encoded image (PNG, JPEG, BMP, TIFF, GIF, WebP, ...) to uint8 HWC.

    The header is read first, so an image over ``max_pixels`` is rejected
    before its pixels are decoded.

    Raises:
        InvalidRequestError: Empty data (``empty_body``), data that is not an
            image (``invalid_image``) or an image that is too large
            (``image_too_large``).
    """
    from PIL import Image, UnidentifiedImageError

    from tinyms.vision import decode_image

    if not data:
        raise InvalidRequestError("empty_body", "The image is empty (0 bytes). Send an image.")
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except (UnidentifiedImageError, OSError, ValueError) as err:
        logger.debug("Image header not readable: %s", err)
        raise InvalidRequestError(
            "invalid_image",
            f"Cannot decode an image from {len(data)} bytes: the data is not a PNG, JPEG, BMP, "
            "TIFF, GIF or WebP file.",
        ) from err
    if width * height > max_pixels:
        raise InvalidRequestError(
            "image_too_large",
            f"The image is {width}x{height} pixels, more than the limit of {max_pixels} "
            "pixels. Resize it before sending.",
        )
    try:
        return decode_image(data)
    except TinyMSError as err:
        logger.debug("Image not decodable: %s", err)
        raise InvalidRequestError(
            "invalid_image",
            f"Cannot decode the {width}x{height} image in {len(data)} bytes: the file is "
            "truncated or corrupt. Send a complete image file.",
        ) from err


def preprocess(servable: Servable, image: np.ndarray) -> np.ndarray:
    """Apply the servable's transform to one uint8 HWC image; return float32 CHW."""
    return servable.transform(image)


def predict(servable: Servable, batch: np.ndarray) -> np.ndarray:
    """Run the servable's network on a float32 ``[N, C, H, W]`` batch; return the logits.

    Calls are serialized by the servable's lock, so any thread may call this.
    """
    import mindspore as ms

    from tinyms.context import run_mode

    if servable.status != "ready":
        raise ServableUnavailableError(
            f"Servable {servable.name!r} is not loaded: {servable.error}"
        )
    # Graph mode runs LeNet5 about 10x faster than PyNative at batch 1. The mode is
    # process-wide, so one lock covers the switch for every servable.
    count = len(batch)
    padded = bucket_size(count)
    if padded != count:
        # A graph is compiled once per input shape, so batches are padded to a few sizes.
        filler = np.zeros((padded - count, *batch.shape[1:]), dtype=np.float32)
        batch = np.concatenate([batch, filler])
    with servable.lock, _MODE_LOCK, run_mode("graph"):
        output = servable.network(ms.Tensor(np.ascontiguousarray(batch, dtype=np.float32)))
        return output.asnumpy()[:count]


def bucket_size(count: int) -> int:
    """Return the batch size a batch of ``count`` inputs is padded to: the next power of two."""
    return 1 << max(count - 1, 0).bit_length()


def warm_up(servable: Servable, max_batch_size: int) -> None:
    """Compile the network for every padded batch size up to ``max_batch_size``."""
    sample = servable.transform(np.zeros((32, 32, 3), dtype=np.uint8))
    size = 1
    while size <= max_batch_size:
        predict(servable, np.stack([sample] * size))
        size *= 2


def postprocess(servable: Servable, logits: np.ndarray, strategy: str = "TOP1_CLASS"
                ) -> list[dict[str, Any]]:
    """Rank one sample's classes: ``[{'label', 'index', 'score'}, ...]``, best first."""
    ranked = servable.transform.postprocess(logits, check_strategy(strategy))
    return [
        {"label": item.label, "index": int(item.index), "score": float(item.score)}
        for item in ranked
    ]


class ServingCore:
    """The servables of one server process and the request pipeline over them.

    Args:
        config: The servables and limits to serve.
        max_batch_size: Largest batch of one forward pass (1 turns batching off).
        loader: Builds one servable; tests may pass a stub. Defaults to
            :func:`load_servable`.
    """

    def __init__(self, config: ServingConfig, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 loader: Callable[..., Servable] | None = None):
        self.config = config
        self.max_batch_size = max_batch_size
        self.servables: dict[str, Servable] = {}
        #: Set by the server runner once it stops accepting connections.
        self.draining = False
        self._loader = loader or load_servable

    def load(self) -> None:
        """Load every configured servable once; a failure is recorded, not raised."""
        for spec in self.config.servables:
            if spec.name in self.servables:
                continue
            try:
                servable = self._loader(spec, max_batch_size=self.max_batch_size)
            except Exception as err:  # any failure of one servable must not stop the others
                message = f"{type(err).__name__}: {err}"
                logger.error("Servable %s failed to load: %s", spec.name, message)
                servable = Servable(spec, status="failed", error=message)
            self.servables[spec.name] = servable

    def close(self) -> None:
        """Stop every servable's batch worker."""
        for servable in self.servables.values():
            if servable.batcher is not None:
                servable.batcher.close()

    def get(self, name: str) -> Servable:
        """Return the servable called ``name``.

        Raises:
            UnknownServableError: No servable has that name.
        """
        if name not in self.servables:
            raise UnknownServableError(name, self.servables)
        return self.servables[name]

    def describe(self) -> list[dict[str, Any]]:
        """Return the description of every servable, in configuration order."""
        return [servable.describe() for servable in self.servables.values()]

    def health(self) -> dict[str, Any]:
        """Return the health summary.

        ``status`` is ``ok`` (every servable ready), ``degraded`` (some failed to
        load), ``unavailable`` (none is ready) or ``draining`` (shutting down).
        """
        ready = [item for item in self.servables.values() if item.status == "ready"]
        if self.draining:
            status = "draining"
        elif ready and len(ready) == len(self.servables):
            status = "ok"
        elif ready:
            status = "degraded"
        else:
            status = "unavailable"
        return {
            "status": status,
            "servables": {
                item.name: {"status": item.status, "loads": item.loads,
                            **({"error": item.error} if item.error else {})}
                for item in self.servables.values()
            },
        }

    def run(self, name: str, data: bytes, strategy: str = "TOP1_CLASS") -> dict[str, Any]:
        """Run the whole pipeline on one encoded image.

        Returns:
            ``{'servable': name, 'predictions': [{'label', 'index', 'score'}, ...]}``.

        Raises:
            UnknownServableError: No servable has that name.
            ServableUnavailableError: The servable failed to load.
            InvalidRequestError: The strategy or the image is invalid.
        """
        servable = self.get(name)
        strategy = check_strategy(strategy)
        if servable.status != "ready" or servable.batcher is None:
            raise ServableUnavailableError(
                f"Servable {name!r} failed to load and cannot predict: {servable.error}. "
                "Fix its configuration and restart the server."
            )
        image = decode(data, self.config.max_image_pixels)
        try:
            tensor = preprocess(servable, image)
        except TinyMSError as err:
            raise InvalidRequestError(
                "invalid_image", f"Cannot preprocess the image: {err}"
            ) from err
        logits = servable.batcher.submit(tensor)
        return {"servable": name, "predictions": postprocess(servable, logits, strategy)}

