"""Atomic file writes: a temp file in the target's folder, then ``os.replace``.

A job killed mid-write leaves at most a stray ``.tmp`` file, never a half-written result. A write that
fails for want of space or permission (``WRITE_FIXES``) ends in a :class:`WriteError` naming the file,
the cause and the fix; the file's previous version is left as it was.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import WriteError

# the errors of a write the user can remedy, and how (the cause is the system's own wording)
WRITE_FIXES = {
    errno.ENOSPC: "free space on that disk, then rerun",
    errno.EDQUOT: "free space within your disk quota, then rerun",
    errno.EROFS: "choose a folder on a writable file system",
    errno.EACCES: "give this user access to the folder, or choose another",
    errno.EPERM: "give this user access to the folder, or choose another",
}


def write_failure(e: BaseException | None) -> OSError | None:
    """The remediable ``OSError`` behind ``e``, or None. ``torch.save`` reports a failed write to its file
    object as a ``RuntimeError`` ("unexpected pos ...") raised while the ``OSError`` was being handled."""
    while e is not None:
        if isinstance(e, OSError) and e.errno in WRITE_FIXES:
            return e
        e = e.__cause__ or e.__context__
    return None


def failure_message(err: OSError) -> str:
    """``<cause> (<ERRNO>); <fix>``, e.g. ``no space left on device (ENOSPC); free space on that disk, then rerun``."""
    return f"{os.strerror(err.errno).lower()} ({errno.errorcode[err.errno]}); {WRITE_FIXES[err.errno]}"


@contextlib.contextmanager
def reported_write_failures(path: str | os.PathLike) -> Iterator[None]:
    """Turn a remediable failure to write ``path`` into a :class:`WriteError` naming it."""
    try:
        yield
    except (OSError, RuntimeError) as e:
        err = write_failure(e)
        if err is None:
            raise
        raise WriteError(f"could not write {path}: {failure_message(err)}") from None


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
    with reported_write_failures(path):
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
