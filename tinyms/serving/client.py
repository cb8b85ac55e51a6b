"""The client functions: start a server process, list its servables, predict, shut it down.

They talk to the server only through its REST API (with ``urllib``), so they
work the same against a server started here and against one elsewhere::

    from tinyms.serving import start_server, predict, list_servables, server_started, shutdown
    start_server(servables='servables.yaml')
    list_servables()
    if server_started():
        res = predict('digit.png', 'lenet5', 'mnist')
    shutdown()

The server address is the one of the last :func:`start_server` call, else
``$TINYMS_SERVING_URL``, else ``http://127.0.0.1:5000``. Failures raise
:class:`~tinyms.errors.ServingError`.
"""

from __future__ import annotations

import atexit
import json
import logging
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tinyms.errors import ServingError, TinyMSError
from tinyms.serving.config import (
    ServableSpec,
    ServingConfig,
    find_config,
    load_config,
    parse_config,
)

__all__ = [
    "URL_ENV",
    "start_server",
    "server_started",
    "list_servables",
    "predict",
    "shutdown",
    "server_url",
]

logger = logging.getLogger(__name__)

#: Environment variable with the server address used when this process started none.
URL_ENV = "TINYMS_SERVING_URL"
_DEFAULT_URL = "http://127.0.0.1:5000"
_STRATEGIES = ("TOP1_CLASS", "TOP5_CLASS")
_STDERR_TAIL = 4000
# Never send requests through an HTTP proxy from the environment: the server is
# usually on this machine, and a proxy would see every uploaded image.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _OwnedServer:
    """The server process this module started, and the files it made for it."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, folder: str, log_path: str):
        self.process = process
        self.url = url
        self.folder = folder
        self.log_path = log_path


_lock = threading.Lock()
_owned: _OwnedServer | None = None
_last_url: str | None = None
# The last /servables listing of each server address, so predict() sends one
# request, not two. It is refreshed when a name is not found in it.
_listings: dict[str, list[dict[str, Any]]] = {}


def server_url() -> str:
    """Return the address the client functions use (see the module docstring)."""
    if _last_url:
        return _last_url
    return os.environ.get(URL_ENV, "").rstrip("/") or _DEFAULT_URL


def _stderr_tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _STDERR_TAIL))
            return handle.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


def _request(method: str, url: str, data: bytes | None = None,
             headers: Mapping[str, str] | None = None, timeout: float = 60.0) -> tuple[int, Any]:
    """Send one request; return ``(status, parsed JSON body)`` for any HTTP response.

    Raises:
        ServingError: The server cannot be reached or its response is not JSON.
    """
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ServingError(
            f"Cannot reach the serving server at {url}: {reason}. Start one with start_server() "
            f"or set {URL_ENV} to a running server's address."
        ) from err
    try:
        return status, json.loads(body)
    except ValueError as err:
        raise ServingError(
            f"The server at {url} responded with status {status} and a body that is not JSON: "
            f"{body[:200]!r}. Check that {URL_ENV} points at a tinyms server."
        ) from err


def _raise_for_status(status: int, body: Any, what: str) -> None:
    if 200 <= status < 300:
        return
    message = body.get("message") if isinstance(body, dict) else None
    error = ServingError(f"{what} failed with status {status}: {message or body}")
    error.status = status  # type: ignore[attr-defined]
    error.body = body  # type: ignore[attr-defined]
    raise error


def _config_file(servables: Any, folder: str) -> str:
    """Return a configuration file for the server, checking it here first."""
    if servables is None:
        path = find_config()
        load_config(path)
        return str(path)
    if isinstance(servables, (str, os.PathLike)):
        load_config(servables)
        return str(Path(servables).expanduser().resolve())
    if isinstance(servables, ServableSpec):
        servables = [servables]
    if isinstance(servables, Sequence) and not isinstance(servables, (str, bytes)):
        servables = [item.to_dict() if isinstance(item, ServableSpec) else item
                     for item in servables]
    config = servables if isinstance(servables, ServingConfig) else parse_config(servables)
    path = os.path.join(folder, "servables.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config.to_dict(), handle, indent=2)
    return path


def _wait_until_ready(process: subprocess.Popen[bytes], ready_file: str, log_path: str,
                      timeout: float) -> str:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise ServingError(
                f"The serving server exited with status {code} while starting. Its output "
                f"ends with:\n{_stderr_tail(log_path)}"
            )
        if url is None and os.path.exists(ready_file):
            with open(ready_file, encoding="utf-8") as handle:
                url = json.load(handle)["url"]
        if url is not None:
            try:
                _request("GET", f"{url}/health", timeout=2.0)
                return url
            except ServingError:
                pass
        time.sleep(0.1)
    raise ServingError(
        f"The serving server did not respond to /health within {timeout:.0f} s, so it was "
        "stopped. "
        f"Its output ends with:\n{_stderr_tail(log_path)}"
    )


def start_server(
    host: str = "127.0.0.1",
    port: int = 5000,
    servables: Any = None,
    *,
    timeout: float = 180.0,
    threads: int = 8,
    max_batch_size: int = 16,
    debug: bool = False,
) -> str:
    """Start a serving server in a background process and wait until ``/health`` responds.

    The process belongs to this Python process: :func:`shutdown` stops it, and
    so does the exit of this process.

    Args:
        host: Address to bind. Defaults to ``127.0.0.1``, reachable from this
            machine only; pass ``'0.0.0.0'`` to accept other machines.
        port: Port to bind; 0 picks a free one. Defaults to 5000.
        servables: A configuration file path, a list of servable mappings
            (``{'model': 'lenet5', 'dataset': 'mnist', 'checkpoint': 'x.ckpt'}``),
            a mapping with a ``servables`` list, or a ``ServingConfig``. ``None``
            (default) reads ``$TINYMS_SERVING_CONFIG``, else ``~/.tinyms/servables.yaml``.
        timeout: Seconds to wait for ``/health`` to respond. Defaults to 180.
        threads: Server worker threads. Defaults to 8.
        max_batch_size: Most requests one forward pass takes; 1 turns batching off.
        debug: Use Flask's development server in debug mode (not for production).

    Returns:
        The server's base URL, e.g. ``'http://127.0.0.1:5000'``.

    Raises:
        ServingError: A server started here is still running, the configuration
            is missing, or the server exited or timed out while starting (the
            message ends with its output).
        InvalidArgumentError: The configuration is invalid.
    """
    global _owned, _last_url

    with _lock:
        if _owned is not None and _owned.process.poll() is None:
            raise ServingError(
                f"A server started by this process is already running at {_owned.url}. "
                "Call shutdown() before starting another."
            )
        folder = tempfile.mkdtemp(prefix="tinyms-serving-")
        try:
            config_path = _config_file(servables, folder)
        except (TinyMSError, OSError):
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ready_file = os.path.join(folder, "ready.json")
        log_path = os.path.join(folder, "server.log")
        command = [
            sys.executable, "-m", "tinyms.serving", "--config", config_path,
            "--host", host, "--port", str(int(port)), "--threads", str(int(threads)),
            "--max-batch-size", str(int(max_batch_size)), "--ready-file", ready_file,
        ]
        if debug:
            command.append("--debug")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT)
        logger.info("Started serving process %d (%s)", process.pid, " ".join(command))
        try:
            url = _wait_until_ready(process, ready_file, log_path, timeout)
        except BaseException:
            _stop_process(process)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _owned = _OwnedServer(process, url, folder, log_path)
        _last_url = url
        _listings.pop(url, None)
        logger.info("Serving process %d is ready at %s", process.pid, url)
        return url


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 40.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("Serving process %d ignored SIGTERM for %.0f s; killing it",
                           process.pid, timeout)
            process.kill()
            process.wait()
    return process.returncode


def shutdown(timeout: float = 40.0) -> bool:
    """Stop the server process that :func:`start_server` started, and wait for it to exit.

    The server finishes the requests in flight first. Only that process is
    stopped, through its own handle; a server found through
    ``$TINYMS_SERVING_URL`` is left alone.

    Args:
        timeout: Seconds to wait after SIGTERM before the process is killed.

    Returns:
        True when a process was stopped, False when this process started none
        (or it had exited already).
    """
    global _owned, _last_url

    with _lock:
        owned, _owned = _owned, None
        if owned is None:
            return False
        _last_url = None
        _listings.pop(owned.url, None)
        running = owned.process.poll() is None
        code = _stop_process(owned.process, timeout)
        logger.info("Serving process %d exited with status %s", owned.process.pid, code)
        shutil.rmtree(owned.folder, ignore_errors=True)
        return running


atexit.register(shutdown)


def server_started() -> bool:
    """Return True when ``/health`` responds with status 200 (at least one servable ready)."""
    try:
        status, _ = _request("GET", f"{server_url()}/health", timeout=5.0)
    except ServingError:
        return False
    return status == 200


def list_servables() -> list[dict[str, Any]]:
    """Return the server's servables: ``[{'name', 'model', 'dataset', 'classes', 'status'}]``.

    Raises:
        ServingError: The server cannot be reached or fails.
    """
    url = server_url()
    status, body = _request("GET", f"{url}/servables")
    _raise_for_status(status, body, "Listing the servables")
    servables = list(body["servables"])
    _listings[url] = servables
    return servables


def _resolve_servable(servable_name: str, servables: list[dict[str, Any]]) -> dict[str, Any]:
    by_name = {item["name"]: item for item in servables}
    if servable_name in by_name:
        return by_name[servable_name]
    by_model = [item for item in servables if item["model"] == servable_name]
    if len(by_model) == 1:
        return by_model[0]
    names = ", ".join(sorted(by_name)) or "none"
    if by_model:
        raise ServingError(
            f"The model name {servable_name!r} matches several servables "
            f"({', '.join(item['name'] for item in by_model)}). Pass one servable name."
        )
    raise ServingError(f"Unknown servable {servable_name!r}. Known servables: {names}.")


def predict(image_path: str | os.PathLike, servable_name: str, dataset_name: str = "mnist",
            strategy: str = "TOP1_CLASS") -> dict[str, Any]:
    """Classify one image file with a servable of the server.

    Args:
        image_path: An image file (PNG, JPEG, BMP, TIFF, GIF, WebP, ...).
        servable_name: A servable name (``'lenet5_mnist'``), or a model name
            (``'lenet5'``) that exactly one servable uses.
        dataset_name: The dataset the servable must have been trained on.
            Defaults to ``'mnist'``.
        strategy: ``'TOP1_CLASS'`` (default) or ``'TOP5_CLASS'``.

    Returns:
        ``{'servable': name, 'predictions': [{'label', 'index', 'score'}, ...]}``,
        best first.

    Raises:
        ServingError: Unknown servable, a ``dataset_name`` other than the
            servable's, an unreadable file, or a failed request (``.status``
            is the HTTP status and ``.body`` the server's JSON response).
    """
    if strategy not in _STRATEGIES:
        raise ServingError(
            f"Invalid strategy {strategy!r}. Valid strategies: {', '.join(_STRATEGIES)}."
        )
    try:
        data = Path(image_path).read_bytes()
    except OSError as err:
        raise ServingError(f"Cannot read the image file {str(image_path)!r}: {err}.") from err

    url = server_url()
    try:
        servable = _resolve_servable(servable_name, _listings[url])
    except (KeyError, ServingError):
        servable = _resolve_servable(servable_name, list_servables())
    if servable["dataset"] != dataset_name:
        raise ServingError(
            f"The servable {servable['name']!r} serves the dataset {servable['dataset']!r}, "
            f"not {dataset_name!r}. Pass dataset_name={servable['dataset']!r} or pick a "
            "servable of that dataset."
        )

    content_type = mimetypes.guess_type(str(image_path))[0] or "application/octet-stream"
    if not content_type.startswith("image/"):
        content_type = "application/octet-stream"
    name = urllib.parse.quote(servable["name"], safe="")
    query = urllib.parse.urlencode({"strategy": strategy})
    status, body = _request("POST", f"{url}/servables/{name}/predict?{query}",
                            data=data, headers={"Content-Type": content_type})
    if status == 404:
        _listings.pop(url, None)  # the server no longer has it; list again next time
    _raise_for_status(status, body, f"Predicting {str(image_path)!r} with {servable['name']!r}")
    return body
