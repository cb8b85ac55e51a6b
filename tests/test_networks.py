"""Tests of the network zoo, parametrized over every built-in registered network.

Each network is checked for its output shape and its parameter count, against
the catalog and the published figure. The tests also check the output shape of
each stage and that a training step reaches every parameter. Finally, the
network must fit one small fixed batch, and its MINDIR and ONNX exports must
match MindSpore's own output.
"""

from __future__ import annotations

import math

import mindspore as ms
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from mindspore import nn

from tinyms import catalog
from tinyms.errors import InvalidArgumentError
from tinyms.model.networks._blocks import GlobalAvgPool, padded_max_pool
from tinyms.model.networks.vgg import VGG
from tinyms.model.registry import NETWORKS, get_network, list_networks

EXPECTED_NAMES = {
    "lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34",
    "resnet50", "resnet101", "mobilenetv2", "densenet100",
}

# User networks registered by other test modules carry "user": True in the catalog.
BUILTIN = [name for name in list_networks() if not catalog.network_info(name).get("user")]

# Networks that end in global average pooling accept inputs smaller than their
# native size; the others run at their catalog input size.
SMALL_SIZE = {
    "resnet18": 32, "resnet34": 32, "resnet50": 32, "resnet101": 32, "mobilenetv2": 32,
}

# Output shape of each stage, without the batch axis, for a batch of one image
# at the network's catalog input size and default channels.
_VGG_STAGES = {
    "stage1": (64, 16, 16), "stage2": (128, 8, 8), "stage3": (256, 4, 4),
    "stage4": (512, 2, 2), "stage5": (512, 1, 1),
}
_BASIC_RESNET_STAGES = {
    "stem": (64, 56, 56), "layer1": (64, 56, 56), "layer2": (128, 28, 28),
    "layer3": (256, 14, 14), "layer4": (512, 7, 7),
}
_BOTTLENECK_RESNET_STAGES = {
    "stem": (64, 56, 56), "layer1": (256, 56, 56), "layer2": (512, 28, 28),
    "layer3": (1024, 14, 14), "layer4": (2048, 7, 7),
}
STAGE_SHAPES = {
    "lenet5": {"conv1": (6, 14, 14), "conv2": (16, 5, 5)},
    "alexnet": {"conv1": (96, 27, 27), "conv2": (256, 13, 13), "conv3_5": (256, 6, 6)},
    "vgg11": _VGG_STAGES,
    "vgg13": _VGG_STAGES,
    "vgg16": _VGG_STAGES,
    "vgg19": _VGG_STAGES,
    "resnet18": _BASIC_RESNET_STAGES,
    "resnet34": _BASIC_RESNET_STAGES,
    "resnet50": _BOTTLENECK_RESNET_STAGES,
    "resnet101": _BOTTLENECK_RESNET_STAGES,
    "mobilenetv2": {
        "stage1": (16, 112, 112), "stage2": (24, 56, 56), "stage3": (32, 28, 28),
        "stage4": (96, 14, 14), "stage5": (1280, 7, 7),
    },
    "densenet100": {
        "stem": (24, 32, 32), "block1": (108, 16, 16), "block2": (150, 8, 8),
        "block3": (342, 8, 8),
    },
}


def _dense(inputs: int, outputs: int) -> int:
    return inputs * outputs + outputs


def _conv(in_channels: int, out_channels: int, kernel: int) -> int:
    return in_channels * out_channels * kernel * kernel + out_channels


