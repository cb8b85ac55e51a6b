"""VGG (Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale
Image Recognition, ICLR 2015): configurations A (vgg11), B (vgg13), D (vgg16)
and E (vgg19) of the paper's table 1.

The registered factories build the CIFAR form: the paper's convolution stacks
on a 32x32 input (five 2x2 max pools leave a 1x1x512 map), batch normalization
after each convolution by default, and a classifier of two 512-wide dense
layers with dropout 0.5 in place of the paper's two 4096-wide ones, which suit
a 7x7x512 map from a 224x224 input. ``VGG(..., classifier='imagenet',
batch_norm=False)`` builds the paper's own network (vgg16: 138,357,544
parameters with 1000 classes).
"""

from __future__ import annotations

from mindspore import nn

from tinyms.model.registry import NETWORKS

from ._blocks import StagedNetwork, init_conv_he

__all__ = ["VGG", "VGG_CONFIGS", "vgg11", "vgg13", "vgg16", "vgg19"]

# Convolution widths per stage; each stage ends with a 2x2 max pool.
VGG_CONFIGS: dict[str, tuple[tuple[int, ...], ...]] = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    "vgg13": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    "vgg19": (
        (64, 64),
        (128, 128),
        (256, 256, 256, 256),
        (512, 512, 512, 512),
        (512, 512, 512, 512),
    ),
}

_CLASSIFIERS = {"cifar": (1, 512), "imagenet": (7, 4096)}


class VGG(StagedNetwork):
    """A VGG network.

    Stages for a ``[N, 3, 32, 32]`` input: ``stage1`` -> ``[N, 64, 16, 16]``,
    ``stage2`` -> ``[N, 128, 8, 8]``, ``stage3`` -> ``[N, 256, 4, 4]``,
    ``stage4`` -> ``[N, 512, 2, 2]``, ``stage5`` -> ``[N, 512, 1, 1]``.

    Args:
        config: A key of :data:`VGG_CONFIGS`, e.g. ``'vgg16'``.
        class_num: Number of output classes.
        in_channels: Input image channels.
        batch_norm: Add batch normalization after each convolution.
        classifier: ``'cifar'`` (32x32 input, 512-wide dense layers) or
            ``'imagenet'`` (224x224 input, 4096-wide dense layers as in the paper).
        dropout: Dropout probability after the two hidden dense layers.
    """

    def __init__(
        self,
        config: str,
        class_num: int = 10,
        in_channels: int = 3,
        batch_norm: bool = True,
        classifier: str = "cifar",
        dropout: float = 0.5,
    ):
        if config not in VGG_CONFIGS:
            raise ValueError(f"unknown VGG config {config!r}; expected one of {list(VGG_CONFIGS)}")
        if classifier not in _CLASSIFIERS:
            raise ValueError(f"unknown classifier {classifier!r}; expected 'cifar' or 'imagenet'")

        stages = []
        channels = in_channels
        for widths in VGG_CONFIGS[config]:
            layers = []
            for width in widths:
                layers.append(
                    nn.Conv2d(channels, width, 3, pad_mode="pad", padding=1, has_bias=True)
                )
                if batch_norm:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(nn.ReLU())
                channels = width
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            stages.append(nn.SequentialCell(layers))

        map_size, hidden = _CLASSIFIERS[classifier]
        head = nn.SequentialCell(
            [
                nn.Flatten(),
                nn.Dense(channels * map_size * map_size, hidden),
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Dense(hidden, hidden),
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Dense(hidden, class_num),
            ]
        )
        names = [f"stage{i + 1}" for i in range(len(stages))]
        super().__init__(stages, head, names)
        init_conv_he(self)


@NETWORKS.register("vgg11")
def vgg11(*, class_num: int = 10, in_channels: int = 3, batch_norm: bool = True) -> VGG:
    """Build VGG11 in its CIFAR form for ``[N, in_channels, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.
        batch_norm: Add batch normalization after each convolution. Defaults to True.

    Example:
        >>> net = vgg11(class_num=10)
    """
    return VGG("vgg11", class_num=class_num, in_channels=in_channels, batch_norm=batch_norm)


@NETWORKS.register("vgg13")
def vgg13(*, class_num: int = 10, in_channels: int = 3, batch_norm: bool = True) -> VGG:
    """Build VGG13 in its CIFAR form for ``[N, in_channels, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.
        batch_norm: Add batch normalization after each convolution. Defaults to True.

    Example:
        >>> net = vgg13(class_num=10)
    """
    return VGG("vgg13", class_num=class_num, in_channels=in_channels, batch_norm=batch_norm)


@NETWORKS.register("vgg16")
def vgg16(*, class_num: int = 10, in_channels: int = 3, batch_norm: bool = True) -> VGG:
    """Build VGG16 in its CIFAR form for ``[N, in_channels, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.
        batch_norm: Add batch normalization after each convolution. Defaults to True.

    Example:
        >>> net = vgg16(class_num=10)
    """
    return VGG("vgg16", class_num=class_num, in_channels=in_channels, batch_norm=batch_norm)


@NETWORKS.register("vgg19")
def vgg19(*, class_num: int = 10, in_channels: int = 3, batch_norm: bool = True) -> VGG:
    """Build VGG19 in its CIFAR form for ``[N, in_channels, 32, 32]`` inputs.

    Args:
        class_num: Number of output classes. Defaults to 10.
        in_channels: Input image channels. Defaults to 3.
        batch_norm: Add batch normalization after each convolution. Defaults to True.

    Example:
        >>> net = vgg19(class_num=10)
    """
    return VGG("vgg19", class_num=class_num, in_channels=in_channels, batch_norm=batch_norm)
