"""End-to-end tests: a LeNet5 trained on real MNIST, served by waitress in a subprocess,
called through the client functions and raw HTTP."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import threading
import urllib.parse

import numpy as np
import pytest
from test_serving_support import (
    BAD_REQUESTS,
    MAX_CONTENT_LENGTH,
    MAX_IMAGE_PIXELS,
    broken_servable,
    mnist_split,
    png_bytes,
    trained_checkpoint,
    write_config,
)

from tinyms.errors import ServingError
from tinyms.serving import client as serving_client
from tinyms.serving import (
    list_servables,
    predict,
    server_started,
    server_url,
    shutdown,
    start_server,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    config = write_config(
        folder,
        [{"model": "lenet5", "dataset": "mnist", "checkpoint": trained_checkpoint()},
         broken_servable(folder)],
        max_content_length=MAX_CONTENT_LENGTH, max_image_pixels=MAX_IMAGE_PIXELS,
    )
    url = start_server(port=0, servables=str(config))
    yield url
    assert shutdown() is True


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory):
    """Write the whole MNIST test split as PNG files; return ``(paths, labels)``."""
    folder = tmp_path_factory.mktemp("digits")
    images, labels = mnist_split("test")
    paths = []
    for index, image in enumerate(images):
        path = folder / f"{index:04d}_{labels[index]}.png"
        path.write_bytes(png_bytes(image))
        paths.append(path)
    return paths, labels


def _raw_request(url, method, path, headers=None, body=b""):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_server_answers_on_loopback(server):
    assert server.startswith("http://127.0.0.1:")
    assert server_url() == server
    assert server_started() is True


def test_list_servables(server):
    listed = {item["name"]: item for item in list_servables()}
    assert set(listed) == {"lenet5_mnist", "broken"}
    assert listed["lenet5_mnist"]["status"] == "ready"
    assert listed["lenet5_mnist"]["classes"] == [str(digit) for digit in range(10)]
    assert listed["lenet5_mnist"]["loads"] == 1
    assert listed["broken"]["status"] == "failed"
    assert "absent.ckpt" in listed["broken"]["error"]


def test_predict_real_digits_accuracy(server, digit_files):
    paths, labels = digit_files
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda path: predict(path, "lenet5", "mnist"), paths))
    predicted = np.array([int(answer["predictions"][0]["label"]) for answer in answers])
    accuracy = float(np.mean(predicted == labels))
    print(f"served accuracy on {len(paths)} MNIST test digits: {accuracy:.4f}")
    assert all(answer["servable"] == "lenet5_mnist" for answer in answers)
    assert accuracy >= 0.97


def test_predict_top5_ranked(server, digit_files):
    paths, labels = digit_files
    answer = predict(paths[0], "lenet5_mnist", "mnist", strategy="TOP5_CLASS")
    predictions = answer["predictions"]
    assert len(predictions) == 5
    assert len({item["index"] for item in predictions}) == 5
    scores = [item["score"] for item in predictions]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 < sum(scores) <= 1.0 + 1e-6
    assert predictions[0]["label"] == str(labels[0])


def test_predict_rejects_wrong_dataset(server, digit_files):
    with pytest.raises(ServingError, match="serves the dataset 'mnist', not 'cifar10'"):
        predict(digit_files[0][0], "lenet5", "cifar10")


def test_predict_rejects_unknown_servable(server, digit_files):
    with pytest.raises(ServingError, match="Known servables: broken, lenet5_mnist"):
        predict(digit_files[0][0], "vgg16", "mnist")


def test_predict_failed_servable_raises_with_status(server, digit_files):
    with pytest.raises(ServingError) as caught:
        predict(digit_files[0][0], "broken", "cifar10")
    assert caught.value.status == 503
    assert caught.value.body["error"] == "servable_unavailable"


def test_predict_rejects_bad_arguments(server, tmp_path):
    with pytest.raises(ServingError, match="Invalid strategy 'TOP2_CLASS'"):
        predict(tmp_path / "x.png", "lenet5", "mnist", strategy="TOP2_CLASS")
    with pytest.raises(ServingError, match="Cannot read the image file"):
        predict(tmp_path / "missing.png", "lenet5", "mnist")
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image", encoding="utf-8")
    with pytest.raises(ServingError) as caught:
        predict(text_file, "lenet5", "mnist")
    assert caught.value.status == 400
    assert caught.value.body["error"] == "invalid_image"


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[row[0] for row in BAD_REQUESTS])
def test_bad_request_on_waitress(server, case):
    name, method, path, headers, body, status, expected = case
    request_id = f"live-{name}"
    got_status, got_headers, got_body = _raw_request(
        server, method, path, {**headers, "X-Request-ID": request_id}, body)
    if name == "failed-servable":
        error = next(item["error"] for item in list_servables() if item["name"] == "broken")
        expected = {**expected, "message": expected["message"].format(error=error)}
    assert got_status == status
    assert got_headers["Content-Type"] == "application/json"
    assert json.loads(got_body) == {**expected, "request_id": request_id}
    assert _raw_request(server, "GET", "/health")[0] == 200


def test_concurrent_requests_match_single_answers(server, digit_files):
    paths, _ = digit_files
    chosen = paths[:16]
    alone = [predict(path, "lenet5_mnist", "mnist", "TOP5_CLASS") for path in chosen]
    barrier = threading.Barrier(len(chosen))
    together = [None] * len(chosen)

    def send(position):
        barrier.wait(timeout=30)
        together[position] = predict(chosen[position], "lenet5_mnist", "mnist", "TOP5_CLASS")

    threads = [threading.Thread(target=send, args=(position,)) for position in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    for single, concurrent_answer in zip(alone, together):
        assert concurrent_answer is not None
        assert [item["label"] for item in concurrent_answer["predictions"]] == [
            item["label"] for item in single["predictions"]]
        # A batched forward pass may differ from a single one in the last float bits.
        np.testing.assert_allclose(
            [item["score"] for item in concurrent_answer["predictions"]],
            [item["score"] for item in single["predictions"]], rtol=0, atol=1e-6)
    assert len({answer["predictions"][0]["label"] for answer in together}) > 1

    listed = {item["name"]: item for item in list_servables()}
    assert listed["lenet5_mnist"]["loads"] == 1
    health = json.loads(_raw_request(server, "GET", "/health")[2])
    assert health["servables"]["lenet5_mnist"]["loads"] == 1


def test_url_from_environment(server, monkeypatch):
    monkeypatch.setattr(serving_client, "_last_url", None)
    monkeypatch.setenv(serving_client.URL_ENV, server + "/")
    assert server_url() == server
    assert server_started() is True
    monkeypatch.setenv(serving_client.URL_ENV, "http://127.0.0.1:9")
    assert server_started() is False
    with pytest.raises(ServingError, match="Cannot reach the serving server"):
        list_servables()
