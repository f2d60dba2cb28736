"""Fashion-MNIST (70,000 real 28x28 images) through torchvision's ``FashionMNIST``.

Preparation looks for the four idx files (``.gz`` or not) in ``<root>/FashionMNIST/raw``, then in
``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package ``dataset-fashion-mnist``), then tries
torchvision's download, and otherwise stops naming these three ways. A file shorter or longer than its
idx header promises is named as damaged.
"""
from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path

import torch

from ..errors import DataError
from ..io import atomic_path
from .images import image_parts
from .pairs import make_pairs
from .parts import Parts

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {"train-images-idx3-ubyte": (2051, 60000), "train-labels-idx1-ubyte": (2049, 60000),
         "t10k-images-idx3-ubyte": (2051, 10000), "t10k-labels-idx1-ubyte": (2049, 10000)}


def raw_folder(root: str | Path) -> Path:
    return Path(root) / "FashionMNIST" / "raw"


def _header(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(8)
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")


def _promised_size(path: Path) -> int:
    """The bytes an idx file's header promises: magic (its last byte the number of dimensions), the
    dimensions as big-endian int32, then one byte per value."""
    with open(path, "rb") as f:
        ndim = f.read(4)[3:4]
        dims = f.read(4 * ndim[0]) if ndim else b""
    return 4 + len(dims) + math.prod(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))


def _whole(path: Path) -> bool:
    return path.stat().st_size == _promised_size(path)


def _complete(raw: Path) -> bool:
    return all((raw / name).is_file() and _header(raw / name) == expected and _whole(raw / name)
               for name, expected in FILES.items())


def _damaged(root: str | Path) -> DataError | None:
    """The error naming an idx file in ``<root>/FashionMNIST/raw`` that is not as long as its header says."""
    raw = raw_folder(root)
    for path in (raw / name for name in FILES):
        if path.is_file() and not _whole(path):
            return DataError(f"{path} is damaged ({path.stat().st_size} bytes, its header promises "
                             f"{_promised_size(path)}); delete it and run `python -m tfsnn prepare fashion10 "
                             f"--root {root}` again to copy or download it anew")
    return None


def _copy_from(src: Path, raw: Path) -> bool:
    """Copy (and decompress) the idx files found in ``src`` into ``raw``; False if any is missing."""
    found = {}
    for name in FILES:
        for candidate in (src / name, src / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    if len(found) < len(FILES):
        return False
    raw.mkdir(parents=True, exist_ok=True)
    for name, path in found.items():
        if path.resolve() == (raw / name).resolve():
            continue
        with atomic_path(raw / name) as tmp:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
    return True


def prepare_fashion(root: str | Path, download: bool = True) -> Path:
    """Make ``<root>/FashionMNIST/raw`` hold the four uncompressed idx files; return that folder."""
    raw = raw_folder(root)
    if _complete(raw):
        return raw
    for src in (raw, SYSTEM_DIR):
        if src.is_dir() and _copy_from(src, raw) and _complete(raw):
            return raw
    if download:
        try:
            from torchvision.datasets import FashionMNIST

            FashionMNIST(str(root), train=True, download=True)
            if _complete(raw):
                return raw
        except Exception:  # no network, blocked host, ...
            pass
    raise _damaged(root) or _not_found(raw)


def _not_found(raw: Path) -> DataError:
    return DataError(
        f"Fashion-MNIST not found: put the four idx files (e.g. train-images-idx3-ubyte.gz) in {raw}, "
        f"or install the package that provides them in {SYSTEM_DIR} (apt-get install dataset-fashion-mnist), "
        f"or run where torchvision can download it")


def check(root: Path, num_classes: int) -> None:
    """The four idx files are in ``<root>/FashionMNIST/raw`` (nothing is copied or downloaded)."""
    raw = raw_folder(root)
    if _complete(raw):
        return
    if all((SYSTEM_DIR / f"{name}.gz").is_file() or (SYSTEM_DIR / name).is_file() for name in FILES):
        raise DataError(f"Fashion-MNIST is not in {raw} yet; `python -m tfsnn prepare fashion10 --root {root}` "
                        f"copies it from {SYSTEM_DIR}")
    raise _damaged(root) or _not_found(raw)


def load_fashion(root: str | Path) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Train and test images ``[N, 1, 28, 28]`` uint8 with labels."""
    from torchvision.datasets import FashionMNIST

    raw = raw_folder(root)
    if not _complete(raw):
        raise DataError(f"Fashion-MNIST is not prepared in {raw}; run `python -m tfsnn prepare fashion10 "
                        f"--root {root}` first")
    out = []
    for train in (True, False):
        ds = FashionMNIST(str(root), train=train, download=False)
        out.append((ds.data.unsqueeze(1).contiguous(), ds.targets.long()))
    return out[0], out[1]


def prepare(root: Path, num_classes: int) -> Path:
    """Fashion-MNIST's files (the 100-class pairs are drawn when it is opened)."""
    return prepare_fashion(root)


def open_parts(root: Path, options: dict, num_classes: int) -> Parts:
    """Fashion-MNIST, or with ``num_classes`` 100 its pairs (class ``10*a + b``): as many pairs as images."""
    train, test = load_fashion(root)
    if num_classes == 100:  # 600 / 100 pairs per class
        train = make_pairs(*train, len(train[1]) // 100, seed=1)
        test = make_pairs(*test, len(test[1]) // 100, seed=2)
    return image_parts(train, test, options)
