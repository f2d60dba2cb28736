"""Bias removal and BN folding: phase 2 of the official event-driven deployment recipe (Table 7).

A chip such as Speck runs convolutions without biases and without BN. The official code prepares a
trained network for it in two steps (``train-event-driven/utils.py``), both here:

- :func:`remove_biases` (``bias_remove``): every BN's running mean and every bias (BN shifts
  included) set to zero. The shift ``beta - gamma * mean / sqrt(var + eps)`` is *dropped*, not moved
  into a bias, so this step changes what the network computes; fine-tuning (phase 3) repairs it.
- :func:`fold_bn` (``bn_merge_biasless``): each BN's scale ``gamma / sqrt(var + eps)`` multiplied into
  the output channels of the convolution or linear layer before it. Exact: a folded network computes
  what the bias-free one did.

The official fine-tuning then trains the network with BN *locked*: in eval mode (statistics frozen at
mean 0, variance 1), shifts zero and left out of the optimiser, the scale ``gamma`` (reset to 1) still
trained, and folded once more at the end. Here the folded BN becomes a :class:`LockedBN`, exactly that
per-channel scale, and the biases are gone from the network (``bias = None``), so nothing can train them.
A folded network has no BN statistics, so there is nothing to calibrate (see :func:`has_bn`).
"""
from __future__ import annotations

import torch
from torch import nn

FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


class LockedBN(nn.Module):
    """What a folded BN leaves during fine-tuning: a trainable per-channel scale, no shift, no statistics."""

    def __init__(self, num_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(-1, *([1] * (x.dim() - 2)))

    def extra_repr(self) -> str:
        return str(self.weight.numel())


def has_bn(model: nn.Module) -> bool:
    """Whether ``model`` has BN layers with statistics (to calibrate); ``False`` for a folded network."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def remove_biases(model: nn.Module) -> nn.Module:
    """The official ``bias_remove``, in place: BN running means and every bias parameter set to zero."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.zero_()
        for name, p in model.named_parameters():
            if name.rsplit(".", 1)[-1] == "bias":
                p.zero_()
    return model


def _bn_pairs(model: nn.Module):
    """Every (sequential, index, layer, bn) with ``bn`` right after a conv/linear ``layer``; a BN
    anywhere else is an error (it could not be folded)."""
    pairs, paired = [], set()
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            children = list(seq)
            for i in range(1, len(children)):
                if isinstance(children[i], nn.modules.batchnorm._BatchNorm) and isinstance(children[i - 1], FOLDABLE):
                    pairs.append((seq, i, children[i - 1], children[i]))
                    paired.add(id(children[i]))
    stray = [name for name, m in model.named_modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and id(m) not in paired]
    if stray:
        raise ValueError(f"BN layer(s) {', '.join(stray)} do not follow a convolution or linear layer in "
                         f"the same nn.Sequential; they cannot be folded")
    return pairs


def _lock(seq: nn.Sequential, i: int, layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> None:
    ref = next((t for t in (bn.weight, bn.running_var) if t is not None), None)
    seq[i] = LockedBN(bn.num_features) if ref is None else LockedBN(bn.num_features).to(ref)
    if layer.bias is not None:
        layer.register_parameter("bias", None)


def locked_structure(model: nn.Module) -> nn.Module:
    """Rebuild ``model``'s folded architecture in place (BN -> LockedBN, no biases), values aside: what
    ``build_model(..., folded=True)`` builds so that a folded ``model.pt`` loads into it."""
    for seq, i, layer, bn in _bn_pairs(model):
        _lock(seq, i, layer, bn)
    for m in model.modules():
        if isinstance(m, FOLDABLE) and m.bias is not None:
            m.register_parameter("bias", None)
    return model


@torch.no_grad()
def fold_bn(model: nn.Module) -> nn.Module:
    """The official ``bn_merge_biasless``, in place: each BN's scale multiplied into the preceding
    layer's weights and the BN replaced by a :class:`LockedBN` of ones. Needs zero shifts (call
    :func:`remove_biases` first, as the official recipe does); the network's function is unchanged."""
    pairs = _bn_pairs(model)
    shifted = FOLDABLE + (nn.modules.batchnorm._BatchNorm,)
    shifts = [name for name, m in model.named_modules() if isinstance(m, shifted)
              for t in (m.bias, getattr(m, "running_mean", None)) if t is not None and bool(t.ne(0).any())]
    if shifts:
        raise ValueError(f"{shifts[0]} has a non-zero bias or running mean; the official recipe drops them "
                         f"before folding: call remove_biases(model) first")
    for seq, i, layer, bn in pairs:
        gamma = bn.weight if bn.weight is not None else torch.ones_like(bn.running_var)
        scale = gamma / torch.sqrt(bn.running_var + bn.eps)
        layer.weight.mul_(scale.view(-1, *([1] * (layer.weight.dim() - 1))).to(layer.weight.dtype))
        _lock(seq, i, layer, bn)
    return locked_structure(model)
