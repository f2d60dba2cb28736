"""The N-MNIST network of the paper's official event-driven code (Table 7), as a TemporalNet.

The official ``train-event-driven`` code has no network named for N-MNIST; its temporally flexible
network for Speck-sized event input, the one its README trains, is ``dvs_gesture_tfsnn`` in
``models/snn_speck.py``. Rebuilt here with tfsnn's layers, three stages:

    stage 1: [2x2 avg-pool], conv 3x3 stride 2 (2 -> 8w), BN, IF; 2x2 avg-pool, conv 3x3 (8w -> 16w), BN, IF
    stage 2: TTM, 2x2 avg-pool, conv 3x3 (16w -> 32w), BN, IF; 2x2 avg-pool, conv 3x3 (32w -> 32w), BN, IF
    stage 3: TTM, flatten, linear (-> 64), IF;  classifier: linear (64 -> classes)

with bias-free convolutions and linear layers and BN after every convolution. The official first
TTM, which keeps the first t_1 input frames, is tfsnn's ``"frames"`` input encoding. Adaptations:

- ``input_pool``: the official first 2x2 pooling shrinks DVS128's 128x128 to 64x64; N-MNIST's 34x34
  frames skip it by default (``input_pool=2`` restores it);
- the flattened width follows ``input_size`` (34: 32w x 2 x 2) instead of 128x128's 32 x 4 x 4.

Neurons: built with tfsnn's LIF (Eq. 1-4, ``tau = 1``: no leak, single spikes, hard reset);
``build_model(..., neuron="iaf_multispike")`` swaps every one for :class:`tfsnn.iaf.IAF`, the official
sinabs ``IAFSqueeze`` (no leak, several spikes per step, reset by subtraction, membrane floored at
-1, SingleExponential surrogate), and ``folded=True`` builds the structure :func:`tfsnn.fold.fold_bn`
leaves (no biases, each BN a locked per-channel scale).

Table 7 uses both, as the official deployment recipe (``train-event-driven/readme.md``) does, in
three phases over two runs: (1) a run trains with ``method: sdt``, ``neuron: iaf_multispike`` and BN;
(2)+(3) a run per row starts from its ``model.pt`` (``init_from``), removes the biases and BN shifts
and folds BN into the weights (``fold_bn``), then fine-tunes with SDT or MTT with BN locked
(:func:`tfsnn.deploy.start_from_parent`, ``tfsnn.pipeline.paper.table7``).
"""
from __future__ import annotations

from torch import nn

from ..neuron import LIF
from .base import TemporalNet
from .layers import ConvBNLIF, Seq
from .resnet import scaled

CHANNELS = (8, 16, 32, 32)  # the four convolutions; the first has stride 2
HIDDEN = 64  # the linear layer before the classifier (not scaled by width, as in the official code)


def _pooled_conv(c_in: int, c_out: int, stride: int, pool: int, **lif_kw) -> nn.Sequential:
    layers = [Seq(nn.AvgPool2d(pool))] if pool > 1 else []
    return nn.Sequential(*layers, ConvBNLIF(c_in, c_out, 3, stride, **lif_kw))


def nmnist_net(num_classes: int, in_channels: int = 2, width: float = 1.0, input_size: int = 34,
               input_pool: int = 1, **lif_kw) -> TemporalNet:
    c1, c2, c3, c4 = (scaled(c, width) for c in CHANNELS)
    side = input_size // input_pool
    side = (side + 1) // 2 // 2 // 2 // 2  # conv stride 2, then three 2x2 pools
    if side < 1:
        raise ValueError(f"nmnist_net needs inputs of at least {16 * input_pool} pixels, got {input_size}")
    stages = [
        nn.Sequential(_pooled_conv(in_channels, c1, 2, input_pool, **lif_kw), _pooled_conv(c1, c2, 1, 2, **lif_kw)),
        nn.Sequential(_pooled_conv(c2, c3, 1, 2, **lif_kw), _pooled_conv(c3, c4, 1, 2, **lif_kw)),
        nn.Sequential(Seq(nn.Flatten(1), nn.Linear(c4 * side * side, HIDDEN, bias=False)), LIF(**lif_kw)),
    ]
    kwargs = dict(num_classes=num_classes, in_channels=in_channels, width=width, input_size=input_size,
                  input_pool=input_pool, **lif_kw)
    return TemporalNet(stages, nn.Linear(HIDDEN, num_classes, bias=False), "frames", pool=False,
                       arch="nmnist_net", arch_kwargs=kwargs)
