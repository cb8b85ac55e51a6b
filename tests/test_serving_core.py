"""Tests of the socket-free serving core: configuration, decode, pipeline, batching."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from test_serving_support import mnist_split, png_bytes

from tinyms.errors import InvalidArgumentError, ServingError
from tinyms.serving import config as serving_config
from tinyms.serving.config import find_config, load_config, parse_config
from tinyms.serving.core import (
    InvalidRequestError,
    MicroBatcher,
    ServableUnavailableError,
    ServingCore,
    UnknownServableError,
    check_strategy,
    decode,
    load_servable,
    postprocess,
    predict,
    preprocess,
)


@pytest.fixture(scope="module")
def untrained_checkpoint(tmp_path_factory):
    from tinyms.model import Model, get_network

    folder = tmp_path_factory.mktemp("core")
    return Model(get_network("lenet5", class_num=10)).save_checkpoint(folder / "lenet5.ckpt")


@pytest.fixture(scope="module")
def core(untrained_checkpoint, tmp_path_factory):
    missing = tmp_path_factory.mktemp("missing") / "absent.ckpt"
    config = parse_config([
        {"model": "lenet5", "dataset": "mnist", "checkpoint": untrained_checkpoint},
        {"model": "lenet5", "dataset": "mnist", "checkpoint": str(missing), "name": "broken"},
    ])
    serving = ServingCore(config)
    serving.load()
    yield serving
    serving.close()


# -- configuration -----------------------------------------------------------------------


def test_config_name_defaults_to_model_dataset(tmp_path):
    config = parse_config([{"model": "lenet5", "dataset": "mnist", "checkpoint": "w.ckpt"}],
                          base_dir=tmp_path)
    spec = config.servables[0]
    assert spec.name == "lenet5_mnist"
    assert spec.checkpoint == str((tmp_path / "w.ckpt").resolve())
    assert spec.mindir is None
    assert config.max_content_length == serving_config.DEFAULT_MAX_CONTENT_LENGTH


def test_config_yaml_file_relative_paths(tmp_path):
    path = tmp_path / "servables.yaml"
    path.write_text(
        "servables:\n"
        "  - {model: lenet5, dataset: mnist, mindir: models/net.mindir, name: digits}\n"
        "max_content_length: 2048\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.servables[0].name == "digits"
    assert config.servables[0].mindir == str((tmp_path / "models" / "net.mindir").resolve())
    assert config.max_content_length == 2048
    assert config.source == str(path)


def test_config_lists_every_problem():
    with pytest.raises(InvalidArgumentError) as caught:
        parse_config({
            "servables": [
                {"model": "nonet", "dataset": "mnist", "checkpoint": "a.ckpt"},
                {"model": "lenet5", "dataset": "mnist"},
                {"model": "lenet5", "dataset": "mnist", "checkpoint": "b.ckpt", "colour": 1},
                {"model": "lenet5", "dataset": "mnist", "checkpoint": "c.ckpt"},
            ],
            "max_content_length": 0,
        })
    problems = caught.value.problems
    assert any("nonet" in problem and "lenet5" in problem for problem in problems)
    assert any("exactly one of 'checkpoint'" in problem for problem in problems)
    assert any("unknown keys ['colour']" in problem for problem in problems)
    assert any("3 servables are named 'lenet5_mnist'" in problem for problem in problems)
    assert any("'max_content_length' must be a positive integer" in p for p in problems)
    assert len(problems) == 5


def test_config_default_path_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "mine.yaml"
    monkeypatch.setenv(serving_config.CONFIG_ENV, str(path))
    assert serving_config.default_config_path() == path
    with pytest.raises(ServingError, match="mine.yaml"):
        find_config()
    monkeypatch.delenv(serving_config.CONFIG_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert serving_config.default_config_path() == tmp_path / ".tinyms" / "servables.yaml"


def test_config_unparsable_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{servables: [", encoding="utf-8")
    with pytest.raises(ServingError, match="bad.json"):
        load_config(path)


# -- decode and strategy -------------------------------------------------------------------


def test_decode_png_digit():
    images, _ = mnist_split("test")
    array = decode(png_bytes(images[0]))
    assert array.dtype == np.uint8
    assert array.shape[:2] == (28, 28)
    assert np.array_equal(array[:, :, 0], images[0])


@pytest.mark.parametrize("data, code", [
    (b"", "empty_body"),
    (b"not an image at all", "invalid_image"),
    (png_bytes(np.zeros((28, 28), np.uint8))[:40], "invalid_image"),
])
def test_decode_rejects_bad_bytes(data, code):
    with pytest.raises(InvalidRequestError) as caught:
        decode(data)
    assert caught.value.code == code


def test_decode_rejects_too_many_pixels():
    data = png_bytes(np.zeros((100, 100), np.uint8))
    with pytest.raises(InvalidRequestError) as caught:
        decode(data, max_pixels=99 * 100)
    assert caught.value.code == "image_too_large"
    assert "100x100" in str(caught.value)


def test_check_strategy():
    assert check_strategy("TOP5_CLASS") == "TOP5_CLASS"
    assert check_strategy("top1_class") == "TOP1_CLASS"
    with pytest.raises(InvalidRequestError, match="TOP1_CLASS, TOP5_CLASS"):
        check_strategy("TOP3_CLASS")


# -- batching ----------------------------------------------------------------------------


def test_batcher_batches_waiting_inputs():
    started = threading.Event()
    release = threading.Event()
    sizes = []

    def run_batch(batch):
        sizes.append(len(batch))
        started.set()
        release.wait(5)
        return batch * 2

    batcher = MicroBatcher(run_batch, max_batch_size=4)
    results = {}

    def send(value):
        results[value] = batcher.submit(np.array([value], np.float32))

    first = threading.Thread(target=send, args=(0,))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=send, args=(value,)) for value in range(1, 6)]
    for thread in others:
        thread.start()
    time.sleep(0.3)  # the five wait in the queue while the first batch runs
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    batcher.close()

    assert sizes[0] == 1
    assert sorted(sizes[1:]) == [1, 4]
    assert {key: float(value[0]) for key, value in results.items()} == {
        value: 2.0 * value for value in range(6)
    }
    assert batcher.items == 6


def test_batcher_error_reaches_every_caller():
    def run_batch(batch):
        raise RuntimeError("kernel failed")

    batcher = MicroBatcher(run_batch, max_batch_size=8)
    with pytest.raises(RuntimeError, match="kernel failed"):
        batcher.submit(np.zeros(1, np.float32))
    batcher.close()
    with pytest.raises(ServingError, match="shut down"):
        batcher.submit(np.zeros(1, np.float32))


# -- the pipeline on a real network ------------------------------------------------------------


def test_core_loads_each_servable_once(core):
    described = {item["name"]: item for item in core.describe()}
    assert described["lenet5_mnist"]["status"] == "ready"
    assert described["lenet5_mnist"]["loads"] == 1
    assert described["lenet5_mnist"]["classes"] == [str(digit) for digit in range(10)]
    assert described["broken"]["status"] == "failed"
    assert "absent.ckpt" in described["broken"]["error"]
    core.load()  # loading again keeps the loaded servables
    assert core.get("lenet5_mnist").loads == 1


def test_core_health_reports_failed_servable(core):
    health = core.health()
    assert health["status"] == "degraded"
    assert health["servables"]["lenet5_mnist"] == {"status": "ready", "loads": 1}
    assert health["servables"]["broken"]["status"] == "failed"


def test_core_pipeline_matches_plain_functions(core):
    from tinyms.vision import transform_for

    images, _ = mnist_split("test")
    data = png_bytes(images[3])
    servable = core.get("lenet5_mnist")

    tensor = preprocess(servable, decode(data))
    expected = transform_for("lenet5", "mnist")(images[3])
    np.testing.assert_allclose(tensor, expected, rtol=0, atol=1e-6)
    logits = predict(servable, tensor[None])
    assert logits.shape == (1, 10)
    ranked = postprocess(servable, logits[0], "TOP5_CLASS")
    assert len(ranked) == 5
    assert [item["score"] for item in ranked] == sorted(
        (item["score"] for item in ranked), reverse=True)

    answer = core.run("lenet5_mnist", data, "TOP5_CLASS")
    assert answer["servable"] == "lenet5_mnist"
    assert [item["index"] for item in answer["predictions"]] == [item["index"] for item in ranked]
    np.testing.assert_allclose([item["score"] for item in answer["predictions"]],
                               [item["score"] for item in ranked], atol=1e-6)


def test_core_unknown_and_failed_servables(core):
    with pytest.raises(UnknownServableError) as caught:
        core.run("resnet", b"x")
    assert caught.value.known == ["broken", "lenet5_mnist"]
    with pytest.raises(ServableUnavailableError, match="absent.ckpt"):
        core.run("broken", png_bytes(np.zeros((28, 28), np.uint8)))


def test_load_servable_from_mindir(untrained_checkpoint, tmp_path):
    from tinyms.model import Model, get_network

    model = Model(get_network("lenet5", class_num=10))
    model.load_checkpoint(untrained_checkpoint)
    mindir = model.export(tmp_path / "lenet5", file_format="MINDIR", input_shape=(1, 1, 32, 32))
    spec = parse_config([{"model": "lenet5", "dataset": "mnist", "mindir": mindir}]).servables[0]
    servable = load_servable(spec)
    try:
        images, _ = mnist_split("test")
        tensor = preprocess(servable, decode(png_bytes(images[0])))
        np.testing.assert_allclose(servable.batcher.submit(tensor), model.predict(tensor)[0],
                                   atol=1e-5)
        assert servable.describe()["format"] == "mindir"
    finally:
        servable.batcher.close()


def test_import_does_not_load_flask_or_mindspore():
    code = (
        "import sys, tinyms, tinyms.serving\n"
        "from tinyms.serving import start_server, predict\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'werkzeug', 'waitress', 'mindspore')))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120).stdout
    assert output.strip() == "[]"
