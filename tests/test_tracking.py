"""MLflow: the classic runs view, accuracy as one curve against T, a run's source and log, a fresh SQLite store
shared by parallel jobs, a killed job's run reused, and a tracking server shared by eight jobs."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_train import TINY, flags
from tfsnn.io import read_json

ROOT = Path(__file__).resolve().parents[1]


def train_cmd(settings: dict, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tfsnn", "train", *flags(settings), "--out", str(out), *extra]


def child_env(**kw) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return {**env, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **kw}


def runs_of(uri: str, experiment: str) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    return client.search_runs([client.get_experiment_by_name(experiment).experiment_id])


def test_experiment_opens_in_the_classic_runs_view(tmp_path):
    from mlflow.tracking import MlflowClient

    from tfsnn.tracking import EXPERIMENT_KIND, init_store, runs_view_url

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(uri)
    exp_id = init_store(uri, "tfsnn-new")
    assert client.get_experiment(exp_id).tags[EXPERIMENT_KIND[0]] == "custom_model_development"
    old = client.create_experiment("tfsnn-old")     # made before the tag existed
    assert init_store(uri, "tfsnn-old") == old
    tags = client.get_experiment(old).tags
    assert tags[EXPERIMENT_KIND[0]] == "custom_model_development"
    assert runs_view_url(uri, old) in tags["mlflow.note.content"]
    assert runs_view_url(uri, "3") == "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
    assert runs_view_url("http://login1:5000/", "3").startswith("http://login1:5000/#/experiments/3/runs?")


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory, digits10_root):
    """A tiny run with a validation split, its output redirected to a log file as Snakemake does."""
    tmp = tmp_path_factory.mktemp("logged")
    uri = f"sqlite:///{tmp}/mlflow.db"
    settings = {**TINY, "epochs": 2, "val_split": 100, "data_root": str(digits10_root)}
    (tmp / "logs" / "train").mkdir(parents=True)
    with open(tmp / "logs" / "train" / "run.log", "w") as log:
        subprocess.run(train_cmd(settings, tmp / "run", "--preset", "t", "--tracking-uri", uri), cwd=ROOT,
                       env=child_env(), stdout=log, stderr=subprocess.STDOUT, check=True, timeout=600)
    (run,) = runs_of(uri, "tfsnn-t")
    return uri, run, tmp, settings


def test_accuracy_is_one_curve_against_T(logged_run):
    from mlflow.tracking import MlflowClient

    uri, run, tmp, _ = logged_run
    client, ev = MlflowClient(uri), read_json(tmp / "run" / "eval.json")
    for metric, key in (("test_acc_by_T", "accuracy"), ("val_acc_by_T", "accuracy_val")):
        history = client.get_metric_history(run.info.run_id, metric)
        assert [(m.step, m.value) for m in history] == [(int(T), a) for T, a in ev[key].items()]
    assert [m.step for m in history] == [1, 2, 3, 4]
    assert run.data.metrics["test_acc_by_T"] == ev["accuracy"]["4"]     # the runs table shows T_max
    assert not [k for k in run.data.metrics if k.startswith("acc_T")]
    for metric in ("loss", "train_acc", "val_acc_uncalibrated"):     # per-epoch curves
        assert [m.step for m in client.get_metric_history(run.info.run_id, metric)] == [1, 2]


def test_selection_score_is_a_per_epoch_curve():
    from tfsnn.selection import EpochSelection
    from tfsnn.train import _epoch_metrics

    record = {"loss": 1.0, "train_acc": 0.5, "lr": 0.1, "seconds": 2.0, "selection_acc": {"2": 0.4, "4": 0.6}}
    assert _epoch_metrics(record, EpochSelection("best_val", 4))["val_acc"] == 0.6
    assert _epoch_metrics(record, EpochSelection("best_test", 4))["test_acc"] == 0.6


def test_run_carries_its_source_and_log(logged_run):
    from mlflow.tracking import MlflowClient

    uri, run, tmp, _ = logged_run
    tags = run.data.tags
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert tags["mlflow.source.git.commit"] == head.stdout.strip()
        assert tags["tfsnn.git.dirty"] in ("true", "false")
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.source.name"].endswith("__main__.py")
    assert tags["mlflow.user"] and tags["tfsnn.version"] and tags["tfsnn.torch"] and tags["tfsnn.cuda"]
    assert tags["tfsnn.train.device"] == tags["tfsnn.calibrate.device"] == "cpu"
    assert tags["tfsnn.train.host"] == socket.gethostname()
    assert str(tmp / "run") in tags["mlflow.note.content"] and "workflowType=machine_learning" in tags["mlflow.note.content"]
    client = MlflowClient(uri)
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"train.json", "eval.json", "logs"}
    (log,) = client.list_artifacts(run.info.run_id, "logs/train")
    assert log.path == "logs/train/run.log"
    text = Path(client.download_artifacts(run.info.run_id, log.path, str(tmp))).read_text()
    assert "calibrated and evaluated" in text


@pytest.mark.slow
def test_mirroring_leaves_the_numbers_alone(logged_run):
    """The validation probe logged per epoch does not change what the run computes."""
    uri, run, tmp, settings = logged_run
    subprocess.run(train_cmd(settings, tmp / "plain", "--no-mlflow"), cwd=ROOT, env=child_env(),
                   capture_output=True, check=True, timeout=600)
    a, b = read_json(tmp / "run" / "train.json"), read_json(tmp / "plain" / "train.json")
    assert [(e["loss"], e["train_acc"]) for e in a["epochs"]] == [(e["loss"], e["train_acc"]) for e in b["epochs"]]
    ea, eb = read_json(tmp / "run" / "eval.json"), read_json(tmp / "plain" / "eval.json")
    for key in ("accuracy", "accuracy_uncalibrated", "accuracy_val", "firing_rates"):
        assert ea[key] == eb[key], key


@pytest.mark.slow
def test_four_parallel_runs_create_one_fresh_store(tmp_path, digits10_root):
    """No store before: the first job creates it under a lock, the others wait and open it."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    procs = [subprocess.Popen(train_cmd({**TINY, "epochs": 2, "seed": seed, "data_root": str(digits10_root)},
                                        tmp_path / f"r{seed}", "--preset", "par", "--tracking-uri", uri),
                              cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for seed in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        assert "warning: MLflow" not in err, err[-2000:]
    from mlflow.tracking import MlflowClient

    runs, client = runs_of(uri, "tfsnn-par"), MlflowClient(uri)
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    for r in runs:
        assert [m.step for m in client.get_metric_history(r.info.run_id, "loss")] == [1, 2]


