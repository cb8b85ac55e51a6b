"""ResNet (He et al., Deep Residual Learning for Image Recognition, CVPR 2016):
the ImageNet networks of the paper's table 1 for 224x224 inputs.

ResNet-18 and -34 use basic blocks (two 3x3 convolutions), ResNet-50 and -101
bottleneck blocks (1x1, 3x3, 1x1, expansion 4). A shortcut is a 1x1
projection with batch norm where the shape changes, the identity elsewhere
(the paper's option B). A bottleneck downsamples in its 3x3 convolution, as
torchvision and the MindSpore model zoo do ("ResNet v1.5"); the paper strides
the first 1x1. The placement does not change the parameter count. With 1000
classes: ResNet-18 11,689,512, ResNet-34 21,797,672, ResNet-50 25,557,032 and
ResNet-101 44,549,160 parameters, the counts torchvision lists for its
weights. Global average pooling lets any input of at least 32x32 through.
"""

from __future__ import annotations

from mindspore import Tensor, nn

from tinyms.model.registry import NETWORKS

from ._blocks import GlobalAvgPool, StagedNetwork, conv_bn, init_conv_he, padded_max_pool

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101"]


class BasicBlock(nn.Cell):
    """Two 3x3 convolutions with a shortcut; output channels equal ``channels``."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        out_channels = channels * self.expansion
        self.body = nn.SequentialCell(
            [
                conv_bn(in_channels, channels, 3, stride, activation=nn.ReLU()),
                conv_bn(channels, out_channels, 3),
            ]
        )
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU()

    def construct(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Cell):
    """1x1 reduce, 3x3 (strided), 1x1 expand to ``4 * channels``, with a shortcut."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        out_channels = channels * self.expansion
        self.body = nn.SequentialCell(
            [
                conv_bn(in_channels, channels, 1, activation=nn.ReLU()),
                conv_bn(channels, channels, 3, stride, activation=nn.ReLU()),
                conv_bn(channels, out_channels, 1),
            ]
        )
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU()

    def construct(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Cell:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return conv_bn(in_channels, out_channels, 1, stride)


class ResNet(StagedNetwork):
    """A ResNet for ImageNet-style inputs.

    Stages for a ``[N, 3, 224, 224]`` input (``E`` is the block expansion, 1 or 4):
    ``stem`` -> ``[N, 64, 56, 56]``, ``layer1`` -> ``[N, 64E, 56, 56]``,
    ``layer2`` -> ``[N, 128E, 28, 28]``, ``layer3`` -> ``[N, 256E, 14, 14]``,
    ``layer4`` -> ``[N, 512E, 7, 7]``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: Blocks per stage, e.g. ``(3, 4, 6, 3)`` for ResNet-50.
        class_num: Number of output classes.
        in_channels: Input image channels.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        class_num: int = 10,
        in_channels: int = 3,
    ):
        stem = nn.SequentialCell(
            [
                conv_bn(in_channels, 64, 7, 2, activation=nn.ReLU()),
                # After a ReLU, so zero padding matches the paper's max pool.
                padded_max_pool(3, 2, 1),
            ]
        )
        stages = [stem]
        channels_in = 64
        for index, (count, width) in enumerate(zip(layers, (64, 128, 256, 512))):
            stride = 1 if index == 0 else 2
            blocks = []
            for block_index in range(count):
                blocks.append(block(channels_in, width, stride if block_index == 0 else 1))
                channels_in = width * block.expansion
            stages.append(nn.SequentialCell(blocks))

        head = nn.SequentialCell([GlobalAvgPool(), nn.Dense(channels_in, class_num)])
        super().__init__(stages, head, ("stem", "layer1", "layer2", "layer3", "layer4"))
        init_conv_he(self)


@NETWORKS.register("resnet18")
def resnet18(*, class_num: int = 10, in_channels: int = 3) -> ResNet:
    """Build ResNet-18 (basic blocks 2-2-2-2) for ``[N, in_channels, 224, 224]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = resnet18(class_num=10)
    """
    return ResNet(BasicBlock, (2, 2, 2, 2), class_num=class_num, in_channels=in_channels)


@NETWORKS.register("resnet34")
def resnet34(*, class_num: int = 10, in_channels: int = 3) -> ResNet:
    """Build ResNet-34 (basic blocks 3-4-6-3) for ``[N, in_channels, 224, 224]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = resnet34(class_num=10)
    """
    return ResNet(BasicBlock, (3, 4, 6, 3), class_num=class_num, in_channels=in_channels)


@NETWORKS.register("resnet50")
def resnet50(*, class_num: int = 10, in_channels: int = 3) -> ResNet:
    """Build ResNet-50 (bottlenecks 3-4-6-3) for ``[N, in_channels, 224, 224]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = resnet50(class_num=10)
    """
    return ResNet(Bottleneck, (3, 4, 6, 3), class_num=class_num, in_channels=in_channels)


@NETWORKS.register("resnet101")
def resnet101(*, class_num: int = 10, in_channels: int = 3) -> ResNet:
    """Build ResNet-101 (bottlenecks 3-4-23-3) for ``[N, in_channels, 224, 224]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = resnet101(class_num=10)
    """
    return ResNet(Bottleneck, (3, 4, 23, 3), class_num=class_num, in_channels=in_channels)
