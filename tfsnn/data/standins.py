"""Offline stand-ins made from scikit-learn's bundled digits (1,797 real 8x8 handwritten digits).

``digits10`` (for CIFAR-10) and ``digits100`` (for CIFAR-100: two digits side by side, class
``10*a + b``) are written in the CIFAR python-pickle layout and read back by the same reader as the
real CIFAR files. Train and test are a seeded, class-stratified split of the source images, so the
two never share a source image (pairs are built within each side).
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..io import read_json, write_json
from .cifar import write_cifar
from .pairs import make_pairs
from .split import holdout

TEST_FRACTION = 0.2
GENERATOR_VERSION = 1  # bump when the written bytes change, so old caches are rebuilt


def digits_split(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits as 3-channel uint8 images ``[N, 3, 8, 8]``, labels, and disjoint train / test indices."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(d.images).float().mul(255.0 / 16.0).round().to(torch.uint8)
    x = x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(d.target).long()
    train_idx, test_idx = holdout(y, int(round(len(y) * TEST_FRACTION)), seed)
    return x, y, train_idx, test_idx


def make_digits(root: str | Path, num_classes: int, seed: int = 0, train_pairs: int = 30,
                test_pairs: int = 10) -> dict:
    """Write the ``digits{num_classes}`` stand-in under ``root``; returns its manifest."""
    root = Path(root)
    manifest_path = root / "manifest.json"
    wanted = {"dataset": f"digits{num_classes}", "seed": seed, "format": f"cifar{num_classes}-pickle",
              "generator_version": GENERATOR_VERSION}
    if num_classes == 100:
        wanted.update(train_pairs=train_pairs, test_pairs=test_pairs)
    if manifest_path.is_file():
        manifest = read_json(manifest_path)
        if all(manifest.get(k) == v for k, v in wanted.items()):
            return manifest
    x, y, train_idx, test_idx = digits_split(seed)
    train, test = (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])
    if num_classes == 10:
        names = [str(c) for c in range(10)]
    elif num_classes == 100:
        train = make_pairs(*train, train_pairs, seed + 1)
        test = make_pairs(*test, test_pairs, seed + 2)
        names = [f"{a}-{b}" for a in range(10) for b in range(10)]
    else:
        raise ValueError(f"digits stand-ins have 10 or 100 classes, not {num_classes}")
    write_cifar(root, num_classes, train, test, names)
    manifest = dict(wanted, image_shape=list(train[0].shape[1:]),
                    counts={"train": len(train[1]), "test": len(test[1])},
                    per_class={"train": torch.bincount(train[1], minlength=num_classes).tolist(),
                               "test": torch.bincount(test[1], minlength=num_classes).tolist()})
    write_json(manifest_path, manifest)
    return manifest
