"""VGG14 (A.1): VGG16's 13 conv layers, average pooling, one FC layer. Each conv layer is a stage."""
from __future__ import annotations

from torch import nn

from .base import TemporalNet
from .layers import ConvBNLIF
from .resnet import scaled

# (channels, average-pool after the layer)
VGG14 = [(64, False), (64, True), (128, False), (128, True), (256, False), (256, False), (256, True),
         (512, False), (512, False), (512, True), (512, False), (512, False), (512, True)]


def vgg14(num_classes: int, in_channels: int = 3, width: float = 1.0, **lif_kw) -> TemporalNet:
    stages, c_in = [], in_channels
    for c, pool in VGG14:
        c_out = scaled(c, width)
        stages.append(ConvBNLIF(c_in, c_out, 3, 1, pool=pool, **lif_kw))
        c_in = c_out
    kwargs = dict(num_classes=num_classes, in_channels=in_channels, width=width, **lif_kw)
    return TemporalNet(stages, nn.Linear(c_in, num_classes), "static", arch="vgg14", arch_kwargs=kwargs)
