"""Fully connected SNNs of A.12: one stage per hidden layer, inputs ``[B, L, F]`` over L steps.

seqMNIST: 2 hidden layers of 64, tau 0.99. SHD/SSC: input width 70, 3 hidden layers of 128,
tau 0.9753 (Cramer et al. 2020's plain feed-forward network).
"""
from __future__ import annotations

from typing import Sequence

from torch import nn

from .base import TemporalNet
from .layers import LinearLIF
from .resnet import scaled


def fc_snn(num_classes: int, in_features: int, hidden: Sequence[int], width: float = 1.0,
           arch: str = "fc", **lif_kw) -> TemporalNet:
    stages, f_in = [], in_features
    for f in hidden:
        f_out = scaled(f, width)
        stages.append(LinearLIF(f_in, f_out, **lif_kw))
        f_in = f_out
    kwargs = dict(num_classes=num_classes, in_features=in_features, width=width, **lif_kw)
    return TemporalNet(stages, nn.Linear(f_in, num_classes), "sequence", pool=False, arch=arch,
                       arch_kwargs=kwargs)
