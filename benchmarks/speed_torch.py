"""PyTorch twins of tinyms's LeNet5 and ResNet-50, for ``train_speed.py``.

The layers, shapes and parameter counts match ``tinyms.model.lenet5`` and
``tinyms.model.resnet50`` (bias-free convolutions with batch norm, a 7x7
stride-2 stem, a 3x3 stride-2 max pool, bottleneck stages 3-4-6-3).
"""

from __future__ import annotations

from torch import nn

__all__ = ["lenet5", "resnet50"]


def lenet5(class_num: int = 10, num_channel: int = 1) -> nn.Module:
    """Return LeNet5 for 32x32 inputs."""
    return nn.Sequential(
        nn.Conv2d(num_channel, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, class_num),
    )


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = False) -> nn.Module:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        cout = width * 4
        self.body = nn.Sequential(
            _conv_bn(cin, width, 1, relu=True),
            _conv_bn(width, width, 3, stride, relu=True),
            _conv_bn(width, cout, 1),
        )
        self.shortcut = (nn.Identity() if stride == 1 and cin == cout
                         else _conv_bn(cin, cout, 1, stride))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


def resnet50(class_num: int = 10, in_channels: int = 3) -> nn.Module:
    """Return ResNet-50 (bottleneck blocks 3, 4, 6, 3)."""
    layers = [_conv_bn(in_channels, 64, 7, 2, relu=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for index, (count, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for block in range(count):
            layers.append(_Bottleneck(cin, width, (1 if index == 0 else 2) if block == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, class_num)]
    return nn.Sequential(*layers)
