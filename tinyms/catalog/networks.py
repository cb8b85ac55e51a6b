"""Catalog entries for networks.

Each entry has ``args`` (keyword argument schemas of the factory) and metadata:
``input_size`` ([height, width] the network expects), ``channels_arg`` and
``class_num_arg`` (which arguments set input channels and classes),
``default_channels``, ``params`` (trainable parameter count for the stated
``params_config``), ``datasets`` it suits, ``summary`` and ``source``.
"""

from __future__ import annotations

from typing import Any

from tinyms.catalog._schema import arg as _arg

_CLASS_NUM = _arg("int", 10, "Number of output classes", min=1, max=100000)
_IN_CHANNELS = _arg("int", 3, "Input image channels", min=1, max=4)
_BATCH_NORM = _arg("bool", True, "Batch normalization after each convolution")

# Datasets each network suits: RGB sets resized to the input size, plus MNIST for
# networks that take 1-channel 32x32 images.
_RGB = ["cifar10", "cifar100", "image_folder"]
_RGB_AND_MNIST = ["mnist", "mnist_sample", "cifar10", "cifar100", "image_folder"]

NETWORKS: dict[str, dict[str, Any]] = {
    "lenet5": {
        "summary": "LeNet-5: two 5x5 convolutions and three dense layers",
        "source": "LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998 "
        "(full C3 connections, max pooling, ReLU)",
        "args": {
            "class_num": _CLASS_NUM,
            "num_channel": _arg("int", 1, "Input image channels", min=1, max=4),
        },
        "input_size": [32, 32],
        "channels_arg": "num_channel",
        "class_num_arg": "class_num",
        "default_channels": 1,
        "params": 61706,
        "params_config": {"class_num": 10, "num_channel": 1},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 0.007,
    },
    "alexnet": {
        "summary": "AlexNet: five convolutions and three dense layers, 227x227 input",
        "source": "Krizhevsky et al., ImageNet Classification with Deep Convolutional Neural "
        "Networks, NIPS 2012 (one group instead of two, no local response normalization)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [227, 227],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 62378344,
        "params_config": {"class_num": 1000, "in_channels": 3},
        "datasets": _RGB,
        "step_seconds_b32": 13.523,
    },
    "vgg11": {
        "summary": "VGG11: 8 3x3 convolutions with batch norm, CIFAR form (32x32 input)",
        "source": "Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale "
        "Image Recognition, ICLR 2015, configuration A (batch norm added, 512-wide "
        "classifier for the 1x1 map of a 32x32 input)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS, "batch_norm": _BATCH_NORM},
        "input_size": [32, 32],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 9756426,
        "params_config": {"class_num": 10, "in_channels": 3, "batch_norm": True},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 5.639,
    },
    "vgg13": {
        "summary": "VGG13: 10 3x3 convolutions with batch norm, CIFAR form (32x32 input)",
        "source": "Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale "
        "Image Recognition, ICLR 2015, configuration B (batch norm added, 512-wide "
        "classifier for the 1x1 map of a 32x32 input)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS, "batch_norm": _BATCH_NORM},
        "input_size": [32, 32],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 9941322,
        "params_config": {"class_num": 10, "in_channels": 3, "batch_norm": True},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 2.37,
    },
    "vgg16": {
        "summary": "VGG16: 13 3x3 convolutions with batch norm, CIFAR form (32x32 input)",
        "source": "Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale "
        "Image Recognition, ICLR 2015, configuration D (batch norm added, 512-wide "
        "classifier for the 1x1 map of a 32x32 input)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS, "batch_norm": _BATCH_NORM},
        "input_size": [32, 32],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 15253578,
        "params_config": {"class_num": 10, "in_channels": 3, "batch_norm": True},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 1.925,
    },
    "vgg19": {
        "summary": "VGG19: 16 3x3 convolutions with batch norm, CIFAR form (32x32 input)",
        "source": "Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale "
        "Image Recognition, ICLR 2015, configuration E (batch norm added, 512-wide "
        "classifier for the 1x1 map of a 32x32 input)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS, "batch_norm": _BATCH_NORM},
        "input_size": [32, 32],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 20565834,
        "params_config": {"class_num": 10, "in_channels": 3, "batch_norm": True},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 4.751,
    },
    "resnet18": {
        "summary": "ResNet-18: basic blocks, 2-2-2-2",
        "source": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 "
        "(stride in the 3x3 convolution)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 11689512,
        "params_config": {"class_num": 1000, "in_channels": 3},
        "datasets": _RGB,
        "step_seconds_b32": 9.734,
    },
    "resnet34": {
        "summary": "ResNet-34: basic blocks, 3-4-6-3",
        "source": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 "
        "(stride in the 3x3 convolution)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 21797672,
        "params_config": {"class_num": 1000, "in_channels": 3},
        "datasets": _RGB,
        "step_seconds_b32": 47.618,
    },
    "resnet50": {
        "summary": "ResNet-50: bottleneck residual network, 3-4-6-3 blocks",
        "source": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 "
        "(stride in the 3x3 convolution)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 25557032,
        "params_config": {"class_num": 1000, "in_channels": 3},
        "datasets": _RGB,
        "step_seconds_b32": 67.764,
    },
    "resnet101": {
        "summary": "ResNet-101: bottleneck blocks, 3-4-23-3",
        "source": "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 "
        "(stride in the 3x3 convolution)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 44549160,
        "params_config": {"class_num": 1000, "in_channels": 3},
        "datasets": _RGB,
        "step_seconds_b32": 124.742,
    },
    "mobilenetv2": {
        "summary": "MobileNetV2: inverted residual blocks with linear bottlenecks, ReLU6",
        "source": "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, "
        "CVPR 2018",
        "args": {
            "class_num": _CLASS_NUM,
            "in_channels": _IN_CHANNELS,
            "width_mult": _arg("float", 1.0, "Width multiplier of every layer but the last",
                               exclusive_min=0.0, max=4.0),
        },
        "input_size": [224, 224],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 3504872,
        "params_config": {"class_num": 1000, "in_channels": 3, "width_mult": 1.0},
        "datasets": _RGB,
        "step_seconds_b32": 20.798,
    },
    "densenet100": {
        "summary": "DenseNet-BC-100: three dense blocks of 16 bottleneck layers, growth rate 12",
        "source": "Huang et al., Densely Connected Convolutional Networks, CVPR 2017 "
        "(DenseNet-BC, L=100, k=12, CIFAR form)",
        "args": {"class_num": _CLASS_NUM, "in_channels": _IN_CHANNELS},
        "input_size": [32, 32],
        "channels_arg": "in_channels",
        "class_num_arg": "class_num",
        "default_channels": 3,
        "params": 769162,
        "params_config": {"class_num": 10, "in_channels": 3},
        "datasets": _RGB_AND_MNIST,
        "step_seconds_b32": 1.954,
    },
}
