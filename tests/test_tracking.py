"""MLflow: four training jobs in parallel log to one SQLite store without an error."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_train import TINY, flags

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_four_parallel_runs_share_one_store(tmp_path, digits10_root):
    from mlflow.tracking import MlflowClient

    from tfsnn.tracking import init_store

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    init_store(uri, "tfsnn-par")          # the pipeline's mlflow_store rule, before any training job
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    procs = []
    for seed in range(4):
        settings = {**TINY, "epochs": 2, "seed": seed, "data_root": str(digits10_root)}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tfsnn", "train", *flags(settings), "--out", str(tmp_path / f"r{seed}"),
             "--preset", "par", "--tracking-uri", uri], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        assert "warning: MLflow" not in err, err[-2000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("tfsnn-par").experiment_id])
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    for r in runs:
        assert [m.step for m in client.get_metric_history(r.info.run_id, "loss")] == [1, 2]


def test_default_uri_and_env_override(monkeypatch):
    from tfsnn.tracking import default_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_uri("mini") == "sqlite:///results/mini/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////tmp/x.db")
    assert default_uri("mini") == "sqlite:////tmp/x.db"
