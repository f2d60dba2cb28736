"""Offline stand-ins made from scikit-learn's bundled digits (1,797 real 8x8 handwritten digits).

``digits10`` (for CIFAR-10) and ``digits100`` (for CIFAR-100: two digits side by side, class
``10*a + b``) are written in the CIFAR python-pickle layout and read back by the same reader as the
real CIFAR files. Train and test are a seeded, class-stratified split of the source images, so the
two never share a source image (pairs are built within each side).

The same holds for the stand-ins in other formats below, each read back only by the real dataset's
reader: ``digits_imagenet`` (an ImageFolder tree of JPEG files, torchvision), ``digits_seqmnist``
(MNIST idx files, torchvision) and ``digits_shd`` / ``digits_ssc`` (HDF5 spike files, h5py). The
event-camera stand-ins are in ``event_standins.py``.

Each stand-in's manifest records a digest of every file written (``digests``), so that ``prepare``
names a file damaged since (``changed_files``) rather than reading it.
"""
from __future__ import annotations

import hashlib
import shutil
import struct
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..io import atomic_path, read_json, write_json
from .cifar import write_cifar
from .pairs import make_pairs
from .split import holdout

TEST_FRACTION = 0.2
GENERATOR_VERSION = 3  # bump when the written bytes change, so old caches are rebuilt


def digits_split(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits as 3-channel uint8 images ``[N, 3, 8, 8]``, labels, and disjoint train / test indices."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(d.images).float().mul(255.0 / 16.0).round().to(torch.uint8)
    x = x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(d.target).long()
    train_idx, test_idx = holdout(y, int(round(len(y) * TEST_FRACTION)), seed)
    return x, y, train_idx, test_idx


def make_digits(root: str | Path, num_classes: int, seed: int = 0, train_pairs: int = 30,
                test_pairs: int = 10, side: int = 8) -> dict:
    """Write the ``digits{num_classes}`` stand-in under ``root``; returns its manifest.

    ``side=32`` (``digits10_32``, 10 classes only): every digit upscaled to CIFAR's 32x32 and varied once
    (``variation.vary``, stream ``CIFAR32_PURPOSE``), for networks whose last maps would be 1x1 at 8x8
    (the B-ResNets of Table 8 stride by 8)."""
    root = Path(root)
    manifest_path = root / "manifest.json"
    name = f"digits{num_classes}" if side == 8 else f"digits{num_classes}_{side}"
    wanted = {"dataset": name, "seed": seed, "format": f"cifar{num_classes}-pickle",
              "generator_version": GENERATOR_VERSION}
    if num_classes == 100:
        wanted.update(train_pairs=train_pairs, test_pairs=test_pairs)
    if side != 8:
        if num_classes != 10:
            raise ValueError(f"digits stand-ins at {side}x{side} have 10 classes, not {num_classes}")
        wanted.update(side=side)
    if manifest_path.is_file():
        manifest = read_json(manifest_path)
        if all(manifest.get(k) == v for k, v in wanted.items()):
            return manifest
    x, y, train_idx, test_idx = digits_split(seed)
    if side != 8:
        from .variation import vary

        varied = vary(digit_intensities(seed), (side, side), np.random.default_rng([seed, CIFAR32_PURPOSE]))
        x = (varied * 255).round().to(torch.uint8)[:, None].expand(-1, 3, -1, -1).contiguous()
    train, test = (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])
    if num_classes == 10:
        names = [str(c) for c in range(10)]
    elif num_classes == 100:
        train = make_pairs(*train, train_pairs, seed + 1)
        test = make_pairs(*test, test_pairs, seed + 2)
        names = [f"{a}-{b}" for a in range(10) for b in range(10)]
    else:
        raise ValueError(f"digits stand-ins have 10 or 100 classes, not {num_classes}")
    folder = write_cifar(root, num_classes, train, test, names)
    manifest = dict(wanted, digests=written_digests(root, [folder]), image_shape=list(train[0].shape[1:]),
                    counts={"train": len(train[1]), "test": len(test[1])},
                    per_class={"train": torch.bincount(train[1], minlength=num_classes).tolist(),
                               "test": torch.bincount(test[1], minlength=num_classes).tolist()})
    write_json(manifest_path, manifest)
    return manifest


# ------------------------------------------------------------------ stand-ins in other datasets' formats

STANDIN_PER_CLASS = (60, 30)  # (train, test) source images per class of the sequence stand-ins: 300 test samples
IMAGENET_PER_CLASS = (60, 30)  # ImageNet stand-in: train/ and val/ images per class (val: 300 in all)
IMAGE_SIDE, CROP = 146, 128  # ImageNet's 256 / 224 at 128 px: ResNet-34 (stride 32) ends on 4x4 maps
# generator streams of the stand-ins' variations (variation.py); the event roles use 11-13
IMAGENET_PURPOSE = 1
CIFAR32_PURPOSE = 2  # digits10_32


