"""ImageNet (ILSVRC-2012) as an image-folder tree, read by torchvision's ``ImageFolder``; images stay on disk.

Layout: ``<root>/train/<wnid>/*.JPEG`` and ``<root>/val/<wnid>/*.JPEG``: the validation images
sorted into class folders (the official validation archive is flat; the PyTorch ImageNet example's
``valprep.sh`` sorts it). ImageNet needs a registration at https://image-net.org/download.php, so
there is no automatic download.

Views (A.2, "the standard data processing flow"): training crops ``RandomResizedCrop(crop)`` plus
a horizontal flip, evaluation resizes the short side to ``resize`` and centre-crops ``crop``; both
normalise with ``IMAGENET_MEAN``/``IMAGENET_STD`` (``transforms.py``). ImageNet uses 224 / 256;
the ``digits_imagenet`` stand-in the same ratio at 32 / 36.

Preparation opens every image (its header, not its pixels) and checks that each JPEG file ends with
its end-of-image marker, which a truncated copy lacks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .identify import missing
from .parts import Parts
from .transforms import imagenet_eval_transform, imagenet_train_transform

JPEG_END = b"\xff\xd9"  # end-of-image marker; entropy-coded data never holds it (0xFF is followed by 0x00 there)
TAIL_BYTES = 1024  # where the marker is looked for: the end of the file, allowing some padding after it
HOW_TO_GET = ("download ILSVRC-2012 from https://image-net.org/download.php (registration needed), extract "
              "train/ and val/, and sort val/ into class folders (valprep.sh of the PyTorch ImageNet example)")


def image_folder(root: Path, part: str, title: str = "ImageNet"):
    """``ImageFolder`` of ``<root>/<part>``, checked: class folders only, none of them empty."""
    from torchvision.datasets import ImageFolder
    from torchvision.datasets.folder import IMG_EXTENSIONS

    path = Path(root) / part
    if not path.is_dir():
        raise missing(Path(root), title, f"{path}/<class>/*.JPEG", HOW_TO_GET)
    loose = next((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS), None)
    if loose is not None:
        raise DataError(f"{path} holds images directly ({loose.name}) instead of class folders; sort them into "
                        f"<wnid>/ folders (valprep.sh of the PyTorch ImageNet example does this for val/)")
    try:
        folder = ImageFolder(str(path), allow_empty=True)
    except FileNotFoundError:
        raise DataError(f"{path} has no class folders; {HOW_TO_GET}") from None
    counts = np.bincount(np.asarray(folder.targets, dtype=np.int64), minlength=len(folder.classes))
    empty = [folder.classes[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        more = f" (and {len(empty) - 1} more empty class folders)" if len(empty) > 1 else ""
        raise DataError(f"{path / empty[0]} holds no images{more}; copy that class's images there or remove the folder")
    return folder


def image_folders(root: Path, num_classes: int, title: str = "ImageNet") -> dict:
    """The checked train and val folders, with the same classes in both."""
    folders = {part: image_folder(root, part, title) for part in ("train", "val")}
    train, val = folders["train"].classes, folders["val"].classes
    if train != val:
        only = sorted(set(val) - set(train)) or sorted(set(train) - set(val))
        where = "val/ but not train/" if set(val) - set(train) else "train/ but not val/"
        raise DataError(f"{root}: class folders differ between train/ and val/ ({len(train)} vs {len(val)}; e.g. "
                        f"{only[0]!r} is in {where}); both need the same {num_classes} class folders")
    if len(train) != num_classes:
        raise DataError(f"{root / 'train'} has {len(train)} class folders but {title} has {num_classes}; check "
                        f"that {root} holds the complete {title}")
    return folders


class FolderView(Dataset):
    """Samples ``indices`` of an ``ImageFolder``, loaded from disk and transformed on access."""

    def __init__(self, folder, indices, transform: Callable):
        self.folder, self.indices, self.transform = folder, np.asarray(indices, dtype=np.int64), transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        path, label = self.folder.samples[int(self.indices[i])]
        try:
            image = self.folder.loader(path)
        except OSError as e:  # PIL's UnidentifiedImageError is an OSError
            raise DataError(f"{path} is not a readable image ({e}); replace or delete it") from None
        return self.transform(image), label


def _tail(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - TAIL_BYTES))
        return f.read()


def check_image(path: Path) -> None:
    """The file opens as an image and, if a JPEG, ends with its end-of-image marker (nothing is decoded)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            kind = image.format
    except OSError as e:  # PIL's UnidentifiedImageError is an OSError
        raise DataError(f"{path} is not a readable image ({e}); replace or delete it") from None
    if kind == "JPEG" and JPEG_END not in _tail(path):
        raise DataError(f"{path} is truncated (it lacks the JPEG end-of-image marker); replace or delete it")


def check(root: Path, num_classes: int, title: str = "ImageNet", crop: int = 224, resize: int = 256) -> None:
    """The train/ and val/ folders are there (their images are not listed)."""
    for part in ("train", "val"):
        if not (Path(root) / part).is_dir():
            raise missing(Path(root), title, f"{Path(root) / part}/<class>/*.JPEG", HOW_TO_GET)


def prepare(root: Path, num_classes: int, title: str = "ImageNet", crop: int = 224, resize: int = 256) -> dict:
    """Check the tree and every image in it (there is nothing to convert); ``crop`` and ``resize`` are the
    views' sizes."""
    folders = image_folders(Path(root), num_classes, title)
    for folder in folders.values():
        for path, _ in folder.samples:
            check_image(Path(path))
    return folders


def open_parts(root: Path, options: dict, num_classes: int, title: str = "ImageNet", crop: int = 224,
               resize: int = 256) -> Parts:
    folders = image_folders(Path(root), num_classes, title)
    folders["test"] = folders.pop("val")
    train_tf = imagenet_train_transform(crop, options.get("hflip", True), options.get("crop_min_scale", 0.08))
    eval_tf = imagenet_eval_transform(crop, resize)

    def view(part: str, idx: torch.Tensor, train: bool) -> FolderView:
        return FolderView(folders[part], idx.numpy(), train_tf if train else eval_tf)

    labels = {part: torch.as_tensor(f.targets, dtype=torch.long) for part, f in folders.items()}
    return Parts(labels["train"], labels["test"], view, (3, crop, crop), 3)
