"""The datasets by name: each a :class:`DatasetSpec` saying how to prepare it (once, into a data folder)
and how to open it with a run's data options (as :class:`Parts`, which ``load_data`` turns into datasets).

| name            | what                                                        | default root          | input    |
|-----------------|-------------------------------------------------------------|-----------------------|----------|
| digits10        | sklearn digits in the CIFAR-10 pickle layout                | data/digits10         | static   |
| digits100       | digit pairs (class 10a+b), CIFAR-100 layout                 | data/digits100        | static   |
| digits10_32     | digits upscaled to 32x32 and varied, CIFAR-10 layout        | data/digits10_32      | static   |
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
| digits_imagenet | stand-in for imagenet: JPEG image folders, 128 crops        | data/digits_imagenet  | static   |
| digits_dvs      | stand-in for cifar10dvs: AEDAT 2.0, 10 frames 2x32x32       | data/digits_dvs       | frames   |
| digits_ncaltech | stand-in for ncaltech101: .bin, 10 classes, 2x32x32 frames  | data/digits_ncaltech  | frames   |
| digits_nmnist   | stand-in for nmnist: .bin recordings                        | data/digits_nmnist    | frames   |
| digits_shd      | stand-in for shd: HDF5 spikes, 30 x 10 ms x 70              | data/digits_shd       | sequence |
| digits_ssc      | stand-in for ssc: HDF5 spikes, 30 x 10 ms x 70              | data/digits_ssc       | sequence |
| digits_seqmnist | stand-in for seqmnist: 8x8 idx files, 64 steps              | data/digits_seqmnist  | sequence |

Every dataset is read by a reader module (cifar, fashion, imagenet, dvs, audio, seqmnist) with one
protocol: ``prepare(root, *args)`` (reads every source file, converts once), ``open_parts(root, options,
*args) -> Parts`` and ``check(root, *args)`` (the files are there; nothing is read or converted). Each stand-in
is written in its real dataset's on-disk format (standins.py and event_standins.py) and read by that
dataset's reader.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Callable

from ..errors import DataError
from . import audio, cifar, dvs, event_standins, fashion, imagenet, seqmnist, standins
from .parts import Parts


@dataclass(frozen=True)
class DatasetSpec:
    """``prepare(root)`` gets the dataset into ``root`` once (downloading, converting, writing a stand-in);
    ``open(root, options)`` reads it with the run's data options (those it has no use for are ignored);
    ``check(root)`` raises a :class:`DataError` saying where to get the files unless they are there."""
    num_classes: int
    default_root: str
    prepare: Callable[[Path], object]
    open: Callable[[Path, dict], Parts]
    check: Callable[[Path], None]
    input_kind: str = "static"
    description: str = ""


def _reader(module: ModuleType, *args) -> tuple[Callable, Callable, Callable]:
    """``prepare(root)``, ``open(root, options)`` and ``check(root)``: ``prepare``, ``open_parts`` and
    ``check`` of reader ``module`` with ``args``."""
    def prepare(root: Path) -> object:
        return module.prepare(root, *args)

    def open_(root: Path, options: dict) -> Parts:
        return module.open_parts(root, options, *args)

    def check(root: Path) -> None:
        module.check(Path(root), *args)

    return prepare, open_, check


def _real(num_classes: int, root: str, description: str, input_kind: str, module: ModuleType, *args) -> DatasetSpec:
    return DatasetSpec(num_classes, root, *_reader(module, *args), input_kind, description)


def _standin(name: str, description: str, input_kind: str, write: Callable[[Path], object], reader: tuple,
             num_classes: int = 10, marker: str = "standin.json") -> DatasetSpec:
    """A stand-in in ``data/<name>``: ``write(root)`` puts it on disk in the real format (with ``marker``),
    ``reader`` = (module, *args) is the real dataset's reader that reads it back."""
    real_prepare, real_open, _ = _reader(*reader)

    def prepare(root: Path) -> object:
        _check_standin(name, root, write(root))
        return real_prepare(root)

    def check(root: Path) -> None:
        if not (Path(root) / marker).is_file():
            raise DataError(f"the {name} stand-in is not in {root}; run `python -m tfsnn prepare {name} "
                            f"--root {root}` first")

    def open_(root: Path, options: dict) -> Parts:
        check(root)
        return real_open(root, options)

    return DatasetSpec(num_classes, f"data/{name}", prepare, open_, check, input_kind, description)


def _check_standin(name: str, root: Path, manifest: dict) -> None:
    """Every file the stand-in's generator wrote is still as written (see ``standins.changed_files``)."""
    changed = standins.changed_files(root, manifest)
    if changed:
        more = f" (and {len(changed) - 1} more files)" if len(changed) > 1 else ""
        raise DataError(f"{root / changed[0]}{more} is missing, truncated or changed since the {name} stand-in "
                        f"was generated; delete {root} and run `python -m tfsnn prepare {name} --root {root}` "
                        f"to generate it again")


# The CIFAR10-DVS and N-Caltech101 stand-ins: 32x32 frames (DVS-ResNet-18, stride 8, ends on 4x4 maps
# as on 48x48 frames it ends on 6x6, at under half the cost) and a 6:4 split (400 test recordings).
STANDIN_FRAMES = (32, 32)
STANDIN_TEST_FRACTION = 0.4


def _event_standin(name: str, description: str, reader: tuple) -> DatasetSpec:
    return _standin(name, description, "frames", partial(event_standins.make_event_standin, name=name), reader)


