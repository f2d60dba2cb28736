"""CIFAR-10/100 in the python-pickle layout, read without torchvision's md5 checks.

Layout (https://www.cs.toronto.edu/~kriz/cifar.html): ``<root>/cifar-10-batches-py/`` holds
``data_batch_1..5`` and ``test_batch`` (dicts with ``data``: N x 3072 uint8 rows, channel-major
32x32 images, and ``labels``) plus ``batches.meta`` (``label_names``); ``<root>/cifar-100-python/``
holds ``train`` and ``test`` (``fine_labels``, ``coarse_labels``) and ``meta`` (``fine_label_names``).
A batch may carry ``image_shape`` (C, H, W) for images other than 3x32x32; the stand-ins use it.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .images import image_parts
from .parts import Parts

FOLDERS = {10: "cifar-10-batches-py", 100: "cifar-100-python"}
SPLITS = {
    10: {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
    100: {"train": ["train"], "test": ["test"]},
}
META = {10: ("batches.meta", "label_names"), 100: ("meta", "fine_label_names")}
LABEL_KEY = {10: "labels", 100: "fine_labels"}
DEFAULT_SHAPE = (3, 32, 32)
HOW_TO_GET = ("download and extract https://www.cs.toronto.edu/~kriz/cifar-{n}-python.tar.gz "
              "into {root}")


def _load(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise DataError(f"{path} is not a readable CIFAR pickle ({e}); re-extract the archive") from None
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}


def cifar_folder(root: str | Path, num_classes: int) -> Path:
    return Path(root) / FOLDERS[num_classes]


def split_files(root: str | Path, num_classes: int, split: str) -> list[Path]:
    """The batch files of one split, checked to be there."""
    if num_classes not in FOLDERS:
        raise ValueError(f"CIFAR comes with 10 or 100 classes, not {num_classes}")
    files = [cifar_folder(root, num_classes) / name for name in SPLITS[num_classes][split]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"CIFAR-{num_classes} files missing: {', '.join(missing)}; "
                        + HOW_TO_GET.format(n=num_classes, root=Path(root)))
    return files


def read_cifar_split(root: str | Path, num_classes: int, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[N, C, H, W]`` uint8 and labels ``[N]`` int64 of one split."""
    files, folder = split_files(root, num_classes, split), cifar_folder(root, num_classes)
    images, labels = [], []
    for f in files:
        d = _load(f)
        key = LABEL_KEY[num_classes]
        if "data" not in d or key not in d:
            raise DataError(f"{f} has no '{key}' or 'data' entry: it is not a CIFAR-{num_classes} batch; "
                            f"check that {root} holds CIFAR-{num_classes}")
        shape = tuple(d.get("image_shape", DEFAULT_SHAPE))
        data = np.asarray(d["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != int(np.prod(shape)):
            raise DataError(f"{f}: rows of {data.shape[1:]} values do not hold {shape} images; re-extract it")
        images.append(torch.from_numpy(data.reshape((-1,) + shape).copy()))
        labels.append(torch.as_tensor(d[key], dtype=torch.long))
    x, y = torch.cat(images), torch.cat(labels)
    if len(x) != len(y):
        raise DataError(f"{folder}: {len(x)} images but {len(y)} labels; re-extract the archive")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise DataError(f"{folder}: labels outside 0..{num_classes - 1}: this is not CIFAR-{num_classes}")
    return x, y


def prepare(root: Path, num_classes: int) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Download with torchvision where the folder is missing (and a network is there); read both splits."""
    if not cifar_folder(root, num_classes).is_dir():
        try:
            from torchvision import datasets

            getattr(datasets, f"CIFAR{num_classes}")(str(root), download=True)
        except Exception:
            pass
    return read_cifar_split(root, num_classes, "train"), read_cifar_split(root, num_classes, "test")


def check(root: Path, num_classes: int) -> None:
    """The files are there (nothing is read)."""
    for split in SPLITS[num_classes]:
        split_files(root, num_classes, split)


def open_parts(root: Path, options: dict, num_classes: int) -> Parts:
    return image_parts(read_cifar_split(root, num_classes, "train"), read_cifar_split(root, num_classes, "test"),
                       options)


def read_label_names(root: str | Path, num_classes: int) -> list[str]:
    name, key = META[num_classes]
    return list(_load(cifar_folder(root, num_classes) / name)[key])


def write_cifar(root: str | Path, num_classes: int, train: tuple[torch.Tensor, torch.Tensor],
                test: tuple[torch.Tensor, torch.Tensor], label_names: list[str]) -> Path:
    """Write images and labels in the CIFAR pickle layout (the stand-ins use this)."""
    from ..io import atomic_path

    folder = cifar_folder(root, num_classes)
    folder.mkdir(parents=True, exist_ok=True)
    key = LABEL_KEY[num_classes]

    def dump(name: str, obj: dict) -> None:
        with atomic_path(folder / name) as tmp, open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=2)

    for split, (x, y) in (("train", train), ("test", test)):
        names = SPLITS[num_classes][split]
        chunks = np.array_split(np.arange(len(x)), len(names))
        for name, idx in zip(names, chunks):
            xs = x[idx].numpy().astype(np.uint8)
            batch = {"batch_label": name, key: y[idx].tolist(), "data": xs.reshape(len(xs), -1),
                     "filenames": [f"{name}_{i:05d}.png" for i in idx], "image_shape": list(xs.shape[1:])}
            if num_classes == 100:
                batch["coarse_labels"] = (y[idx] // 10).tolist()
            dump(name, batch)
    meta_name, meta_key = META[num_classes]
    meta = {meta_key: list(label_names)}
    if num_classes == 100:
        meta["coarse_label_names"] = sorted({n.split("-")[0] for n in label_names})
    dump(meta_name, meta)
    return folder
