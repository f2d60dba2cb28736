"""MLflow mirror of the result files: one MLflow run per training run, one experiment per preset.

The store is SQLite, ``sqlite:///results/<preset>/mlflow.db`` unless ``MLFLOW_TRACKING_URI`` says
otherwise; artifacts go next to the database. MLflow is imported here only. The result files are the
source of truth: if the store fails mid-run, the run goes on and says so once on stderr.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_EXPERIMENT_PREFIX = "tfsnn-"


def default_uri(preset: str) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the preset's SQLite store under results/."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    from .layout import Layout

    return Layout(preset).mlflow_uri()


def experiment_name(preset: str) -> str:
    return DEFAULT_EXPERIMENT_PREFIX + preset


def _artifact_root(uri: str) -> str | None:
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):]).resolve()
        return (db.parent / "mlartifacts").as_uri()
    return None


def _retry(fn, *args, attempts: int = 8, **kw):
    """SQLite allows one writer at a time; parallel jobs may find the database locked for a moment."""
    for i in range(attempts):
        try:
            return fn(*args, **kw)
        except Exception as e:  # mlflow wraps sqlalchemy's OperationalError in MlflowException
            if "locked" not in str(e).lower() or i == attempts - 1:
                raise
            time.sleep(0.2 * 2 ** i)


def init_store(uri: str, experiment: str) -> str:
    """Create the store and the experiment if absent; return the experiment id."""
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(uri)
    exp = _retry(client.get_experiment_by_name, experiment)
    if exp is not None:
        return exp.experiment_id
    try:
        return _retry(client.create_experiment, experiment, artifact_location=_artifact_root(uri))
    except Exception:
        exp = client.get_experiment_by_name(experiment)  # created by a parallel job meanwhile
        if exp is None:
            raise
        return exp.experiment_id


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)[:500]
    return out


class Tracker:
    """Logs one run; every call is a no-op after the first failure (reported once)."""

    def __init__(self, uri: str, experiment: str):
        self.uri, self.experiment = uri, experiment
        self.client = None
        self.run_id: str | None = None
        self.failed = False

    def _guard(self, what: str, fn, *args, **kw):
        if self.failed:
            return None
        try:
            return _retry(fn, *args, **kw)
        except Exception as e:
            self.failed = True
            print(f"warning: MLflow {what} failed ({type(e).__name__}: {e}); the run goes on, its result "
                  f"files are complete, but {self.uri} will not mirror it", file=sys.stderr)
            return None

    def start(self, run_name: str, params: dict, tags: dict, resume_run_id: str | None = None) -> str | None:
        def _start():
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(self.uri)
            if resume_run_id:
                try:
                    run = self.client.get_run(resume_run_id)
                    self.client.update_run(resume_run_id, status="RUNNING")
                    return run.info.run_id
                except Exception:
                    pass
            exp_id = init_store(self.uri, self.experiment)
            run = self.client.create_run(exp_id, run_name=run_name, tags={k: str(v) for k, v in tags.items()})
            from mlflow.entities import Param

            params_flat = flatten(params)
            items = [Param(k, v) for k, v in params_flat.items()]
            for i in range(0, len(items), 90):
                self.client.log_batch(run.info.run_id, params=items[i:i + 90])
            return run.info.run_id

        self.run_id = self._guard("run start", _start)
        return self.run_id

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if not self.run_id:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
        self._guard("metric logging", self.client.log_batch, self.run_id, metrics=items)

    def log_artifacts(self, paths: list[str | Path]) -> None:
        for p in paths:
            if self.run_id:
                self._guard("artifact upload", self.client.log_artifact, self.run_id, str(p))

    def finish(self, status: str = "FINISHED") -> None:
        if self.run_id:
            self._guard("run end", self.client.set_terminated, self.run_id, status)


def tag_runs(uri: str, mlflow_run_ids: list[str], key: str, value: str = "true") -> int:
    """Tag runs (e.g. with the targets they feed); returns how many were tagged. Failures only warn."""
    from mlflow.tracking import MlflowClient

    client, done = MlflowClient(uri), 0
    for rid in sorted(set(r for r in mlflow_run_ids if r)):
        try:
            _retry(client.set_tag, rid, key, value)
            done += 1
        except Exception as e:
            print(f"warning: could not tag MLflow run {rid} in {uri} ({type(e).__name__}: {e})", file=sys.stderr)
    return done
