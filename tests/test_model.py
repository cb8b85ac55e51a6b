"""Model: compile, train, eval, predict, checkpoints and export, on LeNet5."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import mindspore as ms
import mindspore.dataset as ds
import numpy as np
import pytest

from tinyms.callbacks import CSVLogger, EarlyStopping, History, ModelCheckpoint, plot_metrics
from tinyms.errors import CheckpointError, InvalidArgumentError, UnknownNameError
from tinyms.losses import SoftmaxCrossEntropyWithLogits
from tinyms.metrics import Accuracy
from tinyms.model import Model, lenet5
from tinyms.optimizers import Momentum


def synthetic(count, seed):
    """Images whose label says which half (top or bottom) is brighter: learnable fast."""
    rng = np.random.default_rng(seed)
    images = rng.random((count, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 2, count).astype(np.int32)
    images[labels == 1, :, :16] += 0.5
    images[labels == 0, :, 16:] += 0.5
    return images, labels


def batched(images, labels, batch_size=32):
    data = {"image": images, "label": labels}
    return ds.NumpySlicesDataset(data, shuffle=False).batch(batch_size)


@pytest.fixture(scope="module")
def data():
    train_x, train_y = synthetic(384, 0)
    valid_x, valid_y = synthetic(128, 1)
    return train_x, train_y, valid_x, valid_y


@pytest.fixture(scope="module")
def trained(data):
    """A LeNet5 compiled as in the seed and trained for 3 epochs."""
    ms.set_seed(0)
    train_x, train_y, valid_x, valid_y = data
    net = lenet5(class_num=2)
    model = Model(net)
    model.compile(loss_fn=SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
                  optimizer=Momentum(net.trainable_params(), 0.01, 0.9))
    model.compile(metrics={"Accuracy": Accuracy()})
    logs = model.train(3, batched(train_x, train_y), valid_dataset=batched(valid_x, valid_y))
    return model, logs


def test_second_compile_keeps_loss_and_optimizer(trained):
    model, _ = trained
    assert model.loss_fn is not None
    assert model.optimizer is not None
    assert list(model.metrics) == ["Accuracy"]


def test_training_loss_falls(trained):
    _, logs = trained
    assert [row["epoch"] for row in logs] == [1, 2, 3]
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert {"loss", "val_loss", "val_Accuracy"} <= set(logs[0])


def test_eval_returns_floats_keyed_by_given_names(trained, data):
    model, _ = trained
    result = model.eval(batched(data[2], data[3]))
    assert list(result) == ["Accuracy"]
    assert isinstance(result["Accuracy"], float)
    assert result["Accuracy"] > 0.9


def test_predict_accepts_numpy_tensor_and_single_image(trained, data):
    model, _ = trained
    images = data[2][:4]
    from_numpy = model.predict(images)
    from_tensor = model.predict(ms.Tensor(images))
    single = model.predict(images[0])
    assert from_numpy.shape == (4, 2) and from_numpy.dtype == np.float32
    np.testing.assert_allclose(from_numpy, from_tensor, rtol=1e-6)
    np.testing.assert_allclose(single[0], from_numpy[0], rtol=1e-5, atol=1e-6)


def test_compile_by_catalog_names():
    model = Model(lenet5(class_num=3))
    model.compile(loss_fn="cross_entropy", optimizer="adam", metrics=["accuracy", "f1"])
    assert sorted(model.metrics) == ["accuracy", "f1"]
    assert type(model.optimizer).__name__ == "Adam"


def test_checkpoint_round_trip_gives_identical_predictions(trained, data, tmp_path):
    model, _ = trained
    path = model.save_checkpoint(tmp_path / "lenet")
    assert path.endswith("lenet.ckpt")
    fresh = Model(lenet5(class_num=2))
    report = fresh.load_checkpoint(path)
    assert not report.skipped and not report.missing
    np.testing.assert_array_equal(fresh.predict(data[2][:8]), model.predict(data[2][:8]))


def test_checkpoint_holds_optimizer_state_for_resuming(trained, tmp_path):
    model, _ = trained
    path = model.save_checkpoint(tmp_path / "resume", epoch=3)
    names = set(ms.load_checkpoint(path))
    assert any(name.startswith("moments.") for name in names)
    assert Model.checkpoint_epoch(path) == 3


def test_checkpoint_for_another_head_loads_the_rest(trained, tmp_path):
    model, _ = trained
    path = model.save_checkpoint(tmp_path / "two_classes")
    net = lenet5(class_num=5)
    params = net.trainable_params()
    first, head_weight, head_bias = params[0], params[-2], params[-1]
    head_before = head_weight.asnumpy().copy()
    finetune = Model(net)
    finetune.compile(loss_fn="softmax_cross_entropy", optimizer="momentum")
    report = finetune.load_checkpoint(path)
    assert set(report.skipped) >= {head_weight.name, head_bias.name}
    assert f"moments.{head_weight.name}" in report.skipped
    np.testing.assert_array_equal(head_weight.asnumpy(), head_before)
    donor = dict(model.network.parameters_and_names())
    np.testing.assert_array_equal(first.asnumpy(), donor[first.name].asnumpy())
    with pytest.raises(CheckpointError, match="strict"):
        Model(lenet5(class_num=5)).load_checkpoint(path, strict=True)


def test_checkpoint_of_another_network_is_rejected(tmp_path):
    from tinyms import layers

    other = layers.SequentialLayer([layers.Dense(3, 4)])
    path = Model(other).save_checkpoint(tmp_path / "other")
    with pytest.raises(CheckpointError, match="No parameter"):
        Model(lenet5()).load_checkpoint(path)


def test_checkpoint_matching_too_little_is_rejected(tmp_path):
    from tinyms.model.checkpoint import save_checkpoint_atomic

    net = lenet5()
    # Only the convolutions: 2,572 of LeNet5's 61,706 weights.
    convs = [{"name": p.name, "data": p.data} for p in net.trainable_params()[:4]]
    path = save_checkpoint_atomic(convs, tmp_path / "convs")
    with pytest.raises(CheckpointError, match="fits only 2572 of the network's 61706"):
        Model(lenet5()).load_checkpoint(path)


def test_truncated_checkpoint_raises_checkpoint_error(trained, tmp_path):
    model, _ = trained
    path = model.save_checkpoint(tmp_path / "whole")
    data = open(path, "rb").read()
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="broken.ckpt"):
        Model(lenet5(class_num=2)).load_checkpoint(broken)
    with pytest.raises(CheckpointError, match="not found"):
        Model(lenet5(class_num=2)).load_checkpoint(tmp_path / "missing.ckpt")


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    import tinyms
    from tinyms.model import Model, lenet5
    model = Model(lenet5(class_num=10))
    print("ready", flush=True)
    while True:
        model.save_checkpoint(sys.argv[1])
    """
)


