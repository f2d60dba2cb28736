"""A write that fails for want of space or permission (ENOSPC, EDQUOT, EROFS, EACCES, EPERM) ends in one line
naming the file and the cause, exit status 2, and leaves the file's previous version as it was."""
import errno
import os
import subprocess
import sys
import tempfile

import pytest
import torch

from test_train import ROOT, TINY, flags
from tfsnn import io
from tfsnn.checkpoint import read_checkpoint
from tfsnn.config import RunConfig
from tfsnn.errors import WriteError

CODES = ["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM"]

# Runs the CLI with the writes of one file failing: ENOSPC writes it to /dev/full (the kernel's own
# "no space left on device"); the other codes fail creating its temporary file, as a read-only or
# forbidden folder does. The TFSNN_FAIL-th attempt fails; the file's bytes just before are kept as <file>.before.
WRAPPER = r'''
import builtins, errno, os, shutil, sys, tempfile

name, code, nth = os.environ["TFSNN_FAIL"].split(":")
attempts = []


def failing(path):
    if not os.path.basename(str(path)).startswith(f".{name}."):
        return False
    attempts.append(path)
    if len(attempts) < int(nth):
        return False
    target = os.path.join(os.path.dirname(str(path)), name)
    if os.path.exists(target):
        shutil.copyfile(target, target + ".before")
    return True


real_open, real_mkstemp = builtins.open, tempfile.mkstemp


def open_(file, mode="r", *args, **kw):
    if code == "ENOSPC" and "w" in mode and failing(file):
        return real_open("/dev/full", mode)
    return real_open(file, mode, *args, **kw)


def mkstemp(suffix=None, prefix=None, dir=None, text=False):
    if code != "ENOSPC" and failing(os.path.join(dir or "", prefix or "")):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)), dir)
    return real_mkstemp(suffix, prefix, dir, text)


builtins.open, tempfile.mkstemp = open_, mkstemp
from tfsnn.cli import main

sys.exit(main(sys.argv[1:]))
'''


def cli_failing(tmp_path, fail: str, *args):
    script = tmp_path / "failing_cli.py"
    script.write_text(WRAPPER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TFSNN_FAIL=fail)
    return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True)


def one_line(r, *parts):
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfsnn: error: could not write "), r.stderr[-3000:]
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# ---------------------------------------------------------------------- the atomic writer, one errno at a time


def _raise(code):
    def fail(*args, **kw):
        raise OSError(code, os.strerror(code))
    return fail


@pytest.mark.parametrize("name", CODES)
@pytest.mark.parametrize("where", ["create", "write"])
def test_write_json_failure_names_file_and_cause(tmp_path, monkeypatch, name, where):
    code, path = getattr(errno, name), tmp_path / "eval.json"
    io.write_json(path, {"accuracy": 1})
    before = path.read_bytes()
    target = (tempfile, "mkstemp") if where == "create" else (type(path), "write_text")
    monkeypatch.setattr(*target, _raise(code))
    with pytest.raises(WriteError) as e:
        io.write_json(path, {"accuracy": 2})
    assert str(e.value).startswith(f"could not write {path}: {os.strerror(code).lower()} ({name}); ")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["eval.json"]


