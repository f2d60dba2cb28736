"""Datasets by name: preparation (once, into a data folder) and loading with the run's augmentation.

| name            | what                                                        | default root          | input    |
|-----------------|-------------------------------------------------------------|-----------------------|----------|
| digits10        | sklearn digits in the CIFAR-10 pickle layout                | data/digits10         | static   |
| digits100       | digit pairs (class 10a+b), CIFAR-100 layout                 | data/digits100        | static   |
| cifar10         | CIFAR-10 python pickles                                     | data/cifar10          | static   |
| cifar100        | CIFAR-100 python pickles                                    | data/cifar100         | static   |
| fashion10       | Fashion-MNIST                                               | data/fashion          | static   |
| fashion100      | Fashion-MNIST pairs (class 10a+b)                           | data/fashion          | static   |
| imagenet        | ILSVRC-2012 image folders, 224 crops (imagenet.py)          | data/imagenet         | static   |
| cifar10dvs      | CIFAR10-DVS .aedat/.aedat4, 10 frames 2x48x48 (dvs.py)      | data/cifar10dvs       | frames   |
| ncaltech101     | N-Caltech101 .bin, 10 frames 2x48x48                        | data/ncaltech101      | frames   |
| nmnist          | N-MNIST .bin, 10 frames 2x34x34                             | data/nmnist           | frames   |
| shd             | Spiking Heidelberg Digits HDF5, 120 x 10 ms x 70 (audio.py) | data/shd              | sequence |
| ssc             | Spiking Speech Commands HDF5, 100 x 10 ms x 70              | data/ssc              | sequence |
| seqmnist        | MNIST idx files, 784 steps of one pixel (seqmnist.py)       | data/mnist            | sequence |
| digits_imagenet | stand-in for imagenet: JPEG image folders, 32 crops         | data/digits_imagenet  | static   |
| digits_dvs      | stand-in for cifar10dvs: AEDAT 2.0 recordings               | data/digits_dvs       | frames   |
| digits_ncaltech | stand-in for ncaltech101: .bin recordings, 10 classes       | data/digits_ncaltech  | frames   |
| digits_nmnist   | stand-in for nmnist: .bin recordings                        | data/digits_nmnist    | frames   |
| digits_shd      | stand-in for shd: HDF5 spikes, 30 x 10 ms x 70              | data/digits_shd       | sequence |
| digits_ssc      | stand-in for ssc: HDF5 spikes, 30 x 10 ms x 70              | data/digits_ssc       | sequence |
| digits_seqmnist | stand-in for seqmnist: 8x8 idx files, 64 steps              | data/digits_seqmnist  | sequence |

Each stand-in is written in its real dataset's on-disk format and read by that dataset's reader
(see standins.py and event_standins.py).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .parts import Parts
from .split import holdout
from .transforms import channel_stats, eval_transform, train_transform

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class DatasetSpec:
    """``load`` returns small image datasets as uint8 tensors; ``open`` (with the run's data options)
    returns :class:`Parts` for datasets read from disk per sample or from a conversion cache."""
    num_classes: int
    default_root: str
    prepare: Callable[[Path], object]
    load: Callable[[Path], tuple[Split, Split]] | None = None
    input_kind: str = "static"
    description: str = ""
    open: Callable[[Path, dict], Parts] | None = None


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


def _reader(module: str, *args) -> tuple[Callable, Callable]:
    """``prepare(root)`` and ``open(root, options)``: ``prepare`` and ``open_parts`` of
    ``tfsnn.data.<module>`` with ``args``, imported on first use."""
    def prepare(root: Path) -> object:
        return importlib.import_module(f"{__name__}.{module}").prepare(root, *args)

    def open_(root: Path, options: dict) -> Parts:
        return importlib.import_module(f"{__name__}.{module}").open_parts(root, options, *args)

    return prepare, open_


def _opened(num_classes: int, root: str, description: str, input_kind: str,
            functions: tuple[Callable, Callable]) -> DatasetSpec:
    prepare, open_ = functions
    return DatasetSpec(num_classes, root, prepare, input_kind=input_kind, description=description, open=open_)


def _standin(name: str, description: str, input_kind: str, writer: tuple, reader: tuple) -> DatasetSpec:
    """A 10-class stand-in in ``data/<name>``: ``writer`` = (module, function, *args) puts it on disk in
    the real format, ``reader`` = (module, *args) is the real dataset's reader that reads it back."""
    module, function, *args = writer
    real_prepare, real_open = _reader(*reader)

    def prepare(root: Path) -> object:
        getattr(importlib.import_module(f"{__name__}.{module}"), function)(root, *args)
        return real_prepare(root)

    def open_(root: Path, options: dict) -> Parts:
        if not (root / "standin.json").is_file():
            raise DataError(f"the {name} stand-in is not in {root}; run `python -m tfsnn prepare {name} "
                            f"--root {root}` first")
        return real_open(root, options)

    return _opened(10, f"data/{name}", description, input_kind, (prepare, open_))


DATASETS: dict[str, DatasetSpec] = {
    "digits10": _spec(_digits, 10, "data/digits10", "sklearn digits, CIFAR-10 layout (smoke)"),
    "digits100": _spec(_digits, 100, "data/digits100", "digit pairs, CIFAR-100 layout (smoke)"),
    "cifar10": _spec(_cifar, 10, "data/cifar10", "CIFAR-10"),
    "cifar100": _spec(_cifar, 100, "data/cifar100", "CIFAR-100"),
    "fashion10": _spec(_fashion, 10, "data/fashion", "Fashion-MNIST (mini)"),
    "fashion100": _spec(_fashion, 100, "data/fashion", "Fashion-MNIST pairs (mini)"),
    "imagenet": _opened(1000, "data/imagenet", "ImageNet (ILSVRC-2012 image folders)", "static",
                        _reader("imagenet", 1000, "ImageNet", 224, 256)),
    "cifar10dvs": _opened(10, "data/cifar10dvs", "CIFAR10-DVS, 10 frames 48x48", "frames",
                          _reader("dvs", "CIFAR10DVS", 10)),
    "ncaltech101": _opened(101, "data/ncaltech101", "N-Caltech101, 10 frames 48x48", "frames",
                           _reader("dvs", "NCALTECH101", 101)),
    "nmnist": _opened(10, "data/nmnist", "N-MNIST, 10 frames 34x34", "frames", _reader("dvs", "NMNIST", 10)),
    "shd": _opened(20, "data/shd", "Spiking Heidelberg Digits, 10 ms bins x 70", "sequence",
                   _reader("audio", "SHD", 20)),
    "ssc": _opened(35, "data/ssc", "Spiking Speech Commands, 10 ms bins x 70", "sequence",
                   _reader("audio", "SSC", 35)),
    "seqmnist": _opened(10, "data/mnist", "sequential MNIST, one pixel per step", "sequence",
                        _reader("seqmnist", 10)),
    "digits_imagenet": _standin("digits_imagenet", "digits as JPEG image folders (smoke, imagenet)", "static",
                                ("standins", "make_imagenet_tree"), ("imagenet", 10, "digits_imagenet", 32, 36)),
    "digits_dvs": _standin("digits_dvs", "digits through an event sensor, AEDAT 2.0 (smoke, cifar10dvs)", "frames",
                           ("event_standins", "make_event_standin", "digits_dvs"), ("dvs", "CIFAR10DVS", 10)),
    "digits_ncaltech": _standin("digits_ncaltech", "digits through an event sensor, .bin (smoke, ncaltech101)",
                                "frames", ("event_standins", "make_event_standin", "digits_ncaltech"),
                                ("dvs", "NCALTECH101", 10)),
    "digits_nmnist": _standin("digits_nmnist", "digits through an event sensor, .bin (smoke, nmnist)", "frames",
                              ("event_standins", "make_event_standin", "digits_nmnist"), ("dvs", "NMNIST", 10)),
    "digits_shd": _standin("digits_shd", "digits as spike trains, SHD HDF5 (smoke, shd)", "sequence",
                           ("standins", "make_hsd", "shd"), ("audio", "SHD", 10, 30)),
    "digits_ssc": _standin("digits_ssc", "digits as spike trains, SSC HDF5 (smoke, ssc)", "sequence",
                           ("standins", "make_hsd", "ssc"), ("audio", "SSC", 10, 30)),
    "digits_seqmnist": _standin("digits_seqmnist", "digits as MNIST idx files (smoke, seqmnist)", "sequence",
                                ("standins", "make_idx"), ("seqmnist", 10)),
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
    image_shape: tuple  # one sample: (C, H, W); frames (F, C, H, W); sequences (L, F)
    sizes: dict = field(default_factory=dict)
    per_class: dict = field(default_factory=dict)  # split -> samples per class


def _checked_splits(name: str, root: Path, y_train: torch.Tensor, y_test: torch.Tensor, val_split: int) -> None:
    if len(y_train) == 0 or len(y_test) == 0:
        raise DataError(f"{name} in {root} has an empty train or test split; prepare it again")
    if val_split and not 0 < val_split < len(y_train):
        raise DataError(f"val_split={val_split} must be between 1 and {len(y_train) - 1} for {name}")


def _counts(splits: dict[str, torch.Tensor], num_classes: int) -> tuple[dict, dict]:
    sizes = {k: len(v) for k, v in splits.items()}
    return sizes, {k: torch.bincount(v.long(), minlength=num_classes).tolist() for k, v in splits.items()}


def load_data(name: str, root: str | Path | None = None, *, val_split: int = 0, seed: int = 0,
              crop_padding: int = 4, hflip: bool = True, autoaugment: bool = False, cutout: bool = False,
              cutout_size: int = 16, frame_bins: int = 10, frame_split: str = "events", roll_pixels: int = 5,
              temporal_inversion: bool = False, crop_min_scale: float = 0.08, cutout_fill: str = "mean") -> Data:
    """Train/val/test datasets of ``name`` with the training augmentation.

    Image datasets held in memory are normalised by their training statistics and augmented with
    ``crop_padding``, ``hflip``, ``autoaugment`` and ``cutout`` (hole colour ``cutout_fill``). ImageNet
    (and its stand-in) uses its standard crops (smallest area ``crop_min_scale``), ``hflip`` and fixed
    statistics. Event datasets are ``frame_bins`` frames split by ``frame_split``, augmented with
    ``hflip``, ``roll_pixels`` and ``temporal_inversion``. Sequences are not augmented. Options a
    dataset has no use for are ignored, so that one preset's shared settings serve all of its datasets.
    """
    spec = dataset_spec(name)
    root = Path(root or spec.default_root)
    if spec.open is not None:
        options = dict(hflip=hflip, frame_bins=frame_bins, frame_split=frame_split, roll_pixels=roll_pixels,
                       temporal_inversion=temporal_inversion, crop_min_scale=crop_min_scale)
        return _from_parts(name, spec, spec.open(root, options), root, val_split, seed)
    (x_tr, y_tr), (x_te, y_te) = spec.load(root)
    _checked_splits(name, root, y_tr, y_te, val_split)
    val, y_val = None, y_tr[:0]
    if val_split:
        keep, held = holdout(y_tr, val_split, seed)
        val_xy = (x_tr[held], y_tr[held])
        y_val = y_tr[held]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    mean, std = channel_stats(x_tr)
    tf_train = train_transform(mean, std, crop_padding, hflip, autoaugment, cutout, cutout_size,
                               image_size=x_tr.shape[-2:], cutout_fill=cutout_fill)
    tf_eval = eval_transform(mean, std)
    if val_split:
        val = ImageDataset(*val_xy, tf_eval)
    sizes, per_class = _counts({"train": y_tr, "val": y_val, "test": y_te}, spec.num_classes)
    return Data(train=ImageDataset(x_tr, y_tr, tf_train), test=ImageDataset(x_te, y_te, tf_eval), val=val,
                num_classes=spec.num_classes, in_channels=x_tr.shape[1], input_kind=spec.input_kind,
                image_shape=tuple(x_tr.shape[1:]), sizes=sizes, per_class=per_class)


def _from_parts(name: str, spec: DatasetSpec, parts: Parts, root: Path, val_split: int, seed: int) -> Data:
    """``Data`` from a dataset's :class:`Parts`: the validation split is held out of its training split."""
    y_tr, y_te = parts.train_labels, parts.test_labels
    _checked_splits(name, root, y_tr, y_te, val_split)
    keep, held = torch.arange(len(y_tr)), torch.zeros(0, dtype=torch.long)
    if val_split:
        keep, held = holdout(y_tr, val_split, seed)
    sizes, per_class = _counts({"train": y_tr[keep], "val": y_tr[held], "test": y_te}, spec.num_classes)
    return Data(train=parts.view("train", keep, True), test=parts.view("test", torch.arange(len(y_te)), False),
                val=parts.view("train", held, False) if val_split else None, num_classes=spec.num_classes,
                in_channels=parts.in_channels, input_kind=spec.input_kind, image_shape=tuple(parts.sample_shape),
                sizes=sizes, per_class=per_class)
