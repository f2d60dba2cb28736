"""Where everything lives: every results path of a preset, named once.

The Snakemake rules and the Python code both ask this module for paths; nothing assembles or parses a
results path by hand. Pass wildcard names (``Layout("{preset}").eval_file("{run}")``) to get the rules'
patterns.

::

    results/<preset>/data/<dataset>.json                  dataset manifest (prepare_data)
    results/<preset>/runs/<run id>/trained.pt, train.json  train stage
    results/<preset>/runs/<run id>/model.pt, eval.json     calibration stage
    results/<preset>/runs/<run id>/eval-<kind>.json        extra evaluations
    results/<preset>/runs/<run id>/analysis-<name>.json    analyses
    results/<preset>/tables/<name>.{csv,md,tex,provenance.json}
    figures/<preset>/<name>.{png,pdf,provenance.json}
    results/<preset>/logs/<step>/<name>.log
    results/<preset>/mlflow.db, mlflow.ready               the MLflow store and its marker
"""
from __future__ import annotations

from dataclasses import dataclass

TABLE_SUFFIXES = (".csv", ".md", ".tex", ".provenance.json", ".html")   # .html: what the report shows
FIGURE_SUFFIXES = (".png", ".pdf", ".provenance.json")


@dataclass(frozen=True)
class Layout:
    preset: str
    results_root: str = "results"
    figures_root: str = "figures"

    @property
    def results(self) -> str:
        return f"{self.results_root}/{self.preset}"

    @property
    def figures(self) -> str:
        return f"{self.figures_root}/{self.preset}"

    # ------------------------------------------------------------------ runs

    def run_dir(self, run: str) -> str:
        return f"{self.results}/runs/{run}"

    def trained_model(self, run: str) -> str:
        return f"{self.run_dir(run)}/trained.pt"

    def train_file(self, run: str) -> str:
        return f"{self.run_dir(run)}/train.json"

    def model_file(self, run: str) -> str:
        return f"{self.run_dir(run)}/model.pt"

    def eval_file(self, run: str) -> str:
        return f"{self.run_dir(run)}/eval.json"

    def extra_eval(self, run: str, kind: str) -> str:
        return f"{self.run_dir(run)}/eval-{kind}.json"

    def analysis_file(self, run: str, name: str) -> str:
        return f"{self.run_dir(run)}/analysis-{name}.json"

    # ------------------------------------------------------------------ targets

    def table_prefix(self, name: str) -> str:
        return f"{self.results}/tables/{name}"

    def figure_prefix(self, name: str) -> str:
        return f"{self.figures}/{name}"

    def table_files(self, name: str) -> list[str]:
        return [self.table_prefix(name) + s for s in TABLE_SUFFIXES]

    def figure_files(self, name: str) -> list[str]:
        return [self.figure_prefix(name) + s for s in FIGURE_SUFFIXES]

    def outputs(self, kind: str, name: str) -> list[str]:
        return self.table_files(name) if kind == "table" else self.figure_files(name)

    # ------------------------------------------------------------------ the rest

    def data_manifest(self, dataset: str) -> str:
        return f"{self.results}/data/{dataset}.json"

    def log(self, step: str, name: str) -> str:
        return f"{self.results}/logs/{step}/{name}.log"

    def mlflow_file(self, suffix: str = "db") -> str:
        """The preset's MLflow SQLite store (``db``) and the marker its creating rule writes (``ready``)."""
        return f"{self.results}/mlflow.{suffix}"

    def mlflow_uri(self) -> str:
        return f"sqlite:///{self.mlflow_file()}"