# Published parameter counts: (build the published configuration, expected count,
# relative tolerance, source). torchvision's figures are the "num_params" of its
# ImageNet weights, which follow the papers' layer tables.
PUBLISHED = {
    "lenet5": (
        lambda: get_network("lenet5", class_num=10, num_channel=1),
        # LeCun et al. 1998 layer sizes with every C3 map connected to all S2 maps.
        _conv(1, 6, 5) + _conv(6, 16, 5) + _dense(400, 120) + _dense(120, 84) + _dense(84, 10),
        0.0,
        "LeNet-5 layer sizes, full C3 connections",
    ),
    "alexnet": (
        lambda: get_network("alexnet", class_num=1000),
        # Krizhevsky et al. 2012, figure 2, without the two-GPU grouping.
        _conv(3, 96, 11) + _conv(96, 256, 5) + _conv(256, 384, 3) + _conv(384, 384, 3)
        + _conv(384, 256, 3) + _dense(9216, 4096) + _dense(4096, 4096) + _dense(4096, 1000),
        0.0,
        "AlexNet figure 2 layer sizes, one group",
    ),
    "vgg11": (lambda: VGG("vgg11", 1000, 3, False, "imagenet"), 132_863_336, 0.0, "torchvision"),
    "vgg13": (lambda: VGG("vgg13", 1000, 3, False, "imagenet"), 133_047_848, 0.0, "torchvision"),
    "vgg16": (lambda: VGG("vgg16", 1000, 3, False, "imagenet"), 138_357_544, 0.0, "torchvision"),
    "vgg19": (lambda: VGG("vgg19", 1000, 3, False, "imagenet"), 143_667_240, 0.0, "torchvision"),
    "resnet18": (lambda: get_network("resnet18", class_num=1000), 11_689_512, 0.0, "torchvision"),
    "resnet34": (lambda: get_network("resnet34", class_num=1000), 21_797_672, 0.0, "torchvision"),
    "resnet50": (lambda: get_network("resnet50", class_num=1000), 25_557_032, 0.0, "torchvision"),
    "resnet101": (
        lambda: get_network("resnet101", class_num=1000), 44_549_160, 0.0, "torchvision"
    ),
    "mobilenetv2": (
        lambda: get_network("mobilenetv2", class_num=1000), 3_504_872, 0.0, "torchvision"
    ),
    "densenet100": (
        lambda: get_network("densenet100", class_num=10),
        800_000,
        0.05,  # the paper's table 2 gives 0.8M, rounded to 0.1M
        "Huang et al. 2017, table 2",
    ),
}

# Adam learning rate for the fixed-batch fit (default 1e-3). AlexNet has no batch
# norm and fits the batch at 1e-4 in about 25 steps.
FIT_LR = {"alexnet": 1e-4}
SLOW_FIT = {"alexnet", "vgg16", "vgg19", "densenet100", "resnet50", "resnet101"}
# MINDIR export of these takes longest; ONNX export of every network stays in CI.
SLOW_MINDIR = {"alexnet", "densenet100", "resnet50", "resnet101"}


@pytest.fixture(autouse=True, scope="module")
def pynative_mode():
    previous = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=previous)


def _info(name: str) -> dict:
    return catalog.network_info(name)


def _build(name: str, class_num: int = 10, channels: int | None = None, seed: int = 0):
    info = _info(name)
    ms.set_seed(seed)
    kwargs = {info["class_num_arg"]: class_num}
    if channels is not None:
        kwargs[info["channels_arg"]] = channels
    return get_network(name, **kwargs)


def _input(name: str, batch: int, channels: int | None = None, small: bool = True) -> ms.Tensor:
    info = _info(name)
    height, width = info["input_size"]
    if small and name in SMALL_SIZE:
        height = width = SMALL_SIZE[name]
    channels = info["default_channels"] if channels is None else channels
    rng = np.random.default_rng(1234)
    return ms.Tensor(rng.standard_normal((batch, channels, height, width)).astype(np.float32))


def _count(network: nn.Cell) -> int:
    return sum(int(param.size) for param in network.trainable_params())


def _remove_dropout(network: nn.Cell) -> None:
    """Replace every Dropout with an Identity, so a training loss measures the fit alone."""
    for _, parent in network.cells_and_names():
        children = parent.name_cells()
        for index, (child_name, child) in enumerate(children.items()):
            if not isinstance(child, nn.Dropout):
                continue
            if isinstance(parent, nn.SequentialCell):
                parent[index] = nn.Identity()
            else:
                setattr(parent, child_name, nn.Identity())


