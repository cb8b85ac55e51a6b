"""Losses, optimizers, schedules and metrics built by name."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyms
from tinyms import layers
from tinyms.errors import InvalidArgumentError, UnknownNameError
from tinyms.losses import get_loss, list_losses
from tinyms.metrics import get_metric, list_metrics
from tinyms.optimizers import get_lr_schedule, get_optimizer, list_optimizers, list_schedules


def small_net():
    return layers.SequentialLayer([layers.Dense(4, 8), layers.ReLU(), layers.Dense(8, 3)])


@pytest.mark.parametrize("name", list_losses())
def test_loss_reduces_to_scalar(name):
    loss = get_loss(name)
    logits = tinyms.Tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    labels = tinyms.Tensor(np.array([0, 1, 2, 1, 0], dtype=np.int32))
    value = loss(logits, labels)
    assert value.shape == ()
    assert math.isfinite(float(value.asnumpy()))


@pytest.mark.parametrize("name", list_optimizers())
def test_optimizer_changes_parameters(name):
    from mindspore import nn

    net = small_net()
    before = [p.asnumpy().copy() for p in net.trainable_params()]
    optimizer = get_optimizer(name, net.trainable_params(), lr=0.05)
    step = nn.TrainOneStepCell(nn.WithLossCell(net, get_loss("softmax_cross_entropy")), optimizer)
    rng = np.random.default_rng(1)
    x = tinyms.Tensor(rng.normal(size=(6, 4)).astype(np.float32))
    y = tinyms.Tensor(rng.integers(0, 3, 6).astype(np.int32))
    step(x, y)
    after = [p.asnumpy() for p in net.trainable_params()]
    assert any(not np.allclose(a, b) for a, b in zip(before, after))


def test_optimizer_accepts_per_step_schedule():
    net = small_net()
    schedule = get_lr_schedule("cosine", 0.1, steps_per_epoch=3, epochs=2)
    optimizer = get_optimizer("momentum", net.trainable_params(), lr=schedule, momentum=0.8)
    assert optimizer.dynamic_lr


def test_optimizer_rejects_bad_arguments():
    net = small_net()
    with pytest.raises(UnknownNameError, match="momentum"):
        get_optimizer("momentun", net.trainable_params())
    with pytest.raises(InvalidArgumentError, match="lr"):
        get_optimizer("sgd", net.trainable_params(), lr=0)
    with pytest.raises(InvalidArgumentError, match="no parameters"):
        get_optimizer("sgd", [], lr=0.1)
    with pytest.raises(InvalidArgumentError, match="step 1"):
        get_optimizer("sgd", net.trainable_params(), lr=[0.1, float("nan")])


@pytest.mark.parametrize("name", list_schedules())
@settings(max_examples=20, deadline=None)
@given(
    lr=st.floats(1e-5, 1.0),
    steps=st.integers(1, 20),
    epochs=st.integers(1, 12),
    warmup=st.integers(0, 3),
)
def test_schedule_length_and_bounds(name, lr, steps, epochs, warmup):
    values = get_lr_schedule(name, lr, steps, epochs, warmup_epochs=warmup)
    assert len(values) == steps * epochs
    assert all(0.0 <= v <= lr * (1 + 1e-9) for v in values)
    if warmup == 0:
        assert values[0] == pytest.approx(lr)


def test_cosine_schedule_ends_at_min_lr():
    values = get_lr_schedule("cosine", 0.1, 10, 5, min_lr=0.001)
    assert values[0] == pytest.approx(0.1)
    assert values[-1] == pytest.approx(0.001)
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_step_schedule_decays_every_step_epochs():
    values = get_lr_schedule("step", 1.0, 2, 6, step_epochs=2, gamma=0.5)
    assert values == [1.0] * 4 + [0.5] * 4 + [0.25] * 4


def numpy_reference(name, logits, labels):
    predicted = logits.argmax(axis=1)
    if name == "accuracy":
        return float((predicted == labels).mean())
    if name == "top5_accuracy":
        top5 = np.argsort(-logits, axis=1)[:, :5]
        return float(np.mean([label in row for label, row in zip(labels, top5)]))
    classes = sorted(set(labels) | set(predicted))
    precision, recall, f1 = [], [], []
    for c in classes:
        tp = np.sum((predicted == c) & (labels == c))
        fp = np.sum((predicted == c) & (labels != c))
        fn = np.sum((predicted != c) & (labels == c))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean({"precision": precision, "recall": recall, "f1": f1}[name]))


@pytest.mark.parametrize("name", [n for n in list_metrics() if n != "loss"])
@pytest.mark.parametrize("one_hot", [False, True])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_metric_matches_numpy_reference(name, one_hot, data):
    batch = data.draw(st.integers(1, 40))
    classes = data.draw(st.integers(5, 12))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, classes)).astype(np.float32)
    labels = rng.integers(0, classes, batch)
    metric = get_metric(name)
    metric.clear()
    given_labels = np.eye(classes, dtype=np.float32)[labels] if one_hot else labels
    half = batch // 2
    if half:
        metric.update(logits[:half], given_labels[:half])
    metric.update(logits[half:], given_labels[half:])
    value = metric.eval()
    assert isinstance(value, float)
    assert value == pytest.approx(numpy_reference(name, logits, labels), abs=1e-9)


def test_loss_metric_averages_losses():
    metric = get_metric("loss")
    metric.clear()
    metric.update(tinyms.Tensor(np.float32(1.0)))
    metric.update(tinyms.Tensor(np.float32(3.0)))
    assert metric.eval() == pytest.approx(2.0)


def test_set_device_after_first_operator():
    from tinyms import context

    tinyms.Tensor(np.ones(2, dtype=np.float32)) + 1  # the runtime is now initialized
    assert context.set_device("cpu") == "CPU"
    assert context.set_device("GPU") == "CPU"  # a CPU-only build falls back with a warning
    with pytest.raises(InvalidArgumentError, match="TPU"):
        context.set_device("TPU")
