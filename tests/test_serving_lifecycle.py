"""Tests of the server process's life: start, failures, SIGTERM draining, shutdown."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from test_serving_support import free_port, mnist_split, png_bytes, write_config

from tinyms.errors import ServingError
from tinyms.serving import client as serving_client
from tinyms.serving import list_servables, predict, server_started, shutdown, start_server


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from tinyms.model import Model, get_network

    folder = tmp_path_factory.mktemp("lifecycle")
    return Model(get_network("lenet5", class_num=10)).save_checkpoint(folder / "lenet5.ckpt")


@pytest.fixture()
def servables(checkpoint):
    return [{"model": "lenet5", "dataset": "mnist", "checkpoint": checkpoint}]


@pytest.fixture(autouse=True)
def no_server_left():
    yield
    leftover = serving_client._owned
    shutdown()
    assert leftover is None, "a test left its server running"


def _port_is_free(port):
    """Return True when nothing listens on the port and a server could bind it again."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As every server does (waitress too): closed connections may linger in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    return True


def test_shutdown_stops_own_process_and_frees_port(servables, tmp_path):
    port = free_port()
    url = start_server(port=port, servables=servables)
    process = serving_client._owned.process
    assert url == f"http://127.0.0.1:{port}"
    assert server_started() is True
    assert [item["name"] for item in list_servables()] == ["lenet5_mnist"]
    image = tmp_path / "digit.png"
    image.write_bytes(png_bytes(mnist_split("test")[0][1]))
    assert predict(image, "lenet5", "mnist")["servable"] == "lenet5_mnist"

    assert shutdown() is True
    assert process.returncode == 0
    assert _port_is_free(port)
    assert shutdown() is False


def test_second_start_is_rejected(servables):
    url = start_server(port=0, servables=servables)
    with pytest.raises(ServingError, match=f"already running at {url}"):
        start_server(port=0, servables=servables)
    assert shutdown() is True


def test_start_failure_includes_server_output(servables):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServingError) as caught:
            start_server(port=port, servables=servables)
    message = str(caught.value)
    assert "exited with status 1 while starting" in message
    assert "address already in use" in message.lower()
    assert serving_client._owned is None


def test_start_without_config_file(tmp_path, monkeypatch):
    missing = tmp_path / "none.yaml"
    monkeypatch.setenv("TINYMS_SERVING_CONFIG", str(missing))
    with pytest.raises(ServingError, match="configuration file not found"):
        start_server(port=0)
    assert serving_client._owned is None


def test_debug_server_serves(servables):
    start_server(port=0, servables=servables, debug=True)
    assert server_started() is True
    assert shutdown() is True


def test_cli_help():
    result = subprocess.run([sys.executable, "-m", "tinyms.serving", "--help"],
                            capture_output=True, text=True, timeout=60, check=True)
    for option in ("--config", "--host", "--port", "--debug", "--max-batch-size"):
        assert option in result.stdout


def test_sigterm_finishes_request_in_flight(checkpoint, tmp_path):
    config = write_config(tmp_path, [{"model": "lenet5", "dataset": "mnist",
                                      "checkpoint": checkpoint}])
    ready = tmp_path / "ready.json"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115  (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "tinyms.serving", "--config", str(config), "--port", "0",
         "--ready-file", str(ready)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        port = json.loads(ready.read_text())["port"]

        body = png_bytes(mnist_split("test")[0][2])
        head = (f"POST /servables/lenet5_mnist/predict?strategy=TOP5_CLASS HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nContent-Type: image/png\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        slow = socket.create_connection(("127.0.0.1", port), timeout=60)
        slow.sendall(head + body[:50])
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(1.0)

        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert process.poll() is None  # still finishing the request in flight

        slow.sendall(body[50:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        slow.close()
        header, _, payload = answer.partition(b"\r\n\r\n")
        assert header.startswith(b"HTTP/1.1 200")
        assert len(json.loads(payload)["predictions"]) == 5

        assert process.wait(timeout=30) == 0
        output = (tmp_path / "server.log").read_text()
        assert "Received SIGTERM; stopping" in output
        assert "Stopped serving" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_generated_serve_script(checkpoint, tmp_path):
    project = tmp_path / "project"
    subprocess.run([sys.executable, "-m", "tinyms.generator.cli", "--model", "lenet5",
                    "--dataset", "mnist", "--output-dir", str(project)],
                   capture_output=True, text=True, timeout=120, check=True)
    log_path = tmp_path / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115  (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "serve.py", "--checkpoint", checkpoint, "--port", "0"],
        cwd=project, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (match := re.search(r"Serving on (http://127\.0\.0\.1:\d+)",
                                      log_path.read_text(errors="replace"))):
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline
            time.sleep(0.1)
        url = match.group(1)

        digit = png_bytes(mnist_split("test")[0][0])
        request = urllib.request.Request(
            f"{url}/servables/lenet5_mnist/predict?strategy=TOP5_CLASS", data=digit,
            headers={"Content-Type": "image/png"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert answer["servable"] == "lenet5_mnist"
        assert len(answer["predictions"]) == 5

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
