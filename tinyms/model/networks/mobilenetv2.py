"""MobileNetV2 (Sandler et al., MobileNetV2: Inverted Residuals and Linear
Bottlenecks, CVPR 2018), for 224x224 inputs.

The layers follow the paper's table 2: a 3x3 stride-2 convolution to 32
channels, seventeen inverted residual blocks (expansion t, output channels c,
repeats n, first stride s), a 1x1 convolution to 1280 channels, global average
pooling, dropout 0.2 and a dense classifier. Every activation is ReLU6 and the
projection convolutions are linear. ``width_mult`` scales every width (rounded
to a multiple of 8) except the last 1280, which only grows. With 1000 classes
and ``width_mult=1.0`` it has 3,504,872 parameters, torchvision's count.
"""

from __future__ import annotations

from mindspore import Tensor, nn

from tinyms.model.registry import NETWORKS

from ._blocks import GlobalAvgPool, StagedNetwork, conv_bn, init_conv_he

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenetv2", "make_divisible"]

# (expansion t, output channels c, repeats n, first stride s) from the paper's table 2,
# grouped into the stages that end at each resolution.
_STAGE_SETTINGS = (
    ((1, 16, 1, 1),),
    ((6, 24, 2, 2),),
    ((6, 32, 3, 2),),
    ((6, 64, 4, 2), (6, 96, 3, 1)),
    ((6, 160, 3, 2), (6, 320, 1, 1)),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a scaled width to the nearest multiple of ``divisor``, losing at most 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class InvertedResidual(nn.Cell):
    """1x1 expansion (skipped when ``expansion`` is 1), 3x3 depthwise, linear 1x1 projection.

    The input is added to the output when the stride is 1 and the widths match.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int):
        super().__init__()
        hidden = int(round(in_channels * expansion))
        layers = []
        if expansion != 1:
            layers.append(conv_bn(in_channels, hidden, 1, activation=nn.ReLU6()))
        layers.append(conv_bn(hidden, hidden, 3, stride, group=hidden, activation=nn.ReLU6()))
        layers.append(conv_bn(hidden, out_channels, 1))
        self.body = nn.SequentialCell(layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def construct(self, x: Tensor) -> Tensor:
        if self.use_residual:
            return x + self.body(x)
        return self.body(x)


class MobileNetV2(StagedNetwork):
    """MobileNetV2.

    Stages for a ``[N, 3, 224, 224]`` input at ``width_mult=1.0``: ``stage1`` ->
    ``[N, 16, 112, 112]``, ``stage2`` -> ``[N, 24, 56, 56]``, ``stage3`` ->
    ``[N, 32, 28, 28]``, ``stage4`` -> ``[N, 96, 14, 14]``, ``stage5`` ->
    ``[N, 1280, 7, 7]``.

    Args:
        class_num: Number of output classes.
        in_channels: Input image channels.
        width_mult: Width multiplier applied to every layer but the last.
        dropout: Dropout probability before the classifier.
    """

    def __init__(
        self,
        class_num: int = 10,
        in_channels: int = 3,
        width_mult: float = 1.0,
        dropout: float = 0.2,
    ):
        channels = make_divisible(32 * width_mult)
        last_channels = make_divisible(1280 * max(1.0, width_mult))

        stages = []
        for index, settings in enumerate(_STAGE_SETTINGS):
            layers = []
            if index == 0:
                layers.append(conv_bn(in_channels, channels, 3, 2, activation=nn.ReLU6()))
            for expansion, width, repeats, first_stride in settings:
                out_channels = make_divisible(width * width_mult)
                for repeat in range(repeats):
                    stride = first_stride if repeat == 0 else 1
                    layers.append(InvertedResidual(channels, out_channels, stride, expansion))
                    channels = out_channels
            if index == len(_STAGE_SETTINGS) - 1:
                layers.append(conv_bn(channels, last_channels, 1, activation=nn.ReLU6()))
            stages.append(nn.SequentialCell(layers))

        head = nn.SequentialCell(
            [GlobalAvgPool(), nn.Dropout(p=dropout), nn.Dense(last_channels, class_num)]
        )
        names = [f"stage{i + 1}" for i in range(len(stages))]
        super().__init__(stages, head, names)
        init_conv_he(self)


@NETWORKS.register("mobilenetv2")
def mobilenetv2(
    *, class_num: int = 10, in_channels: int = 3, width_mult: float = 1.0
) -> MobileNetV2:
    """Build MobileNetV2 for ``[N, in_channels, 224, 224]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.
        width_mult: Width multiplier, e.g. 0.5 or 1.4. Defaults to 1.0.

    Example:
        >>> net = mobilenetv2(class_num=10, width_mult=0.5)
    """
    return MobileNetV2(class_num=class_num, in_channels=in_channels, width_mult=width_mult)
