"""MLflow mirror of the result files: one MLflow run per training run, one experiment per preset.

The store is SQLite, ``sqlite:///results/<preset>/mlflow.db`` unless ``MLFLOW_TRACKING_URI`` says
otherwise (e.g. ``http://<host>:5000``, a tracking server); a SQLite store's artifacts go next to the
database, a server's where the server puts them. MLflow is imported here only. The result files are the
source of truth: if the store fails mid-run, the run goes on and says so once on stderr.
"""
from __future__ import annotations

import contextlib
import getpass
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_EXPERIMENT_PREFIX = "tfsnn-"
# MLflow 3 opens an experiment as GenAI or classic ML; this tag says classic ML (UIs that read it; 3.17's
# follows the page's ?workflowType=, which runs_view_url sets).
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
NOTE = "mlflow.note.content"
RUN_ID_TAG = "tfsnn.run_id"
UI_URL = "http://127.0.0.1:5000"   # where `mlflow ui` serves a SQLite store


def default_uri(preset: str) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the preset's SQLite store under results/."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    from .layout import Layout

    return Layout(preset).mlflow_uri()


def experiment_name(preset: str) -> str:
    return DEFAULT_EXPERIMENT_PREFIX + preset


def runs_view_url(uri: str, experiment_id: str) -> str:
    """The experiment's classic runs table (not MLflow 3's GenAI view) in the UI serving ``uri``."""
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else UI_URL
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///"):]).resolve() if uri.startswith("sqlite:///") else None


def _artifact_root(uri: str) -> str | None:
    db = _sqlite_path(uri)
    return (db.parent / "mlartifacts").as_uri() if db else None


def _retry(fn, *args, attempts: int = 8, **kw):
    """SQLite allows one writer at a time; parallel jobs may find the database locked for a moment."""
    for i in range(attempts):
        try:
            return fn(*args, **kw)
        except Exception as e:  # mlflow wraps sqlalchemy's OperationalError in MlflowException
            if "locked" not in str(e).lower() or i == attempts - 1:
                raise
            time.sleep(0.2 * 2 ** i)


@contextlib.contextmanager
def _store_lock(uri: str):
    """Hold ``<db>.lock`` while touching a SQLite store first: MLflow creates (and upgrades) the tables of a
    new database on first use, and processes doing that together corrupt each other's schema."""
    db = _sqlite_path(uri)
    if db is None:
        yield
        return
    import fcntl

    db.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{db}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def init_store(uri: str, experiment: str) -> str:
    """Create the store and the experiment (classic ML kind) if absent; return the experiment id."""
    from mlflow.tracking import MlflowClient

    with _store_lock(uri):
        client = MlflowClient(uri)
        exp = _retry(client.get_experiment_by_name, experiment)
        if exp is None:
            try:
                _retry(client.create_experiment, experiment, artifact_location=_artifact_root(uri))
            except Exception:
                pass   # created meanwhile by a parallel job on a tracking server; the next line finds it
            exp = client.get_experiment_by_name(experiment)
            if exp is None:
                raise RuntimeError(f"MLflow experiment {experiment} could not be created in {uri}")
        if exp.tags.get(EXPERIMENT_KIND[0]) != EXPERIMENT_KIND[1]:
            _tag_experiment(client, experiment, *EXPERIMENT_KIND)
        if NOTE not in exp.tags:
            _tag_experiment(client, experiment, NOTE,
                            f"tfsnn training runs. Classic runs view: {runs_view_url(uri, exp.experiment_id)}")
        return exp.experiment_id


def _tag_experiment(client, experiment: str, key: str, value: str) -> None:
    """Set an experiment tag that parallel jobs may be setting too: a tracking server's store refuses the
    second insert of a tag (UNIQUE constraint), which is fine when the tag is then there."""
    exp = client.get_experiment_by_name(experiment)
    try:
        _retry(client.set_experiment_tag, exp.experiment_id, key, value)
    except Exception:
        if key not in client.get_experiment_by_name(experiment).tags:
            raise


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)[:500]
    return out


def _git(*args: str) -> str | None:
    repo = Path(__file__).resolve().parents[1]
    try:
        r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def git_tags() -> dict[str, str]:
    """Commit and dirty flag of the git checkout tfsnn runs from; none if it does not run from one."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != Path(__file__).resolve().parents[1]:
        return {}   # an installed copy, or a folder inside some other repository
    commit, changes = _git("rev-parse", "HEAD"), _git("status", "--porcelain")
    if not commit or changes is None:
        return {}
    return {"mlflow.source.git.commit": commit, "tfsnn.git.dirty": str(bool(changes)).lower()}


def source_tags() -> dict[str, str]:
    """MLflow's standard source tags for this process: entry point, LOCAL or (under SLURM) JOB, user."""
    from . import __version__

    try:
        user = getpass.getuser()
    except Exception:   # no user name in the environment or the password database
        user = "unknown"
    return {"mlflow.source.name": sys.argv[0] or "python", "mlflow.user": user, "tfsnn.version": __version__,
            "mlflow.source.type": "JOB" if os.environ.get("SLURM_JOB_ID") else "LOCAL", **git_tags()}