def test_kill_during_save_keeps_old_checkpoint(tmp_path):
    target = tmp_path / "model.ckpt"
    good = Model(lenet5(class_num=10)).save_checkpoint(target)
    expected = {k: v.asnumpy() for k, v in ms.load_checkpoint(good).items()}
    script = tmp_path / "saver.py"
    script.write_text(KILL_SCRIPT)
    for delay in (0.05, 0.13, 0.31):
        proc = subprocess.Popen([sys.executable, str(script), str(target)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        loaded = ms.load_checkpoint(str(target))  # must be a complete file
        assert set(loaded) == set(expected)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.ckpt")]
    # A killed writer can leave its temporary file, never a damaged target.
    assert all(name.startswith(".model.") for name in leftovers)


def test_mindir_export_loads_and_matches(trained, data, tmp_path):
    model, _ = trained
    path = model.export(tmp_path / "lenet", "MINDIR", input_shape=(1, 1, 32, 32))
    assert path.endswith(".mindir")
    graph = ms.nn.GraphCell(ms.load(path))
    image = data[2][:1]
    np.testing.assert_allclose(graph(ms.Tensor(image)).asnumpy(), model.predict(image),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,shape", [("lenet5", (1, 1, 32, 32)), ("resnet50", (1, 3, 32, 32))])
def test_onnx_export_passes_checker_and_matches(name, shape, tmp_path):
    import onnx
    import onnxruntime

    from tinyms.model import get_network

    model = Model(get_network(name, class_num=10))
    path = model.export(tmp_path / name, "ONNX", input_shape=shape)
    onnx.checker.check_model(onnx.load(path))
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: image})
    np.testing.assert_allclose(output, model.predict(image), rtol=1e-3, atol=1e-4)


def test_export_rejects_unknown_format(trained, tmp_path):
    model, _ = trained
    with pytest.raises(InvalidArgumentError, match="TFLITE"):
        model.export(tmp_path / "x", "TFLITE", input_shape=(1, 1, 32, 32))


def test_unknown_optimizer_name_lists_valid_names():
    with pytest.raises(UnknownNameError, match="adam.*momentum"):
        Model(lenet5()).compile(optimizer="adamm")


def test_wrong_factory_keyword_is_an_error():
    with pytest.raises(InvalidArgumentError, match="classes"):
        lenet5(classes=10)
    with pytest.raises(InvalidArgumentError, match="class_num"):
        lenet5(class_num=0)


def test_train_without_optimizer_says_how_to_compile(data):
    model = Model(lenet5(class_num=2))
    model.compile(loss_fn="softmax_cross_entropy")
    with pytest.raises(InvalidArgumentError, match="compile\\(optimizer"):
        model.train(1, batched(data[0], data[1]))


def test_misspelled_monitor_raises_before_training(data, tmp_path):
    model = Model(lenet5(class_num=2))
    model.compile(loss_fn="softmax_cross_entropy", optimizer="adam", metrics=["accuracy"])
    saver = ModelCheckpoint(directory=str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="val_acuracy.*val_accuracy"):
        model.train(1, batched(data[0], data[1]),
                    callbacks=[saver, EarlyStopping(monitor="val_acuracy")],
                    valid_dataset=batched(data[2], data[3]))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidArgumentError, match="valid_dataset"):
        model.train(1, batched(data[0], data[1]), callbacks=[EarlyStopping(monitor="val_loss")])


