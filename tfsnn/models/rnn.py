"""The RNN baseline of Table 14: an Elman RNN (tanh), 2 hidden layers of 64, on sequences ``[B, L, F]``.

A.12 trains "an RNN with 2 hidden layers of width 64" for comparison; a plain Elman RNN (tanh, the
cell of ``nn.RNN``) per hidden layer is used here, not an LSTM. So that tfsnn's training engine runs it unchanged,
it is a TemporalNet: each RNN layer is one stage (a temporal configuration applies per layer, with
TTMs in between as for the SNN; the baseline is meant to run at a uniform T), a linear readout of
the hidden state gives logits at every step (inside the last stage; the TemporalNet classifier is
the identity), and the logits are averaged over the steps as the SNN's are. It has
no spiking neurons: the LIF settings every run passes (tau, v_th, h, backend) are accepted and
ignored, and its firing rates read 0.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .base import TemporalNet
from .resnet import scaled


class RNNLayer(nn.Module):
    """One tanh RNN layer on time-first ``[T, B, F]`` tensors, from a zero hidden state.

    ``h[t] = tanh(W_ih x[t] + b_ih + W_hh h[t-1] + b_hh)``, one ``nn.RNNCell`` step at a time (the
    parameters of ``nn.RNN``); the last layer also applies the linear ``readout`` step by step. So
    the first T outputs are bitwise the same however many steps follow, and evaluation at every
    uniform T can read one causal pass, as for the SNNs.
    """

    def __init__(self, f_in: int, f_out: int, readout: nn.Linear | None = None):
        super().__init__()
        self.cell = nn.RNNCell(f_in, f_out, nonlinearity="tanh")
        self.readout = readout

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        h = x_seq.new_zeros(x_seq.shape[1], self.cell.hidden_size)
        out = []
        for x in x_seq:
            h = self.cell(x, h)
            out.append(h if self.readout is None else self.readout(h))
        return torch.stack(out)


def rnn_net(num_classes: int, in_features: int, hidden: Sequence[int] = (64, 64), width: float = 1.0,
            arch: str = "rnn", **unused_lif_settings) -> TemporalNet:
    sizes = [in_features] + [scaled(f, width) for f in hidden]
    stages = [RNNLayer(f_in, f_out) for f_in, f_out in zip(sizes[:-2], sizes[1:-1])]
    stages.append(RNNLayer(sizes[-2], sizes[-1], readout=nn.Linear(sizes[-1], num_classes)))
    kwargs = dict(num_classes=num_classes, in_features=in_features, width=width)
    return TemporalNet(stages, nn.Identity(), "sequence", pool=False, arch=arch, arch_kwargs=kwargs)
