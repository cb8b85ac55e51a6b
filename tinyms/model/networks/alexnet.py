"""AlexNet (Krizhevsky, Sutskever and Hinton, ImageNet Classification with Deep
Convolutional Neural Networks, NIPS 2012).

The layer sizes follow the paper's figure 2 for a 227x227 input: five
convolutions with 96, 256, 384, 384 and 256 filters, 3x3 stride-2 overlapping
max pooling, and dense layers of 4096, 4096 and ``class_num`` with dropout 0.5
on the first two. Two choices differ from the paper: the convolutions are not
split into two groups (the paper's two-GPU layout), and local response
normalization is left out (it has no parameters). With 1000 classes this gives
62,378,344 parameters; the grouped two-GPU layout has about 61 million.
"""

from __future__ import annotations

from mindspore import nn

from tinyms.model.registry import NETWORKS

from ._blocks import StagedNetwork, init_conv_he

__all__ = ["AlexNet", "alexnet"]


def _conv_relu(in_channels: int, out_channels: int, kernel: int, stride: int, pad: int):
    mode = "pad" if pad else "valid"
    return [
        nn.Conv2d(
            in_channels, out_channels, kernel, stride=stride, pad_mode=mode, padding=pad,
            has_bias=True,
        ),
        nn.ReLU(),
    ]


class AlexNet(StagedNetwork):
    """AlexNet for 227x227 inputs.

    Stages for a ``[N, 3, 227, 227]`` input: ``conv1`` -> ``[N, 96, 27, 27]``,
    ``conv2`` -> ``[N, 256, 13, 13]``, ``conv3_5`` -> ``[N, 256, 6, 6]``.

    Args:
        class_num: Number of output classes.
        in_channels: Input image channels.
        dropout: Dropout probability before the first two dense layers.
    """

    def __init__(self, class_num: int = 10, in_channels: int = 3, dropout: float = 0.5):
        stages = [
            nn.SequentialCell(
                [*_conv_relu(in_channels, 96, 11, 4, 0), nn.MaxPool2d(kernel_size=3, stride=2)]
            ),
            nn.SequentialCell(
                [*_conv_relu(96, 256, 5, 1, 2), nn.MaxPool2d(kernel_size=3, stride=2)]
            ),
            nn.SequentialCell(
                [
                    *_conv_relu(256, 384, 3, 1, 1),
                    *_conv_relu(384, 384, 3, 1, 1),
                    *_conv_relu(384, 256, 3, 1, 1),
                    nn.MaxPool2d(kernel_size=3, stride=2),
                ]
            ),
        ]
        head = nn.SequentialCell(
            [
                nn.Flatten(),
                nn.Dropout(p=dropout),
                nn.Dense(256 * 6 * 6, 4096),
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Dense(4096, 4096),
                nn.ReLU(),
                nn.Dense(4096, class_num),
            ]
        )
        super().__init__(stages, head, ("conv1", "conv2", "conv3_5"))
        init_conv_he(self)


@NETWORKS.register("alexnet")
def alexnet(*, class_num: int = 10, in_channels: int = 3) -> AlexNet:
    """Build AlexNet for ``[N, in_channels, 227, 227]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.

    Example:
        >>> net = alexnet(class_num=10)
    """
    return AlexNet(class_num=class_num, in_channels=in_channels)
