"""Two-process DDP training on the CPU (gloo) under torchrun: ranks stay in sync, BN statistics agree after
calibration, and a one-process run resumes from the two-process checkpoint."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from test_train import TINY, flags

ROOT = Path(__file__).resolve().parents[1]


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants (torchrun's workers run in sessions of their own)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    for p in reversed(found):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def settings(**over):
    """Run settings as one --settings JSON argument: torchrun's own parser would take --s for one of its flags."""
    import json

    return ["--settings", json.dumps({**TINY, **over})]


def torchrun(nproc, args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "tfsnn", *args]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


@pytest.mark.slow
def test_two_process_training_stays_in_sync_and_resumes_on_one(tmp_path, digits10_root):
    p = torchrun(2, ["train", *settings(epochs=1, data_root=str(digits10_root)), "--no-mlflow", "--check-sync",
                     "--out", str(tmp_path / "ddp")])
    out, _ = p.communicate(timeout=600)
    assert p.returncode == 0, out[-3000:]
    assert "2 processes" in out and "ranks disagree" not in out
    ev = (tmp_path / "ddp" / "eval.json")
    assert ev.is_file()

    # stopped after the first two-process checkpoint, resumed by one process
    p = torchrun(2, ["train", *settings(epochs=8, data_root=str(digits10_root)), "--no-mlflow",
                     "--out", str(tmp_path / "resume")])
    ckpt = tmp_path / "resume" / "checkpoint.pt"
    deadline = time.time() + 300
    while not ckpt.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    kill_tree(p.pid)
    p.wait()
    time.sleep(0.5)
    assert ckpt.exists() and not (tmp_path / "resume" / "trained.pt").exists(), "the kill came too late"
    epoch = torch.load(ckpt, weights_only=False)["epoch"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tfsnn", "train", *flags({**TINY, "epochs": 8,
                        "data_root": str(digits10_root)}), "--no-mlflow", "--out", str(tmp_path / "resume")],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resuming after epoch {epoch}/8" in r.stdout
    assert (tmp_path / "resume" / "eval.json").is_file()


def test_single_process_is_not_distributed(monkeypatch):
    from tfsnn import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    d = distributed.init()
    assert not d.enabled and d.main
    net = torch.nn.Linear(2, 2)
    assert distributed.wrap(net, d) is net
    distributed.assert_in_sync(d, net, "weights")            # a no-op for one process


def test_batch_size_is_the_global_batch_split_over_ranks():
    from types import SimpleNamespace

    from tfsnn.config import RunConfig
    from tfsnn.distributed import Dist
    from tfsnn.errors import TfsnnError
    from tfsnn.train import epoch_loader

    data = torch.utils.data.TensorDataset(torch.arange(256.0))
    st = SimpleNamespace(cfg=RunConfig(batch_size=64, seed=7, workers=0), data=SimpleNamespace(train=data),
                         device=torch.device("cpu"))
    shards = [[b[0] for b in epoch_loader(st, 0, Dist(rank=r, world=2))] for r in (0, 1)]
    assert all(len(b) == 32 for s in shards for b in s) and len(shards[0]) == 4   # 2 x 32 images per iteration
    seen = torch.cat([b for s in shards for b in s])
    assert sorted(seen.tolist()) == list(range(256))                              # the ranks split one epoch
    whole = [b[0] for b in epoch_loader(st, 0, Dist())]
    assert len(whole) == 4 and all(len(b) == 64 for b in whole)                   # one process: same iterations
    with pytest.raises(TfsnnError, match="does not split evenly over 3 processes; use a multiple of 3"):
        epoch_loader(st, 0, Dist(rank=0, world=3))
