"""DenseNet-BC (Huang et al., Densely Connected Convolutional Networks, CVPR
2017) for CIFAR-sized 32x32 inputs, depth 100 and growth rate k=12.

A 3x3 convolution to 2k channels feeds three dense blocks of (100 - 4) / 6 =
16 bottleneck layers each (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k, the
output concatenated to the input). Transitions between blocks halve the
channels (compression 0.5) with a 1x1 convolution and halve the resolution with
2x2 average pooling. A final BN-ReLU, global average pooling and a dense layer
give the logits. The paper lists 0.8M parameters; this network has 769,162
with 10 classes. No dropout, as in the paper's runs with data augmentation.
"""

from __future__ import annotations

from mindspore import Tensor, nn, ops

from tinyms.model.registry import NETWORKS

from ._blocks import GlobalAvgPool, StagedNetwork, init_conv_he

__all__ = ["DenseLayer", "DenseNetBC", "densenet100"]


def _bn_relu_conv(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Cell]:
    return [
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(
            in_channels, out_channels, kernel_size, pad_mode="pad", padding=kernel_size // 2,
            has_bias=False,
        ),
    ]


class DenseLayer(nn.Cell):
    """A bottleneck layer whose ``growth_rate`` new maps are concatenated to its input."""

    def __init__(self, in_channels: int, growth_rate: int):
        super().__init__()
        self.body = nn.SequentialCell(
            [
                *_bn_relu_conv(in_channels, 4 * growth_rate, 1),
                *_bn_relu_conv(4 * growth_rate, growth_rate, 3),
            ]
        )

    def construct(self, x: Tensor) -> Tensor:
        return ops.cat((x, self.body(x)), 1)


class DenseNetBC(StagedNetwork):
    """DenseNet-BC with three dense blocks.

    Stages for a ``[N, 3, 32, 32]`` input at depth 100 and k=12: ``stem`` ->
    ``[N, 24, 32, 32]``, ``block1`` -> ``[N, 108, 16, 16]``, ``block2`` ->
    ``[N, 150, 8, 8]``, ``block3`` -> ``[N, 342, 8, 8]``. ``block1`` and
    ``block2`` include the transition that follows them.

    Args:
        depth: Network depth; ``(depth - 4)`` must be divisible by 6.
        growth_rate: Channels each dense layer adds (k).
        class_num: Number of output classes.
        in_channels: Input image channels.
        compression: Fraction of channels a transition keeps.
    """

    def __init__(
        self,
        depth: int = 100,
        growth_rate: int = 12,
        class_num: int = 10,
        in_channels: int = 3,
        compression: float = 0.5,
    ):
        if (depth - 4) % 6:
            raise ValueError(f"DenseNet-BC depth must be 6n + 4, got {depth}")
        layers_per_block = (depth - 4) // 6

        channels = 2 * growth_rate
        stages = [
            nn.Conv2d(in_channels, channels, 3, pad_mode="pad", padding=1, has_bias=False)
        ]
        for block_index in range(3):
            layers = []
            for _ in range(layers_per_block):
                layers.append(DenseLayer(channels, growth_rate))
                channels += growth_rate
            if block_index < 2:
                reduced = int(channels * compression)
                layers.extend(_bn_relu_conv(channels, reduced, 1))
                layers.append(nn.AvgPool2d(kernel_size=2, stride=2))
                channels = reduced
            else:
                layers.extend([nn.BatchNorm2d(channels), nn.ReLU()])
            stages.append(nn.SequentialCell(layers))

        head = nn.SequentialCell([GlobalAvgPool(), nn.Dense(channels, class_num)])
        super().__init__(stages, head, ("stem", "block1", "block2", "block3"))
        init_conv_he(self)


@NETWORKS.register("densenet100")
def densenet100(*, class_num: int = 10, in_channels: int = 3) -> DenseNetBC:
    """Build DenseNet-BC-100 (k=12) for ``[N, in_channels, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = densenet100(class_num=10)
    """
    return DenseNetBC(depth=100, growth_rate=12, class_num=class_num, in_channels=in_channels)
