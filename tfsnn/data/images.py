"""Small image datasets held in memory as uint8 tensors (the digits stand-ins, CIFAR, Fashion-MNIST):
normalised by the statistics of the training images that stay in training, augmented per sample."""
from __future__ import annotations

from functools import cache
from typing import Callable

import torch
from torch.utils.data import Dataset

from .parts import Parts
from .split import carve
from .transforms import channel_stats, eval_transform, train_transform

Split = tuple[torch.Tensor, torch.Tensor]  # images [N, C, H, W] uint8, labels [N]


class ImageDataset(Dataset):
    """uint8 images ``[N, C, H, W]`` with labels, transformed per sample."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: Callable):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), int(self.labels[i])


def image_parts(train: Split, test: Split, options: dict) -> Parts:
    """:class:`Parts` of an image dataset in memory. ``options``: the run's ``val_split`` and ``seed`` (which
    training images stay in training, and so the normalisation statistics), and the augmentation
    ``crop_padding``, ``hflip``, ``autoaugment``, ``cutout``, ``cutout_size`` and ``cutout_fill``."""
    splits = {"train": train, "test": test}
    x_train, y_train = train

    @cache
    def transforms() -> tuple[Callable, Callable]:  # on the first view: load_data has checked the splits
        keep, _ = carve(y_train, options["val_split"], options["seed"])
        mean, std = channel_stats(x_train[keep])
        return (train_transform(mean, std, options["crop_padding"], options["hflip"], options["autoaugment"],
                                options["cutout"], options["cutout_size"], image_size=x_train.shape[-2:],
                                cutout_fill=options["cutout_fill"]),
                eval_transform(mean, std))

    def view(part: str, idx: torch.Tensor, augment: bool) -> ImageDataset:
        images, labels = splits[part]
        return ImageDataset(images[idx], labels[idx], transforms()[0 if augment else 1])

    return Parts(y_train, test[1], view, tuple(x_train.shape[1:]), x_train.shape[1])
