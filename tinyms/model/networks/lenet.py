"""LeNet-5 (LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998).

This is the common modern form: every C3 map sees all six S2 maps (the paper
connects each to a subset), max pooling replaces the trainable subsampling,
and ReLU replaces the scaled tanh. With 10 classes and one input channel it has
61,706 trainable parameters.
"""

from __future__ import annotations

from mindspore import nn

from tinyms.model.registry import NETWORKS

from ._blocks import StagedNetwork

__all__ = ["LeNet5", "lenet5"]


class LeNet5(StagedNetwork):
    """LeNet-5 for 32x32 inputs.

    Stages for a ``[N, 1, 32, 32]`` input: ``conv1`` -> ``[N, 6, 14, 14]``,
    ``conv2`` -> ``[N, 16, 5, 5]``; the head flattens and applies three dense
    layers (120, 84, ``class_num``).

    Args:
        class_num: Number of output classes.
        num_channel: Input image channels.
    """

    def __init__(self, class_num: int = 10, num_channel: int = 1):
        stages = [
            nn.SequentialCell(
                [
                    nn.Conv2d(num_channel, 6, 5, pad_mode="valid", has_bias=True),
                    nn.ReLU(),
                    nn.MaxPool2d(kernel_size=2, stride=2),
                ]
            ),
            nn.SequentialCell(
                [
                    nn.Conv2d(6, 16, 5, pad_mode="valid", has_bias=True),
                    nn.ReLU(),
                    nn.MaxPool2d(kernel_size=2, stride=2),
                ]
            ),
        ]
        head = nn.SequentialCell(
            [
                nn.Flatten(),
                nn.Dense(16 * 5 * 5, 120),
                nn.ReLU(),
                nn.Dense(120, 84),
                nn.ReLU(),
                nn.Dense(84, class_num),
            ]
        )
        super().__init__(stages, head, ("conv1", "conv2"))


@NETWORKS.register("lenet5")
def lenet5(*, class_num: int = 10, num_channel: int = 1) -> LeNet5:
    """Build LeNet-5 for ``[N, num_channel, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        num_channel: Input image channels. Defaults to 1.

    Example:
        >>> net = lenet5(class_num=10)
    """
    return LeNet5(class_num=class_num, num_channel=num_channel)
