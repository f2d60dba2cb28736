"""Atomic file writes: a temp file in the target's folder, then ``os.replace``.

A job killed mid-write leaves at most a stray ``.tmp`` file, never a half-written result.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator


def give_default_mode(path: str | os.PathLike) -> None:
    """The mode an ordinary new file gets (0666 less the umask), not mkstemp's private 0600: results and
    shared caches stay readable by the group."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    give_default_mode(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return json.load(f)


def torch_save(obj: Any, path: str | os.PathLike) -> None:
    import torch

    # through a file object: the archive then has a fixed inner name instead of the random temporary
    # file's, so the same object saves to the same bytes (a run's files are bitwise reproducible)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)