def test_early_stopping_restores_best_weights_and_logs(data, tmp_path):
    ms.set_seed(1)
    train_x, train_y, valid_x, valid_y = data
    model = Model(lenet5(class_num=2))
    model.compile(loss_fn="softmax_cross_entropy", optimizer="adam", metrics=["accuracy"])
    # Labels of the validation set flipped: val_loss worsens as the model learns.
    flipped = batched(valid_x, 1 - valid_y)
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    history = History()
    saver = ModelCheckpoint(prefix="net", directory=str(tmp_path))
    csv_path = tmp_path / "metrics.csv"
    logs = model.train(6, batched(train_x, train_y),
                       callbacks=[stopper, history, saver, CSVLogger(csv_path)],
                       valid_dataset=flipped)
    assert stopper.stopped_epoch == len(logs) < 6
    assert history.epochs == logs
    best = min(row["val_loss"] for row in logs)
    assert stopper.best == pytest.approx(best)
    best_accuracy = logs[stopper.best_epoch - 1]["val_accuracy"]
    assert model.eval(flipped) == pytest.approx({"accuracy": best_accuracy})
    rows = csv_path.read_text().splitlines()
    assert rows[0].split(",") == ["epoch", "loss", "val_loss", "val_accuracy"]
    assert len(rows) == len(logs) + 1
    assert len(saver.saved) == len(logs)
    png = plot_metrics(csv_path, tmp_path / "curves.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_weights_only_load_keeps_optimizer_state(trained, tmp_path):
    model, _ = trained
    path = model.save_checkpoint(tmp_path / "pretrained")
    finetune = Model(lenet5(class_num=2))
    finetune.compile(loss_fn="softmax_cross_entropy", optimizer="momentum")
    report = finetune.load_checkpoint(path, weights_only=True)
    assert report.unexpected == []
    assert all(not name.startswith("moments.") for name in report.loaded)
    assert int(finetune.optimizer.global_step.asnumpy().reshape(-1)[0]) == 0


def test_progress_line_counts_to_final_epoch_when_resuming(data):
    import io

    from tinyms.callbacks import ProgressBar

    model = Model(lenet5(class_num=2))
    model.compile(loss_fn="softmax_cross_entropy", optimizer="adam")
    stream = io.StringIO()
    model.train(3, batched(data[0][:64], data[1][:64]), callbacks=[ProgressBar(stream)],
                initial_epoch=1)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 2/3", "epoch 3/3"]


def test_mobilenetv2_callback_factory():
    from tinyms.callbacks import LambdaCallback, LossMonitor, TimeMonitor, mobilenetv2_cb

    callbacks = mobilenetv2_cb("CPU", [0.1, 0.05], True, 2, 10)
    kinds = [type(callback) for callback in callbacks]
    assert kinds[:3] == [TimeMonitor, LossMonitor, LambdaCallback]
    assert isinstance(callbacks[3], ModelCheckpoint)
    assert callbacks[3].save_epochs == 2
    assert [type(c) for c in mobilenetv2_cb("GPU", None, False, 1, 5)] == [TimeMonitor, LossMonitor]
    with pytest.raises(InvalidArgumentError, match="TPU"):
        mobilenetv2_cb("TPU", 0.1, False, 1, 5)
    assert callbacks[3].prefix == "mobilenetv2-cpu"


def test_every_zoo_network_has_a_callback_factory():
    import tinyms.callbacks as callbacks
    from tinyms.errors import UnknownNameError
    from tinyms.model import list_networks

    for name in list_networks():
        factory = getattr(callbacks, f"{name}_cb")
        assert f"{name}_cb" in callbacks.__all__
        built = factory("CPU", None, True, 1, 3)
        assert built[-1].prefix == f"{name}-cpu"
    with pytest.raises(UnknownNameError):
        callbacks.model_cb("lenet6")
