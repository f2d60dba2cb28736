"""``load_data``: a run's train, validation and test datasets of a registered dataset, with its
augmentation; the validation split is held out of the training split, seeded and class-stratified."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .registry import dataset_spec
from .split import carve


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
    options = dict(val_split=val_split, seed=seed, crop_padding=crop_padding, hflip=hflip, autoaugment=autoaugment,
                   cutout=cutout, cutout_size=cutout_size, cutout_fill=cutout_fill, frame_bins=frame_bins,
                   frame_split=frame_split, roll_pixels=roll_pixels, temporal_inversion=temporal_inversion,
                   crop_min_scale=crop_min_scale)
    parts = spec.open(root, options)
    y_tr, y_te = parts.train_labels, parts.test_labels
    _checked_splits(name, root, y_tr, y_te, val_split)
    keep, held = carve(y_tr, val_split, seed)
    sizes, per_class = _counts({"train": y_tr[keep], "val": y_tr[held], "test": y_te}, spec.num_classes)
    return Data(train=parts.view("train", keep, True), test=parts.view("test", torch.arange(len(y_te)), False),
                val=parts.view("train", held, False) if val_split else None, num_classes=spec.num_classes,
                in_channels=parts.in_channels, input_kind=spec.input_kind, image_shape=tuple(parts.sample_shape),
                sizes=sizes, per_class=per_class)