def current_manifest(root: Path, wanted: dict) -> dict | None:
    """The stand-in manifest ``<root>/standin.json`` if it was written with ``wanted``, else None."""
    path = Path(root) / "standin.json"
    if path.is_file():
        manifest = read_json(path)
        if all(manifest.get(k) == v for k, v in wanted.items()):
            return manifest
    return None


def clear_generated(root: Path, name: str, folders: list[Path]) -> None:
    """Remove the ``folders`` an older version of stand-in ``name`` wrote under ``root`` (its manifest
    ``standin.json`` says they are generated), so no stale file outlives a new version; refuse folders
    of recordings or images that no stand-in manifest accounts for."""
    if (Path(root) / "standin.json").is_file():
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    elif any(f.exists() for f in folders):
        raise DataError(f"{root} already holds {', '.join(f.name for f in folders if f.exists())} but no "
                        f"stand-in manifest; choose an empty folder for the {name} stand-in")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def written_digests(root: Path, written: list[Path]) -> dict[str, str]:
    """Digests of the files a generator wrote (``written``: files, or folders taken whole), by path below ``root``."""
    files = [f for w in written for f in ([w] if w.is_file() else sorted(w.rglob("*"))) if f.is_file()]
    return {f.relative_to(root).as_posix(): file_digest(f) for f in files}


def changed_files(root: Path, manifest: dict) -> list[str]:
    """The files of a stand-in's manifest (``digests``) that are missing or differ from what was written."""
    return [name for name, digest in manifest.get("digests", {}).items()
            if not (root / name).is_file() or file_digest(root / name) != digest]


def standin_sources(seed: int, per_class: tuple[int, int] = STANDIN_PER_CLASS, extra_train: int = 0
                    ) -> dict[str, list[tuple[int, int]]]:
    """(digit image index, label) per part: ``train`` and ``test`` (``per_class`` of each class) from
    the digits' disjoint splits; ``extra`` (``extra_train`` per class) from training images that
    ``train`` does not use."""
    _, y, train_idx, test_idx = digits_split(seed)
    n_train, n_test = per_class
    out: dict[str, list[tuple[int, int]]] = {"train": [], "test": [], "extra": []}
    for c in range(10):
        tr, te = train_idx[y[train_idx] == c].tolist(), test_idx[y[test_idx] == c].tolist()
        out["train"] += [(i, c) for i in tr[:n_train]]
        out["extra"] += [(i, c) for i in tr[n_train:n_train + extra_train]]
        out["test"] += [(i, c) for i in te[:n_test]]
    return out


def digit_intensities(seed: int) -> torch.Tensor:
    """The digits as float images ``[N, 8, 8]`` in [0, 1] (``variation.vary`` upscales them)."""
    return digits_split(seed)[0][:, 0].float() / 255.0


