"""100-class pair datasets: two images side by side, class ``10*a + b`` (stand-ins for CIFAR-100)."""
from __future__ import annotations

import torch


def make_pairs(images: torch.Tensor, labels: torch.Tensor, per_class: int, seed: int,
               num_base: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` pairs for each of the ``num_base**2`` classes, drawn with a seeded generator.

    The left image has label ``a``, the right one ``b``; both come from ``images`` only, so pairs built
    from a training pool and from a test pool never share a source image.
    """
    g = torch.Generator().manual_seed(seed)
    by_class = [torch.nonzero(labels == c).flatten() for c in range(num_base)]
    if any(len(ix) == 0 for ix in by_class):
        raise ValueError("every base class needs at least one image to build pairs")
    lefts, rights, ys = [], [], []
    for a in range(num_base):
        for b in range(num_base):
            ia = by_class[a][torch.randint(len(by_class[a]), (per_class,), generator=g)]
            ib = by_class[b][torch.randint(len(by_class[b]), (per_class,), generator=g)]
            lefts.append(ia)
            rights.append(ib)
            ys.append(torch.full((per_class,), a * num_base + b, dtype=torch.long))
    left, right = torch.cat(lefts), torch.cat(rights)
    pairs = torch.cat([images[left], images[right]], dim=-1)
    return pairs, torch.cat(ys)
