"""Converted arrays cached on disk: written once, checked on every read, rebuilt when stale.

A cache is a folder of ``.npy`` arrays plus ``meta.json``. Each array is filled under a temporary
name and renamed into place; ``meta.json`` (conversion version, settings, the source files it was
made from, the arrays' shapes) is written last. A folder whose ``meta.json`` is missing or differs
from what the caller expects is therefore an interrupted, outdated or foreign conversion: it is
reported on stderr and rebuilt, never read as complete. Arrays are opened memory-mapped, so data
larger than memory is read sample by sample. A lock file serialises concurrent conversions.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import DataError
from ..io import WRITE_FIXES, give_default_mode, read_json, reported_write_failures, write_json

META = "meta.json"


def note(message: str) -> None:
    """A progress or maintenance line on stderr (conversions, rebuilds)."""
    print(f"tfsnn: {message}", file=sys.stderr, flush=True)


def sources_digest(root: Path, files: list[Path]) -> str:
    """A digest of the source files' relative paths, sizes and modification times: a cache is rebuilt
    when any of them changes (a copy that does not keep modification times converts once more)."""
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def read_cache(folder: Path, meta: dict) -> tuple[dict[str, np.ndarray] | None, str]:
    """The arrays of a complete cache made with ``meta``, or ``(None, why not)``."""
    path = folder / META
    if not path.is_file():
        leftovers = folder.is_dir() and (any(folder.glob("*.npy")) or any(folder.glob(".*.tmp")))
        return None, "an interrupted conversion left it incomplete" if leftovers else "no cache yet"
    try:
        found = read_json(path)
    except ValueError:
        return None, f"{path} is damaged"
    for key, value in meta.items():
        if found.get(key) != value:
            return None, f"it was written with {key}={found.get(key)!r}, now {value!r}"
    arrays = {}
    for name, (shape, dtype) in found.get("arrays", {}).items():
        try:
            arr = np.load(folder / f"{name}.npy", mmap_mode="r")
        except (OSError, ValueError):
            return None, f"{folder / name}.npy is missing or damaged"
        if list(arr.shape) != shape or arr.dtype.str != dtype:
            return None, f"{folder / name}.npy does not match {path}"
        arrays[name] = arr
    return arrays, ""


class CacheWriter:
    """Hands out arrays to fill; :meth:`commit` renames them into place and writes ``meta.json`` last."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pending: dict[str, tuple[Path, np.ndarray]] = {}

    def array(self, name: str, shape: tuple, dtype) -> np.ndarray:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.npy.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        give_default_mode(tmp)
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=tuple(shape))
        self.pending[name] = (Path(tmp), arr)
        _reserve(Path(tmp))
        return arr

    def commit(self, meta: dict) -> None:
        shapes = {}
        for name, (tmp, arr) in self.pending.items():
            arr.flush()
            shapes[name] = [list(arr.shape), arr.dtype.str]
            del arr
            os.replace(tmp, self.folder / f"{name}.npy")
        self.pending.clear()
        write_json(self.folder / META, dict(meta, arrays=shapes))

    def discard(self) -> None:
        for tmp, _ in self.pending.values():
            tmp.unlink(missing_ok=True)
        self.pending.clear()


def _reserve(path: Path) -> None:
    """Allocate the file's blocks now, so that a full disk fails here (ENOSPC) rather than as a crash
    (SIGBUS) when the memory map is filled."""
    if hasattr(os, "posix_fallocate"):
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
        except OSError as e:
            if e.errno in WRITE_FIXES:
                raise  # otherwise a file system that cannot preallocate: the map is filled as before
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "a") as f:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)
        except (ImportError, OSError):  # no POSIX locks here: conversions are not serialised
            pass
        yield


def cached_arrays(folder: Path, meta: dict, build: Callable[[CacheWriter], None], what: str) -> dict[str, np.ndarray]:
    """The cache in ``folder`` made with ``meta``; ``build(writer)`` (re)makes it first when needed."""
    arrays, why = read_cache(folder, meta)
    if arrays is not None:
        return arrays
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache folder {folder} ({e.strerror}); make {folder.parent} "
                        f"writable or copy the dataset somewhere writable") from None
    with _locked(folder):
        arrays, why = read_cache(folder, meta)  # another process may have built it meanwhile
        if arrays is not None:
            return arrays
        note(f"converting {what} into {folder} ({why})")
        (folder / META).unlink(missing_ok=True)
        for stale in folder.glob(".*.tmp"):
            stale.unlink()
        writer = CacheWriter(folder)
        try:
            with reported_write_failures(folder):
                build(writer)
                writer.commit(meta)
        finally:
            writer.discard()
    arrays, why = read_cache(folder, meta)
    if arrays is None:
        raise DataError(f"the cache in {folder} could not be read back ({why}); delete the folder and retry")
    return arrays
