"""The web page in headless Chromium: upload real digits, read the predictions from the page.

Chromium is driven over the Chrome DevTools Protocol with a small standard-library
WebSocket client. Without Chromium the test is skipped, except when ``CI`` is
set, where it fails (install Debian's ``chromium`` package).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
from test_serving_support import mnist_split, png_bytes, trained_checkpoint, write_config

from tinyms.serving import predict, shutdown, start_server

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _find_chromium():
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    message = f"Chromium not found (looked for {', '.join(_BROWSERS)}); apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class DevTools:
    """A minimal CDP client over one WebSocket (RFC 6455, text frames only)."""

    def __init__(self, websocket_url: str):
        parts = urllib.parse.urlsplit(websocket_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        self.next_id = 0

    def _receive_exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            data += chunk
        return data

    def _receive_message(self) -> dict:
        payload = b""
        while True:
            first, second = self._receive_exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._receive_exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._receive_exact(8))[0]
            payload += self._receive_exact(length)
            if first & 0x80:  # FIN: the last fragment
                return json.loads(payload)

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        message = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(message) < 126:
            header += bytes([0x80 | len(message)])
        elif len(message) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(message))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(message))
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(message))
        self.sock.sendall(header + mask + masked)
        while True:
            answer = self._receive_message()
            if answer.get("id") == self.next_id:
                assert "error" not in answer, answer
                return answer["result"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        # The page may still be loading (no document.body yet), so errors count as false.
        guarded = (f"(() => {{ try {{ return {expression}; }} "
                   "catch (error) { return false; } })()")
        while time.monotonic() < deadline:
            value = self.evaluate(guarded)
            if value:
                return value
            time.sleep(0.1)
        state = self.evaluate("document.body.dataset.state + ': ' + "
                              "document.getElementById('status').textContent")
        raise AssertionError(f"timed out waiting for {expression}; page state {state}")

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    config = write_config(folder, [{"model": "lenet5", "dataset": "mnist",
                                    "checkpoint": trained_checkpoint()}])
    url = start_server(port=0, servables=str(config))
    yield url
    shutdown()


@pytest.fixture()
def page(server, tmp_path):
    chromium = _find_chromium()
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", server + "/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    devtools = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, "Chromium exited while starting"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = [item for item in json.load(r) if item["type"] == "page"]
            if targets:
                break
            time.sleep(0.1)
        devtools = DevTools(targets[0]["webSocketDebuggerUrl"])
        devtools.send("Runtime.enable")
        devtools.send("DOM.enable")
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the group Chromium was started in
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


_READ_TABLE = """JSON.stringify([...document.querySelectorAll('#results tr.prediction')].map(
    (row) => [row.querySelector('.label').textContent,
              Number(row.querySelector('.score').dataset.score)]))"""


def _rest_answer(path):
    answer = predict(path, "lenet5_mnist", "mnist", strategy="TOP5_CLASS")
    return [(item["label"], item["score"]) for item in answer["predictions"]]


def _assert_same(table, expected, label):
    assert len(table) == 5
    assert table[0][0] == label
    assert [row[0] for row in table] == [row[0] for row in expected]
    np.testing.assert_allclose([row[1] for row in table], [row[1] for row in expected],
                               atol=1e-6)


def test_page_classifies_picked_and_dropped_digits(page, tmp_path):
    images, labels = mnist_split("test")
    assert page.wait_for("document.body.dataset.state === 'ready'")
    assert page.evaluate("document.getElementById('servable').value") == "lenet5_mnist"

    # Pick a file through the file input, as a user does in the file dialog.
    picked = tmp_path / "picked.png"
    picked.write_bytes(png_bytes(images[7]))
    document = page.send("DOM.getDocument")
    node = page.send("DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#file")
    page.send("DOM.setFileInputFiles", files=[str(picked)], nodeId=node["nodeId"])
    page.wait_for("document.body.dataset.state === 'done'")
    _assert_same(json.loads(page.evaluate(_READ_TABLE)), _rest_answer(picked), str(labels[7]))
    assert "picked.png: " + str(labels[7]) in page.evaluate(
        "document.getElementById('status').textContent")

    # Drop another digit on the drop zone.
    dropped = tmp_path / "dropped.png"
    dropped.write_bytes(png_bytes(images[8]))
    encoded = base64.b64encode(dropped.read_bytes()).decode()
    page.evaluate(f"""(() => {{
        const bytes = Uint8Array.from(atob('{encoded}'), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', {{type: 'image/png'}}));
        document.body.dataset.state = 'waiting';
        document.getElementById('drop').dispatchEvent(
            new DragEvent('drop', {{dataTransfer: transfer, bubbles: true, cancelable: true}}));
    }})()""")
    page.wait_for("document.body.dataset.state === 'done'")
    _assert_same(json.loads(page.evaluate(_READ_TABLE)), _rest_answer(dropped), str(labels[8]))


def test_page_shows_server_error(page, tmp_path):
    assert page.wait_for("document.body.dataset.state === 'ready'")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    document = page.send("DOM.getDocument")
    node = page.send("DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#file")
    page.send("DOM.setFileInputFiles", files=[str(broken)], nodeId=node["nodeId"])
    page.wait_for("document.body.dataset.state === 'error'")
    status = page.evaluate("document.getElementById('status').textContent")
    assert status.startswith("Error 400: Cannot decode an image from 9 bytes")
    assert page.evaluate("document.getElementById('results').hidden") is True
