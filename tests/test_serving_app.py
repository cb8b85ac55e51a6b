"""Tests of the Flask app through Flask's test client (no socket)."""

from __future__ import annotations

import base64
import json
import logging
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serving_support import (
    BAD_REQUESTS,
    MAX_CONTENT_LENGTH,
    MAX_IMAGE_PIXELS,
    broken_servable,
    mnist_split,
    png_bytes,
)

from tinyms.serving.app import create_app
from tinyms.serving.config import parse_config


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from tinyms.model import Model, get_network

    folder = tmp_path_factory.mktemp("app")
    checkpoint = Model(get_network("lenet5", class_num=10)).save_checkpoint(folder / "w.ckpt")
    config = parse_config({
        "servables": [
            {"model": "lenet5", "dataset": "mnist", "checkpoint": checkpoint},
            broken_servable(folder),
        ],
        "max_content_length": MAX_CONTENT_LENGTH,
        "max_image_pixels": MAX_IMAGE_PIXELS,
    })
    application = create_app(config)
    yield application
    application.extensions["tinyms_serving"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


def _servable_error(client) -> str:
    listed = client.get("/servables").get_json()["servables"]
    return next(item["error"] for item in listed if item["name"] == "broken")


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[row[0] for row in BAD_REQUESTS])
def test_bad_request_answer(client, case):
    name, method, path, headers, body, status, expected = case
    request_id = f"test-{name}"
    response = client.open(path, method=method, data=body,
                           headers={**headers, "X-Request-ID": request_id})
    if name == "failed-servable":
        expected = {**expected,
                    "message": expected["message"].format(error=_servable_error(client))}
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {**expected, "request_id": request_id}
    assert response.headers["X-Request-ID"] == request_id
    assert client.get("/health").status_code == 200


def test_method_not_allowed_sets_allow_header(client):
    response = client.get("/servables/lenet5_mnist/predict")
    assert response.headers["Allow"] == "OPTIONS, POST"


def test_error_logged_once_with_request_id(client, caplog):
    with caplog.at_level(logging.WARNING, logger="tinyms.serving.app"):
        client.post("/servables/lenet5_mnist/predict", data=b"junk",
                    headers={"Content-Type": "image/png", "X-Request-ID": "abc-123"})
    records = [record for record in caplog.records if "abc-123" in record.getMessage()]
    assert len(records) == 1
    assert "400 invalid_image" in records[0].getMessage()


def test_request_id_generated_when_missing_or_invalid(client):
    plain = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", plain.headers["X-Request-ID"])
    hostile = client.get("/health", headers={"X-Request-ID": "<script>" + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])


def test_three_body_forms_agree(client):
    images, _ = mnist_split("test")
    data = png_bytes(images[5])
    path = "/servables/lenet5_mnist/predict"

    raw = client.post(path + "?strategy=TOP5_CLASS", data=data,
                      headers={"Content-Type": "image/png"})
    encoded = base64.urlsafe_b64encode(data).decode().rstrip("=")
    as_json = client.post(path, json={"image": encoded, "strategy": "TOP5_CLASS"})
    data_url = "data:image/png;base64," + base64.b64encode(data).decode()
    as_data_url = client.post(path + "?strategy=TOP5_CLASS", json={"image": data_url})
    multipart = client.post(path, data={"file": (__import__("io").BytesIO(data), "d.png"),
                                        "strategy": "TOP5_CLASS"},
                            content_type="multipart/form-data")

    answers = [response.get_json() for response in (raw, as_json, as_data_url, multipart)]
    assert [response.status_code for response in (raw, as_json, as_data_url, multipart)] == [
        200, 200, 200, 200]
    for answer in answers:
        assert answer["servable"] == "lenet5_mnist"
        assert len(answer["predictions"]) == 5
        assert [item["index"] for item in answer["predictions"]] == [
            item["index"] for item in answers[0]["predictions"]]
        np.testing.assert_allclose([item["score"] for item in answer["predictions"]],
                                   [item["score"] for item in answers[0]["predictions"]],
                                   atol=1e-6)
    scores = [item["score"] for item in answers[0]["predictions"]]
    assert scores == sorted(scores, reverse=True)
    assert answers[0]["predictions"][0]["label"] == str(answers[0]["predictions"][0]["index"])


def test_default_strategy_is_top1(client):
    response = client.post("/servables/lenet5_mnist/predict",
                           data=png_bytes(mnist_split("test")[0][0]),
                           headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == 1


def test_servables_and_health(client):
    listed = client.get("/servables").get_json()["servables"]
    assert [item["name"] for item in listed] == ["lenet5_mnist", "broken"]
    ready = listed[0]
    assert {key: ready[key] for key in ("name", "model", "dataset", "classes", "status")} == {
        "name": "lenet5_mnist", "model": "lenet5", "dataset": "mnist",
        "classes": [str(digit) for digit in range(10)], "status": "ready"}
    assert ready["loads"] == 1
    assert listed[1]["status"] == "failed"
    assert "absent.ckpt" in listed[1]["error"]
    assert client.get("/servables/lenet5_mnist").get_json() == ready

    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["servables"]["lenet5_mnist"] == {"status": "ready", "loads": 1}


def test_openapi_describes_every_route(client, app):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items() for method in operations
    }
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented
    predict = document["paths"]["/servables/{name}/predict"]["post"]
    assert set(predict["responses"]) == {"200", "400", "404", "405", "413", "415", "503"}
    json.dumps(document)  # serializable as served


def test_web_page_served(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'id="servable"' in page
    assert 'type="file"' in page
    assert "TOP5_CLASS" in page


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600),
       content_type=st.sampled_from(["image/png", "image/jpeg", "application/json",
                                     "application/octet-stream", "multipart/form-data",
                                     "text/plain", ""]),
       strategy=st.sampled_from(["", "TOP5_CLASS", "top1_class", "BEST", "%00"]))
def test_arbitrary_input_never_500(client, body, content_type, strategy):
    headers = {"Content-Type": content_type} if content_type else {}
    query = f"?strategy={strategy}" if strategy else ""
    response = client.post("/servables/lenet5_mnist/predict" + query, data=body,
                           headers=headers)
    assert response.status_code in (200, 400, 413, 415)
    assert response.mimetype == "application/json"
    if response.status_code != 200:
        assert set(response.get_json()) >= {"error", "message", "status", "request_id"}


def test_internal_error_is_json_and_logged_once(app, client, caplog, monkeypatch):
    servable = app.extensions["tinyms_serving"].get("lenet5_mnist")

    def fail(tensor):
        raise RuntimeError("kernel failed")

    monkeypatch.setattr(servable.batcher, "submit", fail)
    with caplog.at_level(logging.WARNING, logger="tinyms.serving.app"):
        response = client.post("/servables/lenet5_mnist/predict",
                               data=png_bytes(mnist_split("test")[0][0]),
                               headers={"Content-Type": "image/png", "X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_error",
        "message": "Internal server error (RuntimeError). See the server log for this "
                   "request id.",
        "status": 500,
        "request_id": "boom-1",
    }
    records = [record for record in caplog.records if "boom-1" in record.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info is not None
