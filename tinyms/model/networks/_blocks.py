"""Building blocks shared by the network families.

Every block here exports to ONNX with MindSpore 2.10's exporter, which has no
mapping for ``MaxPool2d(pad_mode='pad')`` or ``AdaptiveAvgPool2d``:
``GlobalAvgPool`` averages with ``ops.mean`` (ONNX ``ReduceMean``) and
``padded_max_pool`` zero-pads with ``nn.Pad`` before a ``'valid'`` max pool.
"""

from __future__ import annotations

from collections.abc import Sequence

from mindspore import Tensor, nn, ops
from mindspore.common.initializer import HeNormal, Zero, initializer

__all__ = ["StagedNetwork", "GlobalAvgPool", "padded_max_pool", "conv_bn", "init_conv_he"]


class StagedNetwork(nn.Cell):
    """A classifier made of stages run in order, then a head that returns logits.

    Args:
        stages: Feature stages; each takes the previous stage's output.
        head: Maps the last stage's output to ``[N, class_num]`` logits.
        stage_names: One name per stage, used by :meth:`stage_outputs`.
    """

    def __init__(self, stages: Sequence[nn.Cell], head: nn.Cell, stage_names: Sequence[str]):
        super().__init__()
        if len(stages) != len(stage_names):
            raise ValueError(f"got {len(stages)} stages but {len(stage_names)} stage names")
        self.stages = nn.CellList(list(stages))
        self.head = head
        self.stage_names = tuple(stage_names)

    def construct(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return self.head(x)

    def stage_outputs(self, x: Tensor) -> dict[str, Tensor]:
        """Run the stages eagerly and return each stage's output by stage name."""
        outputs = {}
        for name, stage in zip(self.stage_names, self.stages):
            x = stage(x)
            outputs[name] = x
        return outputs


class GlobalAvgPool(nn.Cell):
    """Average each channel over height and width: ``[N, C, H, W] -> [N, C]``.

    Equal to ``AdaptiveAvgPool2d(1)`` followed by a flatten, for any input size.
    """

    def construct(self, x: Tensor) -> Tensor:
        return ops.mean(x, (2, 3))


def padded_max_pool(kernel_size: int, stride: int, padding: int) -> nn.SequentialCell:
    """Return a max pool with symmetric padding that ONNX export accepts.

    Zero padding gives the same result as the usual minus-infinity padding only
    when the input is non-negative, so use it after a ReLU (every window keeps
    at least one real element, whose value is >= 0).
    """
    pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    return nn.SequentialCell(
        [nn.Pad(pad), nn.MaxPool2d(kernel_size=kernel_size, stride=stride, pad_mode="valid")]
    )


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    group: int = 1,
    activation: nn.Cell | None = None,
) -> nn.SequentialCell:
    """Return a bias-free convolution with 'same'-style padding, batch norm and an activation."""
    layers = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            pad_mode="pad",
            padding=kernel_size // 2,
            group=group,
            has_bias=False,
        ),
        nn.BatchNorm2d(out_channels),
    ]
    if activation is not None:
        layers.append(activation)
    return nn.SequentialCell(layers)


def init_conv_he(network: nn.Cell) -> None:
    """Give every convolution He-normal weights (fan-out, ReLU gain) and zero biases.

    MindSpore's default, HeUniform with a=sqrt(5), shrinks the signal about
    threefold per ReLU layer, so deep networks without batch norm (AlexNet)
    barely train from it. He et al. (ICCV 2015) derive this scheme for ReLU.
    """
    for _, cell in network.cells_and_names():
        if isinstance(cell, nn.Conv2d):
            weight = cell.weight
            weight.set_data(
                initializer(HeNormal(mode="fan_out", nonlinearity="relu"), weight.shape,
                            weight.dtype)
            )
            if cell.bias is not None:
                cell.bias.set_data(initializer(Zero(), cell.bias.shape, cell.bias.dtype))