DATASETS: dict[str, DatasetSpec] = {
    "digits10": _standin("digits10", "sklearn digits, CIFAR-10 layout (smoke)", "static",
                         partial(standins.make_digits, num_classes=10), (cifar, 10), 10, "manifest.json"),
    "digits100": _standin("digits100", "digit pairs, CIFAR-100 layout (smoke)", "static",
                          partial(standins.make_digits, num_classes=100), (cifar, 100), 100, "manifest.json"),
    "digits10_32": _standin("digits10_32", "digits at 32x32, varied, CIFAR-10 layout (smoke, Table 8)", "static",
                            partial(standins.make_digits, num_classes=10, side=32), (cifar, 10), 10, "manifest.json"),
    "cifar10": _real(10, "data/cifar10", "CIFAR-10", "static", cifar, 10),
    "cifar100": _real(100, "data/cifar100", "CIFAR-100", "static", cifar, 100),
    "fashion10": _real(10, "data/fashion", "Fashion-MNIST (mini)", "static", fashion, 10),
    "fashion100": _real(100, "data/fashion", "Fashion-MNIST pairs (mini)", "static", fashion, 100),
    "imagenet": _real(1000, "data/imagenet", "ImageNet (ILSVRC-2012 image folders)", "static",
                      imagenet, 1000, "ImageNet", 224, 256),
    "cifar10dvs": _real(10, "data/cifar10dvs", "CIFAR10-DVS, 10 frames 48x48", "frames", dvs, "CIFAR10DVS", 10),
    "ncaltech101": _real(101, "data/ncaltech101", "N-Caltech101, 10 frames 48x48", "frames",
                         dvs, "NCALTECH101", 101),
    "nmnist": _real(10, "data/nmnist", "N-MNIST, 10 frames 34x34", "frames", dvs, "NMNIST", 10),
    "shd": _real(20, "data/shd", "Spiking Heidelberg Digits, 10 ms bins x 70", "sequence", audio, "SHD", 20),
    "ssc": _real(35, "data/ssc", "Spiking Speech Commands, 10 ms bins x 70", "sequence", audio, "SSC", 35),
    "seqmnist": _real(10, "data/mnist", "sequential MNIST, one pixel per step", "sequence", seqmnist, 10),
    "digits_imagenet": _standin("digits_imagenet", "digits as JPEG image folders (smoke, imagenet)", "static",
                                standins.make_imagenet_tree,
                                (imagenet, 10, "digits_imagenet", standins.CROP, standins.IMAGE_SIDE)),
    "digits_dvs": _event_standin("digits_dvs", "digits through an event sensor, AEDAT 2.0 (smoke, cifar10dvs)",
                                 (dvs, "CIFAR10DVS", 10, STANDIN_FRAMES, STANDIN_TEST_FRACTION)),
    "digits_ncaltech": _event_standin("digits_ncaltech", "digits through an event sensor, .bin (smoke, ncaltech101)",
                                      (dvs, "NCALTECH101", 10, STANDIN_FRAMES, STANDIN_TEST_FRACTION)),
    "digits_nmnist": _event_standin("digits_nmnist", "digits through an event sensor, .bin (smoke, nmnist)",
                                    (dvs, "NMNIST", 10)),
    "digits_shd": _standin("digits_shd", "digits as spike trains, SHD HDF5 (smoke, shd)", "sequence",
                           partial(standins.make_hsd, prefix="shd"), (audio, "SHD", 10, 30)),
    "digits_ssc": _standin("digits_ssc", "digits as spike trains, SSC HDF5 (smoke, ssc)", "sequence",
                           partial(standins.make_hsd, prefix="ssc"), (audio, "SSC", 10, 30)),
    "digits_seqmnist": _standin("digits_seqmnist", "digits as MNIST idx files (smoke, seqmnist)", "sequence",
                                standins.make_idx, (seqmnist, 10)),
}


# Training samples of each dataset (before a validation split), for the pipeline's scheduling only
# (tfsnn.pipeline.plan.Plan.priority): the stand-ins' as their generators write them (tests check),
# the real datasets' as published (N-Caltech101 and CIFAR10-DVS: 9/10 of their recordings).
TRAIN_SIZES = {
    "digits10": 1438, "digits10_32": 1438, "digits100": 3000, "cifar10": 50000, "cifar100": 50000, "fashion10": 60000,
    "fashion100": 60000, "imagenet": 1281167, "cifar10dvs": 9000, "ncaltech101": 7838, "nmnist": 60000,
    "shd": 8156, "ssc": 75466, "seqmnist": 60000, "digits_imagenet": 600, "digits_dvs": 600,
    "digits_ncaltech": 600, "digits_nmnist": 600, "digits_shd": 600, "digits_ssc": 600, "digits_seqmnist": 600,
}

# Input values per time step of one sample as the network reads it (image or frame pixels, sequence
# features), for the same scheduling: a smoke CPU job's time per sample-step grows about as its cube root
# (measured on 2 cores: digits10 0.22 ms, digits100 0.36, the 32x32 event frames 0.67, the 128x128 digits_imagenet 1.4).
INPUT_SIZES = {
    "digits10": 8 * 8, "digits10_32": 32 * 32, "digits100": 8 * 16, "cifar10": 32 * 32, "cifar100": 32 * 32,
    "fashion10": 28 * 28, "fashion100": 28 * 56, "imagenet": 224 * 224, "cifar10dvs": 48 * 48,
    "ncaltech101": 48 * 48, "nmnist": 34 * 34, "shd": 70, "ssc": 70, "seqmnist": 1, "digits_imagenet": 128 * 128,
    "digits_dvs": 32 * 32, "digits_ncaltech": 32 * 32, "digits_nmnist": 34 * 34, "digits_shd": 70, "digits_ssc": 70,
    "digits_seqmnist": 1,
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
