"""Event-camera datasets as published (CIFAR10-DVS, N-Caltech101, N-MNIST), converted to frames once.

| name        | under the dataset root                                    | sensor W x H | frames  |
|-------------|-----------------------------------------------------------|--------------|---------|
| cifar10dvs  | ``<class>/*.aedat`` (figshare, AEDAT 2.0) or ``*.aedat4``  | 128 x 128    | 48 x 48 |
|             | (tonic's copy); the folders are CIFAR-10's class names    |              |         |
| ncaltech101 | ``Caltech101/<class>/*.bin`` (101 class folders)          | 240 x 180    | 48 x 48 |
| nmnist      | ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``        | 34 x 34      | 34 x 34 |

A ``CIFAR10DVS/``, ``NCALTECH101/`` or ``NMNIST/`` level in between, as tonic's downloads leave
it, is accepted. File formats: see ``events.py``. Each recording becomes ``bins`` frames of event
counts ``[F, 2, H, W]`` (``events.to_frames``: the 48x48 "resize" of A.2 bins the events on a
48x48 grid, so frames stay integer counts), stored as int16 in one memory-mapped array under
``<root>/frames/<split><bins>_<H>x<W>/`` (``cache.py``: written once; rebuilt when the conversion
version, its settings or the recordings change). CIFAR10-DVS and N-Caltech101 come without a
split: a seeded, class-stratified 9:1 train/test split of the recordings (A.2) is written to
``<root>/frames/split.json`` and reused; N-MNIST's split is its Train/Test folders, recorded there too.

N-Caltech101 recordings are shifted to start at x = y = 0 as tonic does (the ATIS sensor is
304 x 240, a saccade recording covers about 240 x 180, SpikingJelly's frame size); the rare event
beyond 240 x 180 after the shift is dropped.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..io import read_json, write_json
from .cache import CacheWriter, cached_arrays, note, sources_digest
from .download import Entries, download as fetch
from .events import FRAME_SPLITS, read_aedat, read_bin, to_frames
from .identify import identify, missing
from .parts import ArrayDataset, Parts
from .split import holdout
from .transforms import EventAugment

FRAMES_VERSION = 1  # bump when the conversion changes: older caches are rebuilt
DEFAULT_BINS = 10  # A.2: "merge all events to form ten frames"
SPLIT_SEED = 0  # one split for every run seed, so that seeds share a test set
TEST_FRACTION = 0.1  # A.2: 9:1
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class EventSet:
    title: str
    sensor: tuple[int, int]  # (width, height) of the recordings
    size: tuple[int, int]  # (height, width) of the frames
    suffixes: tuple[str, ...]
    bases: tuple[str, ...]  # where the class folders (or Train/Test) may sit below the root
    expected: str
    how_to_get: str
    classes: tuple[str, ...] = ()  # fixed class folder names; () means every folder, sorted
    official_split: bool = False  # Train/ and Test/ folders
    recentre: bool = False
    downloads: Entries = field(default=lambda: [])
    test_fraction: float = TEST_FRACTION  # of a dataset without an official split


def _cifar10dvs_downloads() -> list:
    from tonic.datasets import CIFAR10DVS as C

    return [(C.url, C.filename, C.file_md5, list(C.data_filename))]


def _ncaltech_downloads() -> list:
    from tonic.datasets import NCALTECH101 as C

    return [(C.url, C.filename, C.file_md5, [C.data_filename])]


def _nmnist_downloads() -> list:
    from tonic.datasets import NMNIST as C

    return [(C.train_url, C.train_filename, C.train_md5, []), (C.test_url, C.test_filename, C.test_md5, [])]


CIFAR10DVS = EventSet(
    "CIFAR10-DVS", (128, 128), (48, 48), (".aedat", ".aedat4"), ("", "CIFAR10DVS"),
    "the class folders airplane/ ... truck/ of .aedat or .aedat4 recordings",
    "download the ten class archives from https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671 "
    "(or tonic's AEDAT4 copy, https://figshare.com/ndownloader/files/38023437) and extract them there",
    classes=CIFAR10_CLASSES, downloads=_cifar10dvs_downloads)
NCALTECH101 = EventSet(
    "N-Caltech101", (240, 180), (48, 48), (".bin",), ("Caltech101", "NCALTECH101/Caltech101"),
    "Caltech101/<class>/*.bin",
    "download N-Caltech101 from https://www.garrickorchard.com/datasets/n-caltech101 (Mendeley Data "
    "doi:10.17632/cy6cvx3ryv.1) and extract Caltech101.zip there",
    recentre=True, downloads=_ncaltech_downloads)
NMNIST = EventSet(
    "N-MNIST", (34, 34), (34, 34), (".bin",), ("", "NMNIST"), "Train/<digit>/*.bin and Test/<digit>/*.bin",
    "download the Train and Test archives from https://www.garrickorchard.com/datasets/n-mnist (Mendeley Data "
    "doi:10.17632/468j46mzdv.1) and extract them there",
    classes=tuple(str(d) for d in range(10)), official_split=True, downloads=_nmnist_downloads)


@dataclass
class Recordings:
    files: list[Path]
    labels: np.ndarray  # int64, index into classes
    splits: list[str]  # "train" / "test" per file; empty without an official split
    classes: list[str]


def _base(root: Path, es: EventSet) -> Path | None:
    for rel in es.bases:
        base = root / rel if rel else root
        if es.official_split:
            found = (base / "Train").is_dir()
        elif es.classes:
            found = any((base / c).is_dir() for c in es.classes)
        else:
            found = base.is_dir()
        if found:
            return base
    return None


def recordings(root: Path, es: EventSet, num_classes: int) -> Recordings:
    """Every recording under ``root`` with its label, checked for the layout of ``es``."""
    base = _base(root, es)
    if base is None:
        raise missing(root, es.title, f"{es.expected} under {root}", es.how_to_get)
    parts = [base / "Train", base / "Test"] if es.official_split else [base]
    if es.classes:
        classes = list(es.classes)
    else:
        classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    if len(classes) != num_classes:
        raise DataError(f"{base} has {len(classes)} class folders but {es.title} has {num_classes}; "
                        f"check that {root} holds the complete {es.title}")
    files, labels, splits = [], [], []
    for part in parts:
        for label, name in enumerate(classes):
            folder = part / name
            if not folder.is_dir():
                raise DataError(f"{folder} is missing ({es.title} needs a folder per class); "
                                f"{es.how_to_get}")
            found = sorted(p for p in folder.iterdir() if p.suffix in es.suffixes and p.is_file())
            if not found:
                raise DataError(f"{folder} holds no {'/'.join(es.suffixes)} recordings; extract the "
                                f"{es.title} archive for class {name!r} there again")
            files += found
            labels += [label] * len(found)
            splits += [part.name.lower()] * len(found) if es.official_split else []
    return Recordings(files, np.asarray(labels, dtype=np.int64), splits, classes)


def read_recording(path: Path, es: EventSet) -> np.ndarray:
    """The events of one recording, on the ``es.sensor`` grid."""
    ev = read_bin(path) if path.suffix == ".bin" else read_aedat(path)
    width, height = es.sensor
    if es.recentre:
        ev["x"] -= ev["x"].min()
        ev["y"] -= ev["y"].min()
        return ev[(ev["x"] < width) & (ev["y"] < height)]
    if ev["x"].min() < 0 or ev["y"].min() < 0 or ev["x"].max() >= width or ev["y"].max() >= height:
        raise DataError(f"{path} has events at x up to {ev['x'].max()}, y up to {ev['y'].max()}, outside the "
                        f"{width}x{height} sensor of {es.title}: it is not a {es.title} recording; check the "
                        f"dataset root")
    return ev


def _progress(items: list, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def frames(root: Path, es: EventSet, rec: Recordings, bins: int = DEFAULT_BINS, split: str = "events"
           ) -> dict[str, np.ndarray]:
    """Cached frames ``[N, bins, 2, H, W]`` int16 and labels ``[N]`` of all recordings, in ``rec`` order."""
    h, w = es.size
    folder = root / "frames" / f"{split}{bins}_{h}x{w}"
    meta = {"version": FRAMES_VERSION, "dataset": es.title, "bins": bins, "split": split, "size": [h, w],
            "sensor": list(es.sensor), "recordings": len(rec.files), "sources": sources_digest(root, rec.files)}

    def build(writer: CacheWriter) -> None:
        out = writer.array("frames", (len(rec.files), bins, 2, h, w), np.int16)
        writer.array("labels", (len(rec.files),), np.int64)[:] = rec.labels
        for i, path in enumerate(_progress(rec.files, f"{es.title} to frames")):
            out[i] = to_frames(read_recording(path, es), es.sensor, es.size, bins, split)

    return cached_arrays(folder, meta, build, f"{len(rec.files)} {es.title} recordings to {bins} frames")


def split_rows(root: Path, es: EventSet, rec: Recordings) -> dict[str, np.ndarray]:
    """Row indices of the train and test recordings, from (or into) ``<root>/frames/split.json``."""
    path = root / "frames" / "split.json"
    names = [f.relative_to(root).as_posix() for f in rec.files]
    if es.official_split:
        want = {"dataset": es.title, "rule": "the official Train/ and Test/ folders"}
    else:
        want = {"dataset": es.title, "rule": "class-stratified holdout", "seed": SPLIT_SEED,
                "test_fraction": es.test_fraction}
    split = None
    if path.is_file():
        old = read_json(path)
        if all(old.get(k) == v for k, v in want.items()) and \
                sorted(old.get("train", []) + old.get("test", [])) == sorted(names):
            split = old
        else:
            note(f"rewriting {path}: the recordings or the split rule changed")
    if split is None:
        if es.official_split:
            train = [i for i, s in enumerate(rec.splits) if s == "train"]
            test = [i for i, s in enumerate(rec.splits) if s == "test"]
        else:
            keep, held = holdout(torch.from_numpy(rec.labels), int(round(len(names) * es.test_fraction)), SPLIT_SEED)
            train, test = keep.tolist(), held.tolist()
        split = dict(want, train=[names[i] for i in train], test=[names[i] for i in test])
        write_json(path, split)
    row = {n: i for i, n in enumerate(names)}
    return {k: np.asarray([row[n] for n in split[k]], dtype=np.int64) for k in ("train", "test")}


SETS = {"CIFAR10DVS": CIFAR10DVS, "NCALTECH101": NCALTECH101, "NMNIST": NMNIST}


def event_set(set_name: str, frame_size: tuple[int, int] | None = None, test_fraction: float | None = None
              ) -> EventSet:
    """``SETS[set_name]``, with another frame size (H, W) or test fraction where a stand-in sets them
    (the registry's stand-ins are sized for the networks that read them)."""
    es = SETS[set_name]
    if frame_size is not None:
        es = replace(es, size=tuple(frame_size))
    if test_fraction is not None:
        es = replace(es, test_fraction=test_fraction)
    return es


def prepare(root: Path, set_name: str, num_classes: int, frame_size: tuple[int, int] | None = None,
            test_fraction: float | None = None, download: bool = True) -> Recordings:
    """Check (or download) the recordings of ``SETS[set_name]``, convert them with the default
    settings, and write the split."""
    root, es = Path(root), event_set(set_name, frame_size, test_fraction)
    if _base(root, es) is None and download and not identify(root):  # never into another dataset's folder
        fetch(root, es.title, es.downloads)
    rec = recordings(root, es, num_classes)
    frames(root, es, rec)
    split_rows(root, es, rec)
    return rec


def check(root: Path, set_name: str, num_classes: int, frame_size: tuple[int, int] | None = None,
          test_fraction: float | None = None) -> None:
    """The recordings are there, in their class folders (none is read)."""
    recordings(Path(root), SETS[set_name], num_classes)


def open_parts(root: Path, options: dict, set_name: str, num_classes: int,
               frame_size: tuple[int, int] | None = None, test_fraction: float | None = None) -> Parts:
    """The frames of ``SETS[set_name]`` under ``root`` as :class:`Parts`, converting them first if needed."""
    root, es = Path(root), event_set(set_name, frame_size, test_fraction)
    bins, split = options["frame_bins"], options["frame_split"]
    if split not in FRAME_SPLITS:
        raise DataError(f"frame_split {split!r} is not one of {', '.join(FRAME_SPLITS)}")
    if bins < 1:
        raise DataError(f"frame_bins must be at least 1, got {bins}")
    if options["roll_pixels"] < 0:
        raise DataError(f"roll_pixels must be 0 or more, got {options['roll_pixels']}")
    rec = recordings(root, es, num_classes)
    arrays = frames(root, es, rec, bins, split)
    rows = split_rows(root, es, rec)
    labels = np.array(arrays["labels"])
    augment = EventAugment(options["hflip"], options["roll_pixels"], options["temporal_inversion"])

    def view(part: str, idx: torch.Tensor, train: bool) -> ArrayDataset:
        return ArrayDataset(arrays["frames"], labels, rows[part][idx.numpy()], augment if train else None)

    return Parts(torch.from_numpy(labels[rows["train"]]), torch.from_numpy(labels[rows["test"]]), view,
                 (bins, 2) + tuple(es.size), 2)
