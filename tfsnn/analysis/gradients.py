"""Gradient metrics: weight and input gradient lengths (A.11, Table 13), and the cosine similarity of
weight gradients at two time steps on the same batches (4.2)."""
from __future__ import annotations

import copy
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn


def conv_weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]


def gradient_lengths(model: nn.Module, batches: Iterable, T: int, device: torch.device) -> dict:
    """``||dL/dW||`` of the loss over all the batches for conv weights, and the mean ``||dL_i/dx_i||``.

    Eval mode (BN with its calibrated statistics), so samples are independent and one backward of the
    summed loss gives every per-sample input gradient.
    """
    model.eval()
    model.zero_grad(set_to_none=True)
    input_norms, n = [], 0
    for x, y in batches:
        x = x.detach().to(device).requires_grad_(True)   # never flag the caller's tensor
        y = y.to(device)
        loss = F.cross_entropy(model(x, T).float(), y, reduction="sum")
        loss.backward()
        input_norms.append(x.grad.flatten(1).norm(dim=1).detach().cpu())
        n += len(y)
    grads = [w.grad / n for w in conv_weights(model)]          # gradient of the mean loss
    w_norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    model.zero_grad(set_to_none=True)
    return {"weight_grad_norm": w_norm, "input_grad_norm": float(torch.cat(input_norms).mean()), "samples": n}


def _flat_grad(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None and p.dim() > 1])


def gradient_cosines(model: nn.Module, batches: Iterable, t_a: int, t_b: int, device: torch.device) -> list[float]:
    """Per batch: cosine similarity of the weight gradients at uniform ``t_a`` and ``t_b`` (train mode, as
    in training; on a copy so the model's BN statistics stay as they are)."""
    probe = copy.deepcopy(model).train()
    out = []
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        grads = []
        for T in (t_a, t_b):
            probe.zero_grad(set_to_none=True)
            F.cross_entropy(probe(x, T).float(), y).backward()
            grads.append(_flat_grad(probe))
        out.append(float(F.cosine_similarity(grads[0], grads[1], dim=0)))
    return out