def _train_step_cell(network: nn.Cell, optimizer: nn.Optimizer) -> nn.Cell:
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    step = nn.TrainOneStepCell(nn.WithLossCell(network, loss_fn), optimizer)
    step.set_train()
    return step


def test_all_twelve_networks_registered():
    assert EXPECTED_NAMES <= set(BUILTIN)


@pytest.mark.parametrize("name", BUILTIN)
def test_factory_signature_matches_catalog(name):
    assert NETWORKS.keyword_args(name) == list(_info(name)["args"])


@pytest.mark.parametrize("name", BUILTIN)
def test_catalog_datasets_exist(name):
    datasets = _info(name)["datasets"]
    assert datasets
    assert set(datasets) <= set(catalog.names("dataset"))


@pytest.mark.parametrize("name", BUILTIN)
def test_unknown_keyword_rejected(name):
    with pytest.raises(InvalidArgumentError, match="num_classes"):
        get_network(name, num_classes=10)


@pytest.mark.parametrize("name", BUILTIN)
def test_wrong_class_num_type_rejected(name):
    with pytest.raises(InvalidArgumentError, match="'10'"):
        get_network(name, class_num="10")


@pytest.mark.parametrize("name", BUILTIN)
def test_output_shape(name):
    network = _build(name, class_num=7)
    network.set_train(False)
    logits = network(_input(name, batch=2))
    assert logits.shape == (2, 7)
    assert np.isfinite(logits.asnumpy()).all()


@pytest.mark.parametrize("name", BUILTIN)
def test_one_input_channel(name):
    network = _build(name, class_num=5, channels=1)
    network.set_train(False)
    logits = network(_input(name, batch=2, channels=1))
    assert logits.shape == (2, 5)


@pytest.mark.parametrize("name", BUILTIN)
def test_parameter_count_matches_catalog(name):
    info = _info(name)
    network = get_network(name, **info["params_config"])
    assert _count(network) == info["params"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_count_matches_published(name):
    build, expected, tolerance, _source = PUBLISHED[name]
    count = _count(build())
    assert math.isclose(count, expected, rel_tol=tolerance), f"{name}: {count} != {expected}"


def test_every_builtin_has_published_count():
    assert set(BUILTIN) <= set(PUBLISHED)


def test_mobilenetv2_width_mult_scales_parameters():
    half = _count(get_network("mobilenetv2", class_num=1000, width_mult=0.5))
    full = _count(get_network("mobilenetv2", class_num=1000, width_mult=1.0))
    wide = _count(get_network("mobilenetv2", class_num=1000, width_mult=1.4))
    assert half < full < wide


def test_mobilenetv2_half_width_stage_channels():
    network = get_network("mobilenetv2", width_mult=0.5)
    network.set_train(False)
    x = ms.Tensor(np.zeros((1, 3, 64, 64), np.float32))

    channels = [out.shape[1] for out in network.stage_outputs(x).values()]

    # Half of 16, 24, 32, 96 rounded to multiples of 8 (12 rounds up to 16);
    # the last convolution keeps 1280 channels below width 1.0.
    assert channels == [8, 16, 16, 48, 1280]


def test_mobilenetv2_zero_width_rejected():
    with pytest.raises(InvalidArgumentError, match="width_mult"):
        get_network("mobilenetv2", width_mult=0.0)


def test_vgg_without_batch_norm_has_fewer_parameters():
    with_bn = _count(get_network("vgg16", batch_norm=True))
    without_bn = _count(get_network("vgg16", batch_norm=False))
    # Each batch norm adds gamma and beta: 2 * (2*64 + 2*128 + 3*256 + 6*512).
    assert with_bn - without_bn == 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512)


