"""Sequential MNIST (Le et al. 2015): an MNIST image read as a sequence of pixels, raster order.

Files: torchvision's raw layout, ``<root>/MNIST/raw/`` holding ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (the idx
format of http://yann.lecun.com/exdb/mnist/: a big-endian magic number, 2051 = 0x00000803 for
images and 2049 = 0x00000801 for labels, the dimensions as big-endian int32, then uint8 data),
read by ``torchvision.datasets.MNIST``. Preparation tries torchvision's download where a network is.

A sample is ``[H*W / PIXELS_PER_STEP, PIXELS_PER_STEP]`` intensities in [0, 1]: [784, 1] for MNIST.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import DataError
from .cache import note
from .identify import identify, missing
from .parts import ArrayDataset, Parts

# The paper's official code has no seqMNIST part and A.12 names only the network (2 x 64 LIF,
# tau 0.99), so the common sequential MNIST is assumed: one pixel per time step, 784 steps.
PIXELS_PER_STEP = 1
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HOW_TO_GET = ("download the four .gz files from https://ossci-datasets.s3.amazonaws.com/mnist/ (torchvision's "
              "mirror of http://yann.lecun.com/exdb/mnist/) and gunzip them there")


def raw_folder(root: str | Path) -> Path:
    return Path(root) / "MNIST" / "raw"


def check(root: Path, num_classes: int = 10) -> None:
    """The four idx files are there (nothing is read)."""
    raw = raw_folder(root)
    absent = [str(raw / f) for f in FILES if not (raw / f).is_file()]
    if absent:
        raise missing(Path(root), "MNIST", ", ".join(absent), HOW_TO_GET)


def read_split(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images ``[N, H, W]`` and int64 labels of one split, read by torchvision's MNIST."""
    from torchvision.datasets import MNIST

    check(root)
    raw = raw_folder(root)
    try:
        ds = MNIST(str(root), train=train, download=False)
    except (RuntimeError, ValueError, AssertionError, OSError) as e:
        part = "train" if train else "t10k"
        raise DataError(f"the {part} idx files in {raw} cannot be read ({type(e).__name__}: {e}); "
                        f"{HOW_TO_GET}") from None
    return ds.data, ds.targets.long()


def prepare(root: Path, num_classes: int, download: bool = True) -> None:
    if download and not identify(Path(root)):  # nothing there yet (never download into another dataset's folder)
        try:
            from torchvision.datasets import MNIST

            MNIST(str(root), train=True, download=True)
        except Exception as e:  # no network, blocked host ...
            note(f"could not download MNIST ({type(e).__name__}: {e})")
    open_parts(root, {}, num_classes)


def open_parts(root: Path, options: dict, num_classes: int) -> Parts:
    splits = {}
    for part, train in (("train", True), ("test", False)):
        images, labels = read_split(Path(root), train)
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise DataError(f"{raw_folder(root)} has labels outside 0..{num_classes - 1}: it is not MNIST")
        n, h, w = images.shape
        if (h * w) % PIXELS_PER_STEP:
            raise DataError(f"{raw_folder(root)} holds {h}x{w} images, which do not divide into "
                            f"{PIXELS_PER_STEP}-pixel steps")
        splits[part] = (images.reshape(n, h * w // PIXELS_PER_STEP, PIXELS_PER_STEP).numpy(), labels.numpy())

    def view(part: str, idx: torch.Tensor, train: bool) -> ArrayDataset:
        samples, labels = splits[part]
        return ArrayDataset(samples, labels, idx.numpy(), scale=1.0 / 255.0)

    shape = splits["train"][0].shape[1:]
    return Parts(torch.from_numpy(splits["train"][1]), torch.from_numpy(splits["test"][1]), view, tuple(shape),
                 PIXELS_PER_STEP)
