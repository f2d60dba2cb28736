"""Building blocks on time-first tensors ``[T, B, ...]``.

Convolutions, BN and linear layers run on the time-folded ``[T*B, ...]`` tensor. A tensor that is
the same at every step (a direct-encoded image expanded over time, stride 0 along T) is folded once:
the layer runs on one frame and the result is expanded again. In train mode BN's batch mean and
biased variance are the same either way, so the forward pass is unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

from ..neuron import LIF


def seq_apply(module: nn.Module, x_seq: torch.Tensor) -> torch.Tensor:
    """Apply a per-frame ``module`` to ``x_seq`` ``[T, B, ...]``."""
    T, B = x_seq.shape[:2]
    if T > 1 and x_seq.stride(0) == 0:
        y = module(x_seq[0])
        return y.unsqueeze(0).expand((T,) + tuple(y.shape))
    y = module(x_seq.flatten(0, 1))
    return y.unflatten(0, (T, B))


class Seq(nn.Sequential):
    """An ``nn.Sequential`` of per-frame layers applied to a time-first tensor."""

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return seq_apply(super().forward, x_seq)


def conv_bn(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> Seq:
    """Bias-free convolution followed by BN, on ``[T, B, C, H, W]``."""
    return Seq(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out))


class ConvBNLIF(nn.Module):
    """conv-BN-LIF, optionally followed by 2x2 average pooling (VGG stage, ResNet stem)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, pool: bool = False,
                 **lif_kw):
        super().__init__()
        self.conv = conv_bn(c_in, c_out, kernel, stride)
        self.lif = LIF(**lif_kw)
        # ceil_mode: identical on even sizes (CIFAR), and small inputs (smoke) never pool down to nothing
        self.pool = Seq(nn.AvgPool2d(2, ceil_mode=True)) if pool else None

    def forward(self, x_seq: torch.Tensor, keep: int | None = None) -> torch.Tensor:
        """``keep``: of the conv-BN output only the first ``keep`` steps go on to the LIF."""
        y = self.conv(x_seq)
        out = self.lif(y if keep is None else y[:keep])
        return self.pool(out) if self.pool is not None else out


def uses_batch_statistics(module: nn.Module) -> bool:
    """Whether a BN in ``module`` normalises by the statistics of its input (train mode, or no running
    statistics). A folded BN (:class:`tfsnn.fold.LockedBN`) has no statistics at all."""
    return any(m.training or m.running_mean is None for m in module.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm))


class FrameStem(nn.Sequential):
    """The first stage's layers with the stem's conv-BN run on every input frame, as the official
    TFSNN_ResNet18_DVS does: ``[0]`` is the stem (a :class:`ConvBNLIF`), the rest follow. The stage
    receives all F frames; of the stem's conv-BN output the first ``t`` steps go on to its LIF.

    Conv and BN act per frame, so this differs from stemming the first ``t`` frames only where BN
    normalises by batch statistics (training, BN calibration): there the statistics cover all F
    frames. Elsewhere only the first ``t`` frames are computed (the same result, fewer operations).
    """

    def forward(self, x_seq: torch.Tensor, t: int) -> torch.Tensor:  # type: ignore[override]
        stem = self[0]
        if not uses_batch_statistics(stem.conv):
            x_seq = x_seq[:t]
        out = stem(x_seq, keep=t)
        for layer in list(self)[1:]:
            out = layer(out)
        return out


class BasicBlock(nn.Module):
    """Spiking ResNet basic block: conv-BN-LIF-conv-BN, plus shortcut, add, then LIF.

    ``residual_bn_init`` is the initial weight (gamma) of the BN layers whose outputs are added: the
    branch's last and the shortcut's. PyTorch's default 1 is the paper's; tdBN (Zheng et al., AAAI 2021)
    uses 1/sqrt(2), so that the sum starts with the variance of one BN output. In a deep stack of these
    blocks it keeps the surrogate gradients from growing block by block towards the input.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, residual_bn_init: float = 1.0, **lif_kw):
        super().__init__()
        self.conv1 = conv_bn(c_in, c_out, 3, stride)
        self.lif1 = LIF(**lif_kw)
        self.conv2 = conv_bn(c_out, c_out, 3, 1)
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if (stride != 1 or c_in != c_out) else None
        self.lif2 = LIF(**lif_kw)
        for added in (self.conv2, self.shortcut):
            if added is not None:
                nn.init.constant_(added[1].weight, residual_bn_init)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.lif1(self.conv1(x_seq)))
        short = x_seq if self.shortcut is None else self.shortcut(x_seq)
        return self.lif2(out + short)


class LinearLIF(nn.Module):
    """Fully connected layer followed by LIF, on ``[T, B, F]``."""

    def __init__(self, f_in: int, f_out: int, **lif_kw):
        super().__init__()
        self.fc = Seq(nn.Linear(f_in, f_out))
        self.lif = LIF(**lif_kw)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        return self.lif(self.fc(x_seq))
