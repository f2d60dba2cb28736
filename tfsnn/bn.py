"""BN calibration (4.3.2, A.3, A.7).

After training, reset every BN layer's running statistics and re-estimate them as a cumulative
average (momentum ``None``) over a few training batches run in train mode without gradients, at
one temporal configuration (by default uniform ``T_max``, whose statistics serve every uniform T).
"""
from __future__ import annotations

import contextlib
import itertools
from typing import Iterable, Iterator, Sequence

import torch
from torch import nn

DEFAULT_BATCHES = 10


def bn_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def calibrate_bn(model: nn.Module, batches: Iterable, t: int | Sequence[int], n_batches: int = DEFAULT_BATCHES,
                 device: torch.device | str | None = None, autocast_dtype: torch.dtype | None = None) -> int:
    """Re-estimate BN statistics from ``n_batches`` of ``batches`` at configuration ``t``; returns batches used.

    ``batches`` yields ``(inputs, labels)``; the model is left in eval mode.
    """
    if n_batches < 1:
        raise ValueError(f"BN calibration needs at least one batch, got n_batches={n_batches}")
    layers = bn_layers(model)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    device = device or next(model.parameters()).device
    model.train()
    used = 0
    try:
        for x, _ in itertools.islice(batches, n_batches):
            x = x.to(device, non_blocking=True)
            with torch.autocast(torch.device(device).type, dtype=autocast_dtype or torch.bfloat16,
                                enabled=autocast_dtype is not None):
                model(x, t)
            used += 1
    finally:
        for m, mom in zip(layers, momenta):
            m.momentum = mom
        model.eval()
    if used == 0:
        raise ValueError("BN calibration got no batches: the calibration data is empty")
    return used


@contextlib.contextmanager
def bn_snapshot(model: nn.Module) -> Iterator[None]:
    """Inside, BN statistics may be recalibrated at will; on exit they are what they were before."""
    layers = bn_layers(model)
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in layers]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, n) in zip(layers, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(n)


@contextlib.contextmanager
def updates_as_repeated(model: nn.Module, n: int) -> Iterator[None]:
    """One train-mode pass inside updates every BN's running statistics as ``n`` passes over the same
    batch would: an exponential average of momentum ``m`` moves by ``1 - (1 - m)^n`` instead of ``m``; a
    cumulative average (momentum ``None``) after ``c`` batches weighs the batch ``n / (c + n)`` and counts
    ``n`` batches. The same arithmetic up to rounding; ``n = 1`` changes nothing."""
    if n == 1:
        yield
        return
    layers = [m for m in bn_layers(model) if m.training and m.track_running_stats]
    momenta = [m.momentum for m in layers]
    for m in layers:
        seen = int(m.num_batches_tracked)
        m.momentum = n / (seen + n) if m.momentum is None else 1.0 - (1.0 - m.momentum) ** n
    try:
        yield
        with torch.no_grad():
            for m in layers:
                m.num_batches_tracked.add_(n - 1)
    finally:
        for m, mom in zip(layers, momenta):
            m.momentum = mom
