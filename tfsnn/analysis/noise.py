"""Noise injection (5.3, Fig. 5 and 6): Gaussian noise of variance sigma^2 on weights or on inputs.

Weight noise is added to every convolution and linear weight (BN parameters and statistics untouched)
and removed afterwards; input noise is added to the network's (normalised) input.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterable, Iterator

import torch
from torch import nn

NOISY_LAYERS = (nn.Conv2d, nn.Linear)


@contextlib.contextmanager
def weight_noise(model: nn.Module, sigma2: float, generator: torch.Generator) -> Iterator[None]:
    """Inside: every conv/linear weight carries ``N(0, sigma2)`` noise. Outside: the original weights."""
    weights = [m.weight for m in model.modules() if isinstance(m, NOISY_LAYERS)]
    saved = [w.detach().clone() for w in weights]
    std = math.sqrt(sigma2)
    try:
        with torch.no_grad():
            for w in weights:
                noise = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.device, w.dtype)
                w.add_(noise * std)
        yield
    finally:
        with torch.no_grad():
            for w, s in zip(weights, saved):
                w.copy_(s)


def input_noise(batches: Iterable, sigma2: float, generator: torch.Generator) -> Iterator:
    """The batches with ``N(0, sigma2)`` noise added to every input."""
    std = math.sqrt(sigma2)
    for x, y in batches:
        yield x + torch.randn(x.shape, generator=generator, dtype=x.dtype) * std, y
