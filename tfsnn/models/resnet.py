"""Spiking ResNets: ResNet-18/19 (CIFAR), ResNet-34 (ImageNet), B-ResNet-50/72 (Table 10), DVS ResNet-18.

Every residual block is one stage; the stem belongs to the first stage. Channel widths are scaled
by ``width`` (the smoke preset shrinks networks this way, not with another code path).
"""
from __future__ import annotations

from torch import nn

from .base import TemporalNet
from .layers import BasicBlock, ConvBNLIF, FrameStem

# (channels, blocks, stride of the first block) per layer group
LAYOUTS = {
    "resnet18": [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)],
    "resnet19": [(128, 3, 1), (256, 3, 2), (512, 2, 2)],
    # ImageNet ResNet-34 without the max-pool, first block stride 2 (A.2)
    "resnet34": [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 2)],
    "bresnet50": [(64, 3, 1), (128, 6, 2), (256, 9, 2), (512, 6, 2)],
    "bresnet72": [(64, 3, 1), (128, 8, 2), (256, 16, 2), (512, 8, 2)],
}


def scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def spiking_resnet(arch: str, num_classes: int, in_channels: int = 3, width: float = 1.0,
                   stem: str = "cifar", input_kind: str = "static", stem_frames: str = "t1",
                   residual_bn_init: float = 1.0, **lif_kw) -> TemporalNet:
    """A spiking ResNet from ``LAYOUTS[arch]``.

    ``stem="cifar"``: 3x3 conv stride 1 (the stem channels are the first group's).
    ``stem="imagenet"``: torchvision's 7x7 conv stride 2, 64 channels, no max-pool.
    ``stem_frames`` (event frames only): ``"t1"`` stems the first ``t_1`` frames; ``"all"`` runs the
    stem's conv-BN on every frame and keeps the first ``t_1`` outputs (:class:`FrameStem`, the
    official TFSNN_ResNet18_DVS, whose stem LIF also sees only those ``t_1``).
    ``residual_bn_init``: the initial weight of the BN layers that feed each residual addition (see
    :class:`BasicBlock`); 1 is PyTorch's default.
    """
    if stem_frames not in ("t1", "all"):
        raise ValueError(f"stem_frames must be 't1' or 'all', got {stem_frames!r}")
    if stem_frames == "all" and input_kind != "frames":
        raise ValueError(f"stem_frames='all' needs event-frame input; {arch} takes {input_kind!r} input")
    layout = [(scaled(c, width), n, s) for c, n, s in LAYOUTS[arch]]
    if stem == "cifar":
        c_stem = layout[0][0]
        stem_layer = ConvBNLIF(in_channels, c_stem, 3, 1, **lif_kw)
    elif stem == "imagenet":
        c_stem = scaled(64, width)
        stem_layer = ConvBNLIF(in_channels, c_stem, 7, 2, **lif_kw)
    else:
        raise ValueError(f"unknown stem {stem!r}")
    blocks, c_in = [], c_stem
    for c_out, n, stride in layout:
        for j in range(n):
            blocks.append(BasicBlock(c_in, c_out, stride if j == 0 else 1, residual_bn_init, **lif_kw))
            c_in = c_out
    first = FrameStem if stem_frames == "all" else nn.Sequential  # the same parameter names either way
    stages = [first(stem_layer, blocks[0])] + blocks[1:]
    kwargs = dict(num_classes=num_classes, in_channels=in_channels, width=width, **lif_kw)
    if stem_frames != "t1":  # recorded only when set, so default models' records stay as they were
        kwargs["stem_frames"] = stem_frames
    if residual_bn_init != 1.0:
        kwargs["residual_bn_init"] = residual_bn_init
    return TemporalNet(stages, nn.Linear(c_in, num_classes), input_kind, arch=arch, arch_kwargs=kwargs)
