"""Spiking Heidelberg Digits and Spiking Speech Commands (Cramer et al. 2020) as published, binned to sequences.

Files (https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/): ``shd_train.h5`` and
``shd_test.h5``; ``ssc_train.h5``, ``ssc_valid.h5`` and ``ssc_test.h5``. Each HDF5 file holds
``spikes/times`` (per sample a variable-length array of spike times in seconds), ``spikes/units``
(the matching channels of the cochlear model, 0..699), ``labels`` and ``extra/`` metadata; h5py
reads them. SSC's validation file is not used: ``val_split`` holds samples out of training.

Binning follows Hammouamri et al. 2023's public SNN-delays code (``config.py``: ``time_step = 10``
ms and ``n_bins = 10``, passed to SpikingJelly's SHD reader): spikes are counted in 10 ms bins and
the 700 channels are pooled by 10 (``unit // 10``) into the input width 70 of A.12. That code pads
each batch to its longest sample; here every sample is padded (or cut) to one window per dataset,
``steps`` bins: SHD 120 (1.2 s; the longest SHD digit lasts about 1.17 s), SSC 100 (1 s clips).
The counts ``[N, steps, 70]`` are cached as uint8 under ``<root>/sequences/``.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from ..errors import DataError
from .cache import CacheWriter, cached_arrays, sources_digest
from .download import Entries, download as fetch
from .identify import identify, missing
from .parts import ArrayDataset, Parts

SEQUENCES_VERSION = 1  # bump when the binning changes: older caches are rebuilt
BIN_S = 0.010  # Hammouamri et al. 2023: time_step = 10 ms
CHANNELS = 700  # cochlear-model channels of SHD/SSC
POOL = 10  # A.12: input width 70 = 700 channels pooled by 10
WIDTH = CHANNELS // POOL
CHUNK = 2048  # samples binned at a time


@dataclass(frozen=True)
class AudioSet:
    title: str
    prefix: str  # file names <prefix>_train.h5, <prefix>_test.h5
    steps: int
    how_to_get: str
    downloads: Entries = field(default=lambda: [])


def _hsd_downloads(prefix: str) -> Callable[[], list]:
    def urls() -> list:
        from tonic.datasets import SSC, SHD

        cls = SHD if prefix == "shd" else SSC
        return [(cls.base_url + cls.train_zip, cls.train_zip, cls.train_md5, []),
                (cls.base_url + cls.test_zip, cls.test_zip, cls.test_md5, [])]

    return urls


HOW_TO_GET = ("download {files} from https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/ "
              "(https://zenkelab.org/datasets/) and unzip them there")
SHD = AudioSet("Spiking Heidelberg Digits", "shd", 120, HOW_TO_GET.format(files="shd_train.h5.zip and shd_test.h5.zip"),
               _hsd_downloads("shd"))
SSC = AudioSet("Spiking Speech Commands", "ssc", 100, HOW_TO_GET.format(files="ssc_train.h5.zip and ssc_test.h5.zip"),
               _hsd_downloads("ssc"))


def files_of(root: Path, aset: AudioSet) -> dict[str, Path]:
    return {part: Path(root) / f"{aset.prefix}_{part}.h5" for part in ("train", "test")}


@contextlib.contextmanager
def _h5(path: Path) -> Iterator:
    """An SHD/SSC file opened with h5py; a damaged or foreign file ends in a DataError naming it."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            yield f
    except KeyError as e:
        raise DataError(f"{path} lacks {e.args[0] if e.args else 'an entry'} (it needs spikes/times, spikes/units "
                        f"and labels): it is not an SHD/SSC file; download it again") from None
    except OSError as e:
        raise DataError(f"{path} is not a readable HDF5 file ({e}); download it again") from None


def sample_count(path: Path) -> int:
    with _h5(path) as f:
        return len(f["labels"])


def read_spikes(path: Path, start: int = 0, stop: int | None = None) -> tuple[list, list, np.ndarray]:
    """Spike times (s), units and labels of samples ``start:stop`` of one SHD/SSC file."""
    with _h5(path) as f:
        times, units, labels = f["spikes/times"], f["spikes/units"], f["labels"]
        stop = len(labels) if stop is None else stop
        return list(times[start:stop]), list(units[start:stop]), np.asarray(labels[start:stop], dtype=np.int64)


