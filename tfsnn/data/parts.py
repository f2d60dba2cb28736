"""What every dataset hands to ``load_data``: its :class:`Parts`.

``Parts`` holds the labels of the dataset's two official splits and a ``view`` that turns a split
and indices into a torch ``Dataset`` (with or without the training augmentation); ``load_data``
carves the validation split out of the training labels and asks for the three views.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass
class Parts:
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    view: Callable[[str, torch.Tensor, bool], Dataset]  # (split, indices, augment) -> Dataset
    sample_shape: tuple
    in_channels: int


class ArrayDataset(Dataset):
    """Rows ``samples[indices[i]]`` of a (possibly memory-mapped) array as float32 tensors.

    Each row is copied out, scaled by ``scale`` and passed through ``transform``; labels are ints.
    """

    def __init__(self, samples: np.ndarray, labels: np.ndarray, indices, transform: Callable | None = None,
                 scale: float = 1.0):
        self.samples, self.labels = samples, labels
        self.indices = np.asarray(indices, dtype=np.int64)
        self.transform, self.scale = transform, float(scale)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        j = int(self.indices[i])
        x = torch.from_numpy(np.array(self.samples[j], dtype=np.float32))
        if self.scale != 1.0:
            x.mul_(self.scale)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[j])
