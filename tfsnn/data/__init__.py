"""Datasets by name: preparation (once, into a data folder) and loading with the run's augmentation.

| name       | what                                            | default root     |
|------------|-------------------------------------------------|------------------|
| digits10   | sklearn digits in the CIFAR-10 pickle layout    | data/digits10    |
| digits100  | digit pairs (class 10a+b), CIFAR-100 layout     | data/digits100   |
| cifar10    | CIFAR-10 python pickles                         | data/cifar10     |
| cifar100   | CIFAR-100 python pickles                        | data/cifar100    |
| fashion10  | Fashion-MNIST                                   | data/fashion     |
| fashion100 | Fashion-MNIST pairs (class 10a+b)               | data/fashion     |
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .split import holdout
from .transforms import channel_stats, eval_transform, train_transform

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class DatasetSpec:
    num_classes: int
    default_root: str
    prepare: Callable[[Path], object]
    load: Callable[[Path], tuple[Split, Split]]
    input_kind: str = "static"
    description: str = ""


def _cifar(num_classes: int) -> tuple[Callable, Callable]:
    from .cifar import read_cifar_split

    def load(root: Path) -> tuple[Split, Split]:
        return read_cifar_split(root, num_classes, "train"), read_cifar_split(root, num_classes, "test")

    def prepare(root: Path) -> object:
        from .cifar import cifar_folder

        if not cifar_folder(root, num_classes).is_dir():
            try:  # torchvision's download where a network is there
                from torchvision import datasets

                getattr(datasets, f"CIFAR{num_classes}")(str(root), download=True)
            except Exception:
                pass
        return load(root)

    return prepare, load


def _digits(num_classes: int) -> tuple[Callable, Callable]:
    from .cifar import read_cifar_split
    from .standins import make_digits

    def load(root: Path) -> tuple[Split, Split]:
        if not (root / "manifest.json").is_file():
            raise DataError(f"the digits{num_classes} stand-in is not in {root}; run "
                            f"`python -m tfsnn prepare digits{num_classes} --root {root}` first")
        return read_cifar_split(root, num_classes, "train"), read_cifar_split(root, num_classes, "test")

    return (lambda root: make_digits(root, num_classes)), load


def _fashion(num_classes: int) -> tuple[Callable, Callable]:
    from .fashion import load_fashion, prepare_fashion
    from .pairs import make_pairs

    def load(root: Path) -> tuple[Split, Split]:
        train, test = load_fashion(root)
        if num_classes == 100:  # as many pairs as images: 600 / 100 per class
            train = make_pairs(*train, len(train[1]) // 100, seed=1)
            test = make_pairs(*test, len(test[1]) // 100, seed=2)
        return train, test

    return prepare_fashion, load


def _spec(make, num_classes, root, description) -> DatasetSpec:
    prepare, load = make(num_classes)
    return DatasetSpec(num_classes, root, prepare, load, description=description)


DATASETS: dict[str, DatasetSpec] = {
    "digits10": _spec(_digits, 10, "data/digits10", "sklearn digits, CIFAR-10 layout (smoke)"),
    "digits100": _spec(_digits, 100, "data/digits100", "digit pairs, CIFAR-100 layout (smoke)"),
    "cifar10": _spec(_cifar, 10, "data/cifar10", "CIFAR-10"),
    "cifar100": _spec(_cifar, 100, "data/cifar100", "CIFAR-100"),
    "fashion10": _spec(_fashion, 10, "data/fashion", "Fashion-MNIST (mini)"),
    "fashion100": _spec(_fashion, 100, "data/fashion", "Fashion-MNIST pairs (mini)"),
}


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def prepare_dataset(name: str, root: str | Path | None = None) -> Path:
    spec = dataset_spec(name)
    root = Path(root or spec.default_root)
    spec.prepare(root)
    return root


class ImageDataset(Dataset):
    """uint8 images ``[N, C, H, W]`` with labels, transformed per sample."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: Callable):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), int(self.labels[i])


@dataclass
class Data:
    train: Dataset
    test: Dataset
    val: Dataset | None
    num_classes: int
    in_channels: int
    input_kind: str
    image_shape: tuple
    sizes: dict = field(default_factory=dict)


def load_data(name: str, root: str | Path | None = None, *, val_split: int = 0, seed: int = 0,
              crop_padding: int = 4, hflip: bool = True, autoaugment: bool = False, cutout: bool = False,
              cutout_size: int = 16) -> Data:
    """Train/val/test datasets of ``name`` with the training augmentation; normalised by train statistics."""
    spec = dataset_spec(name)
    root = Path(root or spec.default_root)
    (x_tr, y_tr), (x_te, y_te) = spec.load(root)
    if len(y_tr) == 0 or len(y_te) == 0:
        raise DataError(f"{name} in {root} has an empty train or test split; prepare it again")
    val = None
    if val_split:
        if not 0 < val_split < len(y_tr):
            raise DataError(f"val_split={val_split} must be between 1 and {len(y_tr) - 1} for {name}")
        keep, held = holdout(y_tr, val_split, seed)
        val_xy = (x_tr[held], y_tr[held])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    mean, std = channel_stats(x_tr)
    tf_train = train_transform(mean, std, crop_padding, hflip, autoaugment, cutout, cutout_size,
                               image_size=x_tr.shape[-2:])
    tf_eval = eval_transform(mean, std)
    if val_split:
        val = ImageDataset(*val_xy, tf_eval)
    return Data(train=ImageDataset(x_tr, y_tr, tf_train), test=ImageDataset(x_te, y_te, tf_eval), val=val,
                num_classes=spec.num_classes, in_channels=x_tr.shape[1], input_kind=spec.input_kind,
                image_shape=tuple(x_tr.shape[1:]),
                sizes={"train": len(y_tr), "val": len(val) if val else 0, "test": len(y_te)})