def host_tags(stage: str) -> dict[str, str]:
    """The host (and SLURM job) of one stage; the train and calibrate jobs may run on different nodes."""
    tags = {f"tfsnn.{stage}.host": socket.gethostname()}
    if os.environ.get("SLURM_JOB_ID"):
        tags[f"tfsnn.{stage}.slurm_job_id"] = os.environ["SLURM_JOB_ID"]
    return tags


def output_files() -> list[Path]:
    """The regular files this process's stdout and stderr go to (a Snakemake job's ``> {log} 2>&1``)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    files: dict[tuple[int, int], Path] = {}
    for fd in (1, 2):
        try:
            st, path = os.fstat(fd), Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue   # closed, or no /proc (not Linux)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 0 and path.is_file():   # not a deleted temporary file
            files.setdefault((st.st_dev, st.st_ino), path)
    return list(files.values())


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

    def start(self, run_id: str, params: dict, tags: dict, resume_run_id: str | None = None,
              results: str | Path | None = None, stage: str = "train") -> str | None:
        """Open the MLflow run of tfsnn run ``run_id``: ``resume_run_id`` if the store has it, else an
        unfinished run of the same ``run_id`` (left by a killed job), else a new one. Log the params, the
        tags, where this process runs (``stage``'s host) and a note naming the result folder."""
        def _start():
            from mlflow.tracking import MlflowClient

            exp_id = init_store(self.uri, self.experiment)   # first: a new SQLite store is made once, locked
            self.client = MlflowClient(self.uri)
            run = self._reusable(exp_id, run_id, resume_run_id)
            if run is None:
                run = self.client.create_run(exp_id, run_name=run_id, tags={RUN_ID_TAG: run_id})  # findable at once
            elif run.info.status != "RUNNING":
                self.client.update_run(run.info.run_id, status="RUNNING")
            note = f"tfsnn run {run_id}" + (f"; its result files (the source of truth): {Path(results).resolve()}"
                                            if results else "")
            note += f". Classic runs view: {runs_view_url(self.uri, exp_id)}"
            self._log_batch(run.info.run_id, flatten(params),
                            {**source_tags(), **host_tags(stage), **tags, RUN_ID_TAG: run_id, NOTE: note})
            return run.info.run_id

        self.run_id = self._guard("run start", _start)
        return self.run_id

    def _log_batch(self, mlflow_run_id: str, params: dict[str, str], tags: dict[str, Any]) -> None:
        from mlflow.entities import Param, RunTag

        p = [Param(k, v) for k, v in params.items()]
        t = [RunTag(k, str(v)) for k, v in tags.items()]
        for i in range(0, max(len(p), len(t)), 90):   # MLflow takes at most 100 params and 100 tags per batch
            self.client.log_batch(mlflow_run_id, params=p[i:i + 90], tags=t[i:i + 90])

    def _reusable(self, exp_id: str, run_id: str, resume_run_id: str | None):
        """The run to carry on: ``resume_run_id`` (from the checkpoint or train.json), or the newest unfinished
        run tagged with ``run_id``."""
        if resume_run_id:
            try:
                return self.client.get_run(resume_run_id)
            except Exception:
                pass   # not in this store (another store, or deleted): look by tag
        runs = self.client.search_runs([exp_id], f"tags.`{RUN_ID_TAG}` = '{run_id}'",
                                       order_by=["attributes.start_time DESC"])
        return next((r for r in runs if r.info.status != "FINISHED"), None)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if not self.run_id:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
        self._guard("metric logging", self.client.log_batch, self.run_id, metrics=items)

    def log_curve(self, name: str, values: dict) -> None:
        """One metric with one point per key (step = the key, e.g. T): MLflow draws it as a curve."""
        if not self.run_id or not values:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(name, float(v), now, int(k)) for k, v in sorted(values.items(), key=lambda kv: int(kv[0]))]
        self._guard("metric logging", self.client.log_batch, self.run_id, metrics=items)

    def log_artifacts(self, paths: list[str | Path]) -> None:
        for p in paths:
            if self.run_id:
                self._guard("artifact upload", self.client.log_artifact, self.run_id, str(p))

    def log_output(self) -> None:
        """Upload the log file this process writes to, if its output is redirected to one, as
        ``logs/<folder>/<name>`` (Snakemake: ``logs/train/<run id>.log``, ``logs/calibrate/<run id>.log``)."""
        for path in output_files():
            if self.run_id:
                self._guard("log upload", self.client.log_artifact, self.run_id, str(path), f"logs/{path.parent.name}")

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