class FailingFile:
    """A binary file whose every write fails with ``code``."""

    def __init__(self, code):
        self.code = code

    def write(self, data):
        raise OSError(self.code, os.strerror(self.code))

    def flush(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name", CODES)
def test_torch_save_failure_names_file_and_cause(tmp_path, monkeypatch, name):
    """torch.save reports a failed write to its file object as RuntimeError("... unexpected pos ...")."""
    path = tmp_path / "checkpoint.pt"
    io.torch_save({"epoch": 1}, path)
    before = path.read_bytes()
    real_open = open
    if name == "ENOSPC":  # the kernel's own error: /dev/full takes no byte
        monkeypatch.setattr(io, "open", lambda f, mode="r": real_open("/dev/full", mode), raising=False)
    else:
        monkeypatch.setattr(io, "open", lambda f, mode="r": FailingFile(getattr(errno, name)), raising=False)
    with pytest.raises(WriteError, match=rf"could not write {path}: .* \({name}\); "):
        io.torch_save({"epoch": 2, "model": torch.zeros(10_000)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.pt"]


def test_other_errors_pass_through(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "open", lambda f, mode="r": FailingFile(errno.EIO), raising=False)
    with pytest.raises(OSError, match="Input/output error"):
        io.torch_save({"model": torch.zeros(10_000)}, tmp_path / "m.pt")
    monkeypatch.setattr(tempfile, "mkstemp", _raise(errno.EIO))
    with pytest.raises(OSError) as e:
        io.write_json(tmp_path / "x.json", {})
    assert e.type is OSError and e.value.errno == errno.EIO
    assert os.listdir(tmp_path) == []


def test_full_disk_during_a_cache_conversion(tmp_path, monkeypatch):
    """A memory-mapped cache array is allocated up front: a full disk fails there, not as SIGBUS later."""
    import numpy as np

    from tfsnn.data.cache import cached_arrays

    monkeypatch.setattr(os, "posix_fallocate", _raise(errno.ENOSPC))

    def build(writer):
        writer.array("frames", (4, 4), np.int16)[:] = 1

    with pytest.raises(WriteError, match=rf"could not write {tmp_path / 'c'}: no space left on device \(ENOSPC\)"):
        cached_arrays(tmp_path / "c", {"version": 1}, build, "test arrays")
    assert sorted(os.listdir(tmp_path / "c")) == [".lock"]


# ---------------------------------------------------------------------- through the CLI


def test_full_disk_at_a_checkpoint_keeps_the_previous_one(tmp_path, digits10_root):
    """The second epoch's checkpoint.pt meets a full disk: one line, exit 2, epoch 1's checkpoint unchanged."""
    out = tmp_path / "run"
    args = ("train", *flags({**TINY, "epochs": 2}), "--data-root", digits10_root, "--no-mlflow", "--out", out)
    r = cli_failing(tmp_path, "checkpoint.pt:ENOSPC:2", *args)
    line = one_line(r, f"{out / 'checkpoint.pt'}: no space left on device (ENOSPC)",
                    "training resumes after epoch 1")
    assert "Traceback" not in r.stderr and "unexpected pos" not in line
    assert (out / "checkpoint.pt").read_bytes() == (out / "checkpoint.pt.before").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "checkpoint.pt.before"]
    cfg = RunConfig.from_dict({**TINY, "epochs": 2, "data_root": str(digits10_root)})
    assert read_checkpoint(out / "checkpoint.pt", cfg, torch.device("cpu"))["epoch"] == 1  # a rerun resumes from it


@pytest.mark.parametrize("name", ["EROFS", "EACCES"])
def test_result_into_an_unwritable_folder(tmp_path, digits10_root, name):
    """A result (here prepare's manifest) in a read-only or forbidden folder: one line, exit 2. Where the
    tests do not run as root, EACCES comes from a real read-only folder."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "digits10.json").write_text("{}\n")
    args = ("prepare", "digits10", "--root", digits10_root, "--manifest", folder / "digits10.json")
    if name == "EACCES" and os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            r = subprocess.run([sys.executable, "-m", "tfsnn", *map(str, args)], cwd=ROOT, capture_output=True,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        finally:
            folder.chmod(0o755)
    else:
        r = cli_failing(tmp_path, f"digits10.json:{name}:1", *args)
    one_line(r, f"{folder / 'digits10.json'}: ", f"({name})")
    assert (folder / "digits10.json").read_text() == "{}\n"


def test_unwritable_run_folder(tmp_path, monkeypatch, capsys):
    """An OSError of these kinds outside the atomic writers (here creating the run folder) is one line too."""
    from pathlib import Path

    from tfsnn.cli import main

    def mkdir(self, *args, **kw):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert main(["train", *flags(TINY), "--no-mlflow", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (f"tfsnn: error: {tmp_path / 'run'}: read-only file system (EROFS); "
                                       f"choose a folder on a writable file system\n")