@pytest.mark.slow
def test_a_killed_job_leaves_one_run(tmp_path, digits10_root):
    """SIGKILL before the first checkpoint: the rerun and the calibrate job carry on the same MLflow run."""
    uri, out = f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "run"
    cmd = train_cmd({**TINY, "epochs": 2, "data_root": str(digits10_root)}, out, "--preset", "k", "--tracking-uri",
                    uri, "--stage", "train")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    for line in proc.stdout:     # the line after the MLflow run starts, before the first epoch ends
        if "device cpu" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "checkpoint.pt").exists(), "the kill came too late"
    (killed,) = runs_of(uri, "tfsnn-k")
    assert killed.info.status == "RUNNING"
    for again in (cmd, [sys.executable, "-m", "tfsnn", "calibrate", "--run-dir", str(out), "--preset", "k",
                        "--tracking-uri", uri]):
        r = subprocess.run(again, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and "warning: MLflow" not in r.stderr, r.stderr[-2000:]
    (run,) = runs_of(uri, "tfsnn-k")
    assert run.info.run_id == killed.info.run_id == read_json(out / "eval.json")["mlflow_run_id"]
    assert run.info.status == "FINISHED" and "test_acc_by_T" in run.data.metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tracking_server(tmp_path):
    """``mlflow server`` on a free local port (SQLite backend, artifacts served through the server)."""
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
           "--artifacts-destination", str(tmp_path / "served")]
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(cmd, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGKILL)   # the server and any worker it started
        server.wait(timeout=30)


@pytest.mark.slow
def test_eight_jobs_share_a_tracking_server(tracking_server, tmp_path, digits10_root):
    procs = [subprocess.Popen(train_cmd({**TINY, "epochs": 1, "seed": seed, "data_root": str(digits10_root)},
                                        tmp_path / f"r{seed}", "--preset", "srv"),
                              cwd=ROOT, env=child_env(MLFLOW_TRACKING_URI=tracking_server), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for seed in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0 and "warning: MLflow" not in err, err[-2000:]
    from mlflow.tracking import MlflowClient

    runs, client = runs_of(tracking_server, "tfsnn-srv"), MlflowClient(tracking_server)
    assert len(runs) == 8 and {r.info.status for r in runs} == {"FINISHED"}
    assert f"{tracking_server}/#/experiments/" in runs[0].data.tags["mlflow.note.content"]   # the server's own UI
    assert {r.data.tags["tfsnn.run_id"] for r in runs} == {read_json(tmp_path / f"r{s}" / "eval.json")["run_id"]
                                                          for s in range(8)}
    for r in runs:
        assert r.info.artifact_uri.startswith("mlflow-artifacts:")
        assert {a.path for a in client.list_artifacts(r.info.run_id)} == {"train.json", "eval.json"}
    assert len(list((tmp_path / "served").rglob("eval.json"))) == 8


def test_default_uri_and_env_override(monkeypatch):
    from tfsnn.tracking import default_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_uri("mini") == "sqlite:///results/mini/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////tmp/x.db")
    assert default_uri("mini") == "sqlite:////tmp/x.db"


def test_a_tag_set_meanwhile_by_a_parallel_job_is_not_an_error():
    """A tracking server refuses the second insert of an experiment tag (UNIQUE constraint) when 8 jobs tag
    a new experiment together; the loser finds the tag there and goes on (seen once in CI)."""
    from types import SimpleNamespace

    from tfsnn.tracking import _tag_experiment

    class Server:
        tags: dict = {}

        def get_experiment_by_name(self, name):
            return SimpleNamespace(experiment_id="1", tags=dict(self.tags))

        def set_experiment_tag(self, exp_id, key, value):
            self.tags[key] = value            # the parallel job's insert wins ...
            raise RuntimeError("BAD_REQUEST: (sqlite3.IntegrityError) UNIQUE constraint failed: experiment_tags.key")

    _tag_experiment(Server(), "tfsnn-x", "mlflow.note.content", "runs view")

    class Broken(Server):
        def set_experiment_tag(self, exp_id, key, value):
            raise RuntimeError("the server is down")

    Broken.tags = {}
    with pytest.raises(RuntimeError, match="down"):
        _tag_experiment(Broken(), "tfsnn-x", "mlflow.note.content", "runs view")
