"""Fetching one file from a URL or a local folder into a temporary file.

HTTP uses the standard library (urllib). A fetch resumes a partial temporary
file with an HTTP Range request and restarts when the server ignores the
range. It retries transient failures (connection errors, timeouts, truncated
bodies, HTTP 408, 429 and 5xx) with exponential backoff. An HTML page served in
place of the file is rejected.
"""

from __future__ import annotations

import http.client
import logging
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tinyms.errors import DownloadError

__all__ = ["fetch", "fetch_bytes", "is_url", "ConnectionFailedError"]

logger = logging.getLogger(__name__)

ATTEMPTS = 4
"""Attempts per file and source, the first included."""
BACKOFF_S = 1.0
"""Wait before the first retry, in seconds; doubled before each later retry."""
TIMEOUT_S = 60.0
"""Socket timeout of one request, in seconds."""

_CHUNK = 1 << 16
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_USER_AGENT = "tinyms-dataset-downloader"


class ConnectionFailedError(DownloadError):
    """The server could not be reached after every retry."""


class _TransientError(Exception):
    """A failure worth retrying; ``cause`` is the error to raise when retries run out."""

    def __init__(self, message: str, cause: DownloadError):
        super().__init__(message)
        self.cause = cause


def is_url(location: str) -> bool:
    """Return True for an ``http://`` or ``https://`` location."""
    return urllib.parse.urlsplit(str(location)).scheme in ("http", "https")


def _progress(total: int | None, initial: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=desc, leave=False, disable=not sys.stderr.isatty())


def _reject_html(url: str, content_type: str, first: bytes) -> None:
    if "text/html" in content_type.lower() or _HTML_START.match(first):
        raise DownloadError(
            f"{url} returned an HTML page (Content-Type {content_type or 'not set'!r}) "
            "instead of the dataset file. The server sent an error or login page; check "
            "the URL or the mirror."
        )


def _open(url: str, offset: int) -> http.client.HTTPResponse:
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        err.close()
        error = DownloadError(f"HTTP error {err.code} ({err.reason}) for {url}.")
        if err.code in _TRANSIENT_STATUS or (err.code == 416 and offset):
            raise _TransientError(f"HTTP {err.code}", error) from err
        raise DownloadError(
            f"HTTP error {err.code} ({err.reason}) for {url}. Check the URL or the mirror."
        ) from err
    except urllib.error.URLError as err:
        error = ConnectionFailedError(f"Cannot connect to download {url}: {err.reason}.")
        raise _TransientError(str(err.reason), error) from err
    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as err:
        error = ConnectionFailedError(f"Cannot connect to download {url}: {err!r}.")
        raise _TransientError(repr(err), error) from err


def _fetch_once(url: str, part: Path, desc: str) -> None:
    offset = part.stat().st_size if part.exists() else 0
    response = _open(url, offset)
    with response:
        status = response.status
        if status == 206:
            content_range = response.headers.get("Content-Range", "")
            match = re.match(r"bytes (\d+)-", content_range)
            if not match or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                error = DownloadError(f"{url} responded to a range request with {content_range!r}.")
                raise _TransientError("range mismatch, restarting", error)
        elif offset:
            logger.info("%s ignored the range request; restarting the download", url)
            offset = 0

        length_header = response.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        content_type = response.headers.get("Content-Type", "")
        received = 0
        mode = "ab" if offset else "wb"
        with open(part, mode) as handle, _progress(
            offset + length if length is not None else None, offset, desc
        ) as bar:
            try:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    if offset == 0 and received == 0:
                        _reject_html(url, content_type, chunk)
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, socket.timeout,
                    http.client.HTTPException) as err:
                error = DownloadError(
                    f"The connection to {url} broke after {offset + received} bytes: {err!r}."
                )
                raise _TransientError("connection broke", error) from err

    if length is not None and received < length:
        error = DownloadError(
            f"{url} sent {received} of {length} bytes before closing the connection."
        )
        raise _TransientError("truncated body", error)


def _fetch_url(url: str, part: Path, desc: str) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _fetch_once(url, part, desc)
            return
        except _TransientError as err:
            if attempt == ATTEMPTS:
                raise err.cause from err
            delay = BACKOFF_S * 2 ** (attempt - 1)
            logger.warning(
                "Download of %s failed (%s); retry %d of %d in %.1f s",
                url, err, attempt, ATTEMPTS - 1, delay,
            )
            time.sleep(delay)


def _copy_local(source: Path, part: Path) -> None:
    if not source.is_file():
        raise DownloadError(f"{source} not found: the local source has no such file.")
    with open(source, "rb") as reader, open(part, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)


def fetch(location: str, part: Path, desc: str) -> None:
    """Copy the file at ``location`` into ``part``, resuming a partial ``part``.

    Args:
        location: An ``http(s)://`` URL, a ``file://`` URL or a local path.
        part: The temporary file to fill. A partial file from an earlier try is
            continued with an HTTP Range request when the server supports it.
        desc: The label of the progress bar (shown only on a terminal).

    Raises:
        ConnectionFailedError: The server could not be reached after every retry.
        DownloadError: An HTTP error, an HTML page in place of the file, or a body
            that stayed truncated after every retry.
    """
    if is_url(location):
        _fetch_url(location, part, desc)
        return
    if location.startswith("file://"):
        location = urllib.request.url2pathname(urllib.parse.urlsplit(location).path)
    _copy_local(Path(location), part)


def fetch_bytes(location: str, max_bytes: int = 1 << 20) -> bytes:
    """Return the content of a small file at a URL or local path (a checksum list, say)."""
    if not is_url(location):
        if location.startswith("file://"):
            location = urllib.request.url2pathname(urllib.parse.urlsplit(location).path)
        path = Path(location).expanduser()
        if not path.is_file():
            raise DownloadError(f"{location} not found: no such checksum file.")
        return path.read_bytes()[:max_bytes]

    attempt = 1
    while True:
        try:
            response = _open(location, 0)
            with response:
                data = response.read(max_bytes + 1)
                content_type = response.headers.get("Content-Type", "")
            break
        except _TransientError as err:
            if attempt == ATTEMPTS:
                raise err.cause from err
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
            attempt += 1

    if len(data) > max_bytes:
        raise DownloadError(f"{location} is larger than {max_bytes} bytes.")
    _reject_html(location, content_type, data[:512])
    return data