@pytest.mark.parametrize("name", BUILTIN)
def test_stage_output_shapes(name):
    assert name in STAGE_SHAPES, f"state the stage shapes of {name!r} in STAGE_SHAPES"
    network = _build(name)
    network.set_train(False)
    x = _input(name, batch=1, small=False)

    outputs = network.stage_outputs(x)

    shapes = {stage: tuple(out.shape[1:]) for stage, out in outputs.items()}
    assert shapes == STAGE_SHAPES[name]
    last = list(outputs.values())[-1]
    np.testing.assert_allclose(
        network.head(last).asnumpy(), network(x).asnumpy(), rtol=1e-5, atol=1e-6
    )


def test_padded_max_pool_matches_pad_mode_pad():
    x = ms.Tensor(np.abs(np.random.default_rng(0).standard_normal((2, 3, 9, 10))), ms.float32)
    reference = nn.MaxPool2d(kernel_size=3, stride=2, pad_mode="pad", padding=1)
    np.testing.assert_array_equal(padded_max_pool(3, 2, 1)(x).asnumpy(), reference(x).asnumpy())


def test_global_avg_pool_matches_adaptive_pool():
    x = ms.Tensor(np.random.default_rng(0).standard_normal((2, 5, 7, 6)), ms.float32)
    reference = nn.AdaptiveAvgPool2d(1)(x).reshape(2, 5)
    np.testing.assert_allclose(GlobalAvgPool()(x).asnumpy(), reference.asnumpy(), atol=1e-6)


@pytest.mark.parametrize("name", BUILTIN)
def test_train_step_updates_every_parameter(name):
    network = _build(name)
    before = {p.name: p.asnumpy().copy() for p in network.trainable_params()}
    step = _train_step_cell(network, nn.Momentum(network.trainable_params(), 0.01, 0.9))
    labels = ms.Tensor(np.array([0, 1], np.int32))

    loss = float(step(_input(name, batch=2), labels).asnumpy())

    assert math.isfinite(loss)
    unchanged = [
        p.name for p in network.trainable_params() if np.array_equal(p.asnumpy(), before[p.name])
    ]
    assert not unchanged, f"parameters not reached by the gradient: {unchanged}"


def _fit_params():
    for name in BUILTIN:
        marks = [pytest.mark.slow] if name in SLOW_FIT else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", _fit_params())
def test_fits_fixed_batch(name):
    network = _build(name)
    _remove_dropout(network)
    step = _train_step_cell(
        network, nn.Adam(network.trainable_params(), learning_rate=FIT_LR.get(name, 1e-3))
    )
    x = _input(name, batch=4)
    labels = ms.Tensor(np.array([0, 1, 2, 3], np.int32))

    losses = []
    for _ in range(60):
        losses.append(float(step(x, labels).asnumpy()))
        if losses[-1] < 0.05:
            break

    assert losses[0] > 1.0
    assert losses[-1] < 0.05, f"{name}: loss after {len(losses)} steps: {losses[-5:]}"


def _mindir_params():
    for name in BUILTIN:
        marks = [pytest.mark.slow] if name in SLOW_MINDIR else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", _mindir_params())
def test_export_mindir_matches(name, tmp_path):
    network = _build(name)
    network.set_train(False)
    x = _input(name, batch=2)
    expected = network(x).asnumpy()

    ms.export(network, x, file_name=str(tmp_path / name), file_format="MINDIR")

    graph = nn.GraphCell(ms.load(str(tmp_path / f"{name}.mindir")))
    np.testing.assert_allclose(graph(x).asnumpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", BUILTIN)
def test_export_onnx_matches(name, tmp_path):
    network = _build(name)
    network.set_train(False)
    x = _input(name, batch=2)
    expected = network(x).asnumpy()

    ms.export(network, x, file_name=str(tmp_path / name), file_format="ONNX")

    onnx_path = str(tmp_path / f"{name}.onnx")
    onnx.checker.check_model(onnx_path)
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {session.get_inputs()[0].name: x.asnumpy()})
    assert onnx_logits.shape == expected.shape
    np.testing.assert_allclose(onnx_logits, expected, rtol=1e-4, atol=1e-4)
