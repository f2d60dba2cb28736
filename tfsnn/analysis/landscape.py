"""1D loss landscapes along a filter-normalised random direction (Li et al. 2018; A.10, Fig. 9).

The direction has a random normal entry for every conv and linear weight, rescaled filter by filter
(one output channel of a conv, one row of a linear layer) to the norm of the matching weight filter.
Biases and BN parameters get no direction (they stay fixed), and BN statistics are the model's own
(calibrated, or for a run that does not calibrate, e.g. the official protocol's SDT runs, the running
statistics of training).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..engine import autocast


def filter_normalized_direction(model: nn.Module, generator: torch.Generator) -> dict[str, torch.Tensor]:
    direction = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            w = module.weight.detach()
            d = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.device, w.dtype)
            w_norm = w.flatten(1).norm(dim=1)
            d_norm = d.flatten(1).norm(dim=1).clamp_min(1e-12)
            direction[f"{name}.weight"] = d * (w_norm / d_norm).view(-1, *([1] * (w.dim() - 1)))
    return direction


@torch.no_grad()
def scan(model: nn.Module, direction: dict[str, torch.Tensor], alphas: Sequence[float], batches: list,
         T: int, device: torch.device, autocast_dtype=None) -> list[dict]:
    """Loss and accuracy of ``w + alpha * d`` for every alpha, on the same batches, weights restored after."""
    model.eval()
    params = dict(model.named_parameters())
    base = {k: params[k].detach().clone() for k in direction}
    out = []
    try:
        for alpha in alphas:
            for k, d in direction.items():
                params[k].copy_(base[k] + alpha * d)
            loss_sum, correct, n = 0.0, 0, 0
            for x, y in batches:
                x, y = x.to(device), y.to(device)
                with autocast(device, autocast_dtype):
                    logits = model(x, T).float()
                loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
                correct += int((logits.argmax(1) == y).sum())
                n += len(y)
            out.append({"alpha": float(alpha), "loss": loss_sum / n, "accuracy": correct / n})
    finally:
        for k in direction:
            params[k].copy_(base[k])
    return out