def count_spikes(times: list, units: list, steps: int, where: object = "the spike file") -> np.ndarray:
    """Spike counts ``[n, steps, 70]`` (uint8) of ``n`` samples: 10 ms bins, channels pooled by 10."""
    n = len(times)
    sample = np.repeat(np.arange(n), [len(t) for t in times])
    t = np.concatenate([np.asarray(x, dtype=np.float64) for x in times]) if n else np.zeros(0)
    u = np.concatenate([np.asarray(x, dtype=np.int64) for x in units]) if n else np.zeros(0, np.int64)
    if len(u) != len(t):
        raise DataError(f"{where}: spikes/times and spikes/units differ in length, so it is damaged; download it again")
    if len(u) and (u.min() < 0 or u.max() >= CHANNELS):
        raise DataError(f"{where} has spike units up to {u.max()}, beyond the {CHANNELS} channels of SHD/SSC: it "
                        f"is not an SHD/SSC file; download it again")
    step = np.floor(t / BIN_S).astype(np.int64)
    keep = (step >= 0) & (step < steps)
    flat = (sample[keep] * steps + step[keep]) * WIDTH + u[keep] // POOL
    counts = np.bincount(flat, minlength=n * steps * WIDTH)
    return np.minimum(counts, 255).astype(np.uint8).reshape(n, steps, WIDTH)


def present_files(root: Path, aset: AudioSet) -> dict[str, Path]:
    """The HDF5 files of ``aset`` under ``root``, checked to be there."""
    files = files_of(root, aset)
    absent = [str(p) for p in files.values() if not p.is_file()]
    if absent:
        raise missing(Path(root), aset.title, ", ".join(absent), aset.how_to_get)
    return files


def sequences(root: Path, aset: AudioSet, num_classes: int) -> dict[str, np.ndarray]:
    """Cached ``{train,test}_x`` ``[N, steps, 70]`` uint8 and ``{train,test}_y`` of ``aset`` under ``root``."""
    root = Path(root)
    files = present_files(root, aset)
    meta = {"version": SEQUENCES_VERSION, "dataset": aset.title, "bin_s": BIN_S, "steps": aset.steps,
            "pool": POOL, "sources": sources_digest(root, list(files.values()))}
    folder = root / "sequences" / f"{aset.prefix}_{round(BIN_S * 1000)}ms_{aset.steps}x{WIDTH}"

    def build(writer: CacheWriter) -> None:
        for part, path in files.items():
            n = sample_count(path)
            x = writer.array(f"{part}_x", (n, aset.steps, WIDTH), np.uint8)
            y = writer.array(f"{part}_y", (n,), np.int64)
            for start in range(0, n, CHUNK):
                times, units, labels = read_spikes(path, start, start + CHUNK)
                if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                    raise DataError(f"{path} has labels {labels.min()}..{labels.max()}, but {aset.title} has "
                                    f"{num_classes} classes: it is not a {aset.title} file")
                x[start:start + len(labels)] = count_spikes(times, units, aset.steps, path)
                y[start:start + len(labels)] = labels

    return cached_arrays(folder, meta, build, f"{aset.title} spikes to {aset.steps} bins of 10 ms")


SETS = {"SHD": SHD, "SSC": SSC}


def _audio_set(set_name: str, steps: int | None) -> AudioSet:
    aset = SETS[set_name]
    return dataclasses.replace(aset, steps=steps) if steps else aset


def prepare(root: Path, set_name: str, num_classes: int, steps: int | None = None, download: bool = True) -> None:
    """Check (or download) the HDF5 files of ``SETS[set_name]`` and bin them once (``steps`` bins if given)."""
    root, aset = Path(root), _audio_set(set_name, steps)
    if download and not identify(root):  # nothing there yet (never download into another dataset's folder)
        fetch(root, aset.title, aset.downloads)
    sequences(root, aset, num_classes)


def check(root: Path, set_name: str, num_classes: int, steps: int | None = None) -> None:
    """The HDF5 files are there (nothing is read)."""
    present_files(Path(root), SETS[set_name])


def open_parts(root: Path, options: dict, set_name: str, num_classes: int, steps: int | None = None) -> Parts:
    arrays = sequences(Path(root), _audio_set(set_name, steps), num_classes)
    labels = {part: np.array(arrays[f"{part}_y"]) for part in ("train", "test")}

    def view(part: str, idx: torch.Tensor, train: bool) -> ArrayDataset:
        return ArrayDataset(arrays[f"{part}_x"], labels[part], idx.numpy())

    x = arrays["train_x"]
    return Parts(torch.from_numpy(labels["train"]), torch.from_numpy(labels["test"]), view, x.shape[1:], WIDTH)