def make_imagenet_tree(root: str | Path, seed: int = 0) -> dict:
    """``digits_imagenet``: an ImageFolder tree ``train/`` and ``val/`` of ``IMAGE_SIDE`` px RGB JPEG files,
    each a distinct source digit, upscaled and varied (``variation.py``)."""
    from PIL import Image

    from .variation import vary

    root = Path(root)
    wanted = {"dataset": "digits_imagenet", "seed": seed, "generator_version": GENERATOR_VERSION,
              "side": IMAGE_SIDE, "per_class": list(IMAGENET_PER_CLASS)}
    if (manifest := current_manifest(root, wanted)) is not None:
        return manifest
    clear_generated(root, "digits_imagenet", [root / "train", root / "val"])
    images = digit_intensities(seed)
    sources = standin_sources(seed, IMAGENET_PER_CLASS)
    rng = np.random.default_rng([seed, IMAGENET_PURPOSE])
    for part, folder in (("train", "train"), ("test", "val")):
        varied = vary(images[[i for i, _ in sources[part]]], (IMAGE_SIDE, IMAGE_SIDE), rng)
        for n, ((_, c), pixels) in enumerate(zip(sources[part], varied)):
            with atomic_path(root / folder / f"digit_{c}" / f"{n:05d}.JPEG") as tmp:
                Image.fromarray((pixels * 255).round().to(torch.uint8).numpy()).convert("RGB").save(
                    tmp, format="JPEG", quality=90)
    manifest = dict(wanted, layout="train/<class>/*.JPEG, val/<class>/*.JPEG", crop=CROP,
                    counts={"train": len(sources["train"]), "val": len(sources["test"])},
                    digests=written_digests(root, [root / "train", root / "val"]))
    write_json(root / "standin.json", manifest)
    return manifest


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx format (http://yann.lecun.com/exdb/mnist/): magic 0x0000 08 <ndim> (08 = unsigned byte),
    each dimension as a big-endian int32, then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def make_idx(root: str | Path, seed: int = 0) -> dict:
    """``digits_seqmnist``: the digits (8x8) as MNIST idx files in ``<root>/MNIST/raw``."""
    root = Path(root)
    wanted = {"dataset": "digits_seqmnist", "seed": seed, "generator_version": GENERATOR_VERSION}
    if (manifest := current_manifest(root, wanted)) is not None:
        return manifest
    x = digits_split(seed)[0][:, 0].numpy()
    for part, prefix in (("train", "train"), ("test", "t10k")):
        pairs = standin_sources(seed)[part]
        files = {f"{prefix}-images-idx3-ubyte": x[[i for i, _ in pairs]],
                 f"{prefix}-labels-idx1-ubyte": np.asarray([c for _, c in pairs], dtype=np.uint8)}
        for name, array in files.items():
            with atomic_path(root / "MNIST" / "raw" / name) as tmp:
                tmp.write_bytes(idx_bytes(array))
    manifest = dict(wanted, layout="MNIST/raw/*-ubyte", image_shape=list(x.shape[1:]),
                    digests=written_digests(root, [root / "MNIST" / "raw"]))
    write_json(root / "standin.json", manifest)
    return manifest


SPIKE_SLOT_S = 0.025  # each digit column lasts 25 ms
SPIKE_ONSET_S = 0.05  # recordings start within the first 50 ms
SPIKE_P = 0.6  # firing probability of a unit per column at full intensity
SPIKE_UNITS = 700
SPIKE_STREAMS = {"shd": 0, "ssc": 1}  # the two stand-ins draw different spike trains from the same digits


def digit_spikes(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Spike times (s) and units of an 8x8 digit read like a spectrogram: rows are bands of the 700
    units (row 0 the lowest), columns 25 ms slots in time; a unit fires once per slot with
    probability 0.6 x intensity."""
    rows, cols = img.shape
    band = np.arange(SPIKE_UNITS) * rows // SPIKE_UNITS
    onset = rng.uniform(0, SPIKE_ONSET_S)
    times, units = [], []
    for c in range(cols):
        fire = np.flatnonzero(rng.random(SPIKE_UNITS) < SPIKE_P * img[band, c])
        units.append(fire)
        times.append(onset + (c + rng.random(len(fire))) * SPIKE_SLOT_S)
    t, u = np.concatenate(times), np.concatenate(units)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]


def write_hsd(path: Path, times: list[np.ndarray], units: list[np.ndarray], labels: np.ndarray,
              keys: list[str]) -> None:
    """An HDF5 file in the SHD/SSC layout: ``spikes/times`` (vlen float16, s), ``spikes/units`` (vlen
    uint16), ``labels`` (uint16), ``extra/keys`` (class names) and ``extra/speaker`` (uint16)."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        spikes = f.create_group("spikes")
        t = spikes.create_dataset("times", (len(times),), dtype=h5py.vlen_dtype(np.float16))
        u = spikes.create_dataset("units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (ti, ui) in enumerate(zip(times, units)):
            t[i], u[i] = ti.astype(np.float16), ui.astype(np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        extra = f.create_group("extra")
        extra.create_dataset("keys", data=np.asarray(keys, dtype="S"))
        extra.create_dataset("speaker", data=np.zeros(len(labels), dtype=np.uint16))


def make_hsd(root: str | Path, prefix: str, seed: int = 0) -> dict:
    """``digits_shd`` / ``digits_ssc``: the digits as spike trains in ``<prefix>_{train,test}.h5``
    (SSC also ``ssc_valid.h5``, from training images the train file does not use)."""
    root = Path(root)
    wanted = {"dataset": f"digits_{prefix}", "seed": seed, "generator_version": GENERATOR_VERSION}
    if (manifest := current_manifest(root, wanted)) is not None:
        return manifest
    images = digit_intensities(seed).numpy()
    sources = standin_sources(seed, extra_train=STANDIN_PER_CLASS[1] if prefix == "ssc" else 0)
    parts = {"train": "train", "test": "test"} | ({"valid": "extra"} if prefix == "ssc" else {})
    rng = np.random.default_rng([seed, SPIKE_STREAMS[prefix]])
    for part, source in parts.items():
        spikes = [digit_spikes(images[i], rng) for i, _ in sources[source]]
        write_hsd(root / f"{prefix}_{part}.h5", [t for t, _ in spikes], [u for _, u in spikes],
                  np.asarray([c for _, c in sources[source]]), [str(c) for c in range(10)])
    files = [f"{prefix}_{part}.h5" for part in parts]
    manifest = dict(wanted, files=files, digests=written_digests(root, [root / f for f in files]))
    write_json(root / "standin.json", manifest)
    return manifest
