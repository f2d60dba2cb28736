"""Seeded, class-stratified splits."""
from __future__ import annotations

import torch


def holdout(labels: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (keep, held_out): ``n`` samples held out, class-stratified and seeded."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(labels), generator=g)
    order = perm[torch.argsort(labels[perm], stable=True)]  # grouped by class, random within
    classes, counts = torch.unique(labels, return_counts=True)
    held, start = [], 0
    for c, k in zip(classes.tolist(), counts.tolist()):
        take = int(round(n * k / len(labels)))
        held.append(order[start:start + take])
        start += k
    held_idx = torch.cat(held)
    mask = torch.ones(len(labels), dtype=torch.bool)
    mask[held_idx] = False
    return torch.nonzero(mask).flatten(), held_idx.sort().values


def carve(labels: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (keep, held_out) of a training split: ``n`` held out by :func:`holdout`; none when ``n`` is 0."""
    if not n:
        return torch.arange(len(labels)), torch.zeros(0, dtype=torch.long)
    return holdout(labels, n, seed)
