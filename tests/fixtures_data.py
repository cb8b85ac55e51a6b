"""Pytest fixtures for dataset tests: a local HTTP server and dataset folders.

``file_server`` serves a folder (and extra files) over HTTP on 127.0.0.1 with
Range support. Its switches inject failures: error statuses for the first N
requests, an HTML page in place of a file, a body cut short, a connection
closed without a response, and a server that ignores Range. ``mnist_server``
serves the real MNIST subset kept in ``shared/data/mnist`` beside the
repository. The CIFAR folders are full-size (MindSpore reads nothing smaller),
so they are built once per session in a temporary folder.
"""

from __future__ import annotations

import hashlib
import re
import socket
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import datagen  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"

_HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Error</title></head>"
              b"<body><h1>Service unavailable</h1></body></html>")


@dataclass
class _Fault:
    """One injected failure: applies to the first ``times`` requests of a file."""

    kind: str  # "status", "html", "truncate" or "drop"
    times: int
    status: int = 500
    after: int = 0  # bytes sent before the connection closes, for "truncate"
    content_type: str = "text/html"  # the Content-Type of an "html" page


@dataclass
class FileServer:
    """A threaded HTTP server over a folder, with failure injection.

    Attributes:
        folder: The folder served at the root URL.
        url: The base URL, ending in ``/``.
        requests: ``(file name, Range header or None)`` for each request received.
        ignore_range: Respond to Range requests with the whole file (status 200).
    """

    folder: Path
    url: str = ""
    extra: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    ignore_range: bool = False
    _faults: dict[str, list[_Fault]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_file(self, name: str, data: bytes) -> str:
        """Serve ``data`` as ``name``; return its URL."""
        self.extra[name] = data
        return self.url + name

    def fail(self, name: str, status: int, times: int = 1) -> None:
        """Respond to the next ``times`` requests for ``name`` with HTTP ``status``."""
        self._faults.setdefault(name, []).append(_Fault("status", times, status=status))

    def serve_html(self, name: str, times: int = 1, content_type: str = "text/html") -> None:
        """Respond to the next ``times`` requests for ``name`` with an HTML error page (200)."""
        fault = _Fault("html", times, status=200, content_type=content_type)
        self._faults.setdefault(name, []).append(fault)

    def truncate(self, name: str, after: int, times: int = 1) -> None:
        """Send the full Content-Length but close after ``after`` body bytes."""
        self._faults.setdefault(name, []).append(_Fault("truncate", times, after=after))

    def drop(self, name: str, times: int = 1) -> None:
        """Close the connection without any response for the next ``times`` requests."""
        self._faults.setdefault(name, []).append(_Fault("drop", times))

    def count(self, name: str) -> int:
        """Return how many requests asked for ``name``."""
        return sum(1 for requested, _ in self.requests if requested == name)

    def _take_fault(self, name: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults.get(name, []):
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _content(self, name: str) -> bytes | None:
        if name in self.extra:
            return self.extra[name]
        path = (self.folder / name).resolve()
        if not path.is_relative_to(self.folder.resolve()) or not path.is_file():
            return None
        return path.read_bytes()


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output quiet

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None, send_body: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            name = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
            range_header = self.headers.get("Range")
            with server._lock:
                server.requests.append((name, range_header))

            fault = server._take_fault(name)
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault is not None and fault.kind == "status":
                body = f"error {fault.status}".encode()
                self._send(fault.status, body, "text/plain")
                return
            if fault is not None and fault.kind == "html":
                self._send(200, _HTML_PAGE, fault.content_type)
                return

            content = server._content(name)
            if content is None:
                self._send(404, b"not found", "text/plain")
                return

            status, start = 200, 0
            headers: dict[str, str] = {"Accept-Ranges": "bytes"}
            match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
            if match and not server.ignore_range:
                start = int(match.group(1))
                if start >= len(content):
                    self._send(416, b"", "text/plain",
                               {"Content-Range": f"bytes */{len(content)}"})
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
            body = content[start:]

            if fault is not None and fault.kind == "truncate":
                self._send(status, body, "application/octet-stream", headers, send_body=False)
                self.wfile.write(body[:fault.after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(status, body, "application/octet-stream", headers)

    return Handler


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorten the download backoff so retry tests take milliseconds."""
    from tinyms.data import _http

    monkeypatch.setattr(_http, "BACKOFF_S", 0.01)
    monkeypatch.setattr(_http, "TIMEOUT_S", 10.0)


@pytest.fixture
def file_server(monkeypatch: pytest.MonkeyPatch, fast_retries: None):
    """Return a factory ``make(folder) -> FileServer``; every server stops after the test."""
    from tinyms.data.download import CHECKSUMS_ENV, MIRROR_ENV

    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.delenv(CHECKSUMS_ENV, raising=False)
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def make(folder: str | Path) -> FileServer:
        server = FileServer(Path(folder))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
        httpd.daemon_threads = True
        server.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((httpd, thread))
        return server

    yield make
    for httpd, thread in started:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def mnist_server(file_server) -> FileServer:
    """Serve the real MNIST subset (7,000 train and 2,000 test digits) and its SHA256SUMS."""
    if not (SHARED_MNIST / "SHA256SUMS").is_file():
        pytest.fail(f"The MNIST test data is missing: expected {SHARED_MNIST}/SHA256SUMS.")
    return file_server(SHARED_MNIST)


@pytest.fixture
def closed_port_url() -> str:
    """Return a URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def sha256_of(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic MNIST root (200 train, 100 test digits) in the download layout."""
    return datagen.write_mnist_idx(tmp_path_factory.mktemp("mnist") / "mnist", 200, 100)


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-size synthetic CIFAR-10 root (train/ and test/), built once per session."""
    return datagen.write_cifar10_bins(tmp_path_factory.mktemp("cifar10") / "cifar10")


@pytest.fixture(scope="session")
def cifar100_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-size synthetic CIFAR-100 root (train/ and test/), built once per session."""
    return datagen.write_cifar100_bins(tmp_path_factory.mktemp("cifar100") / "cifar100")


@pytest.fixture(scope="session")
def image_folder_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image-folder root with train/ and test/, three classes of 32x32 PNG images."""
    root = tmp_path_factory.mktemp("images") / "flowers"
    classes = ("daisy", "rose", "tulip")
    datagen.write_image_folder(root / "train", classes, per_class=4, seed=0)
    datagen.write_image_folder(root / "test", classes, per_class=2, seed=1)
    return root


def iter_files(folder: Path) -> Iterator[Path]:
    """Yield every file under ``folder`` (test helper for leftover checks)."""
    return (p for p in folder.rglob("*") if p.is_file())
