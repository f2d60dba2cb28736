"""What dataset a folder seems to hold, so that a root pointing at the wrong dataset is named as such.

Each telltale is a cheap look at the top of the folder (no recursive scans), in the layouts the
publishers ship and tfsnn's loaders read.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import DataError


def _any(folder: Path, pattern: str) -> bool:
    return folder.is_dir() and next(folder.glob(pattern), None) is not None


TELLTALES: list[tuple[str, Callable[[Path], bool]]] = [
    ("N-MNIST (Train/ and Test/ folders of .bin recordings)",
     lambda r: any(_any(b / "Train", "*/*.bin") for b in (r, r / "NMNIST"))),
    ("N-Caltech101 (Caltech101/ of .bin recordings)",
     lambda r: any(_any(b / "Caltech101", "*/*.bin") for b in (r, r / "NCALTECH101"))),
    ("CIFAR10-DVS (class folders of .aedat recordings)",
     lambda r: any(_any(b / "airplane", "*.aedat*") for b in (r, r / "CIFAR10DVS"))),
    ("an image-folder tree (train/ and val/ class folders)", lambda r: _any(r / "train", "*/*")
     and (r / "val").is_dir()),
    ("Spiking Heidelberg Digits (shd_*.h5)", lambda r: _any(r, "shd_*.h5")),
    ("Spiking Speech Commands (ssc_*.h5)", lambda r: _any(r, "ssc_*.h5")),
    ("MNIST-format idx files (MNIST/raw)", lambda r: _any(r / "MNIST" / "raw", "*-ubyte*")),
    ("Fashion-MNIST idx files (FashionMNIST/raw)", lambda r: _any(r / "FashionMNIST" / "raw", "*-ubyte*")),
    ("CIFAR pickles", lambda r: (r / "cifar-10-batches-py").is_dir() or (r / "cifar-100-python").is_dir()),
]


def identify(root: Path) -> list[str]:
    """Descriptions of the datasets ``root`` looks like (empty when none)."""
    root = Path(root)
    return [what for what, test in TELLTALES if test(root)]


def missing(root: Path, wanted: str, expected: str, how_to_get: str) -> DataError:
    """The error for ``wanted`` not found under ``root``: names another dataset found there, if any."""
    seen = [s for s in identify(root) if not s.startswith(wanted)]
    if seen:
        return DataError(f"{root} looks like {seen[0]}, not {wanted}: point the dataset root (--root, or "
                         f"data_root in the run settings) at the {wanted} folder")
    return DataError(f"{wanted} not found: expected {expected}; {how_to_get}")
