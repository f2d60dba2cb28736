"""The analyses of a trained run, each declared once: its parameters, where the preset sets them, and
the function that runs it.

From a declaration follow the ``python -m tfsnn analyze <name>`` subcommand (one flag per parameter,
typed, with its help) and the arguments the pipeline passes (:meth:`Analysis.cli_args`, read from the
preset's ``experiments`` blocks). To add an analysis: write its function (``Setup`` and the parameters
in, a JSON-able dict out), declare it here, and name it in a target's run group
(``group.with_analysis(name)``).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import TfsnnError
from . import estimation, experiments

KINDS = {"int": int, "float": float, "str": str}


@dataclass(frozen=True)
class Param:
    name: str                 # keyword of the analysis function; the flag is --name-with-dashes
    kind: str                 # int, float, str, or a list of them: ints, floats
    help: str
    source: str               # where a preset sets it: "<experiments block>.<key>", or a top-level key
    choices: tuple = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Any:
        single = KINDS[self.kind.rstrip("s")] if self.kind in ("ints", "floats") else KINDS[self.kind]
        try:
            if self.kind in ("ints", "floats"):
                return [single(v) for v in text.split(",") if v.strip()]
            return single(text)
        except ValueError:
            raise TfsnnError(f"{self.flag} {text!r} is not {'a comma-separated list of ' if self.kind.endswith('s') else 'a'} "
                             f"{self.kind.rstrip('s')}{'s' if self.kind.endswith('s') else ''}") from None

    def value(self, config: dict) -> Any:
        block, _, key = self.source.rpartition(".")
        if not block:
            return config[key]   # top-level keys have their defaults in the preset schema
        try:
            return config["experiments"][block][key]
        except KeyError:
            raise TfsnnError(f"the preset sets no experiments.{block}.{key}, which the analysis parameter "
                             f"{self.name} reads; add it to the preset") from None

    def format(self, value: Any) -> str:
        return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


SPLIT = Param("split", "str", "split that fits, thresholds and searches are tuned on (test: as the paper)",
              "analysis_split", choices=("test", "val"))


@dataclass(frozen=True)
class Analysis:
    name: str
    help: str
    run: Callable[..., dict]             # (setup, **params, **results of ``reads``) -> result
    params: tuple[Param, ...] = ()
    reads: tuple[str, ...] = ()          # analyses of the same run whose results it needs

    def cli_args(self, config: dict) -> list[str]:
        """The subcommand and its flags for this preset (``--flag=value``, so negative numbers pass)."""
        return [self.name] + [f"{p.flag}={p.format(p.value(config))}" for p in self.params]

    def add_parser(self, sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
        p = sub.add_parser(self.name, help=self.help, description=self.help)
        for prm in self.params:
            p.add_argument(prm.flag, dest=prm.name, required=True, type=prm.parse, metavar="V",
                           choices=prm.choices or None, help=prm.help)
        for other in self.reads:
            p.add_argument(f"--{other}", dest=f"read_{other}", required=True, metavar="JSON",
                           help=f"the {other} result of this run (analysis-{other}.json)")
        return p

    def __call__(self, st, args: argparse.Namespace, read: Callable[[str], dict]) -> dict:
        kwargs = {p.name: getattr(args, p.name) for p in self.params}
        kwargs.update({other: read(getattr(args, f"read_{other}")) for other in self.reads})
        return self.run(st, **kwargs)


ANALYSES: dict[str, Analysis] = {}


def declare(analysis: Analysis) -> Analysis:
    ANALYSES[analysis.name] = analysis
    return analysis


def get(name: str) -> Analysis:
    if name not in ANALYSES:
        raise TfsnnError(f"no analysis named {name!r}; choose one of {', '.join(ANALYSES)}")
    return ANALYSES[name]


# ---------------------------------------------------------------------------- the paper's analyses


def _noise(kind: str) -> Callable[..., dict]:
    def run(st, grid, repeats, seed):
        return experiments.noise_experiment(st, kind, grid, repeats, seed)
    return run


def _gradcos(st, ts, batches):
    if len(ts) != 2:
        raise TfsnnError(f"gradcos compares two time steps; --ts has {len(ts)}: {ts}")
    return experiments.gradcos_experiment(st, ts[0], ts[1], batches)


def _landscape(st, alphas, batches, seed):
    return experiments.landscape_experiment(st, alphas, batches, seed)


def _calbatches(st, counts, repeats):
    return experiments.calbatches_experiment(st, counts, repeats)


declare(Analysis(
    "estimator", "fit acc(t) = sum K_i sqrt(log2 t_i) + c on random configurations and validate it (A.3, Fig. 7A, 8)",
    estimation.estimator_experiment,
    (Param("n_fit", "int", "configurations for the fit (5.3: 18)", "estimator.n_fit"),
     Param("n_val", "int", "validation configurations (5.3: 1000)", "estimator.n_val"),
     Param("repeats", "int", "BN calibrations per configuration, accuracies averaged (A.3: 3)", "estimator.repeats"),
     SPLIT,
     Param("seed", "int", "seed of the configurations", "estimator.seed"))))
declare(Analysis(
    "search", "the best configuration under the energy of uniform T_g, measured (5.3, A.9)",
    estimation.search_experiment,
    (Param("T_g", "int", "energy budget: that of uniform T_g", "estimator.T_g"),
     Param("repeats", "int", "BN calibrations of the found configuration", "estimator.repeats"),
     SPLIT),
    reads=("estimator",)))
declare(Analysis(
    "seenn", "SEENN-I early-exit thresholds for target average exit steps (Table 5)",
    experiments.seenn_experiment,
    (Param("targets", "floats", "target average exit steps", "seenn.targets"),
     Param("tol", "float", "tolerance on the average exit step", "seenn.tol"),
     SPLIT)))
for _kind, _fig in (("weight", "Fig. 5"), ("input", "Fig. 6")):
    declare(Analysis(
        f"noise-{_kind}", f"accuracy under Gaussian noise on the {_kind}s ({_fig})", _noise(_kind),
        (Param("grid", "floats", "noise variances sigma^2", f"noise.{_kind}_grid"),
         Param("repeats", "int", "draws per variance", "noise.repeats"),
         Param("seed", "int", "seed of the noise", "noise.seed"))))
declare(Analysis(
    "landscape", "1D filter-normalised loss landscape (A.10, Fig. 9)", _landscape,
    (Param("alphas", "floats", "steps along the direction", "landscape.alphas"),
     Param("batches", "int", "test batches", "landscape.batches"),
     Param("seed", "int", "seed of the direction", "landscape.seed"))))
declare(Analysis("gradients", "gradient lengths over the training set (A.11, Table 13)",
                 experiments.gradients_experiment))
declare(Analysis(
    "gradcos", "cosine similarity of the weight gradients at two time steps (4.2)", _gradcos,
    (Param("ts", "ints", "the two time steps", "gradients.gradcos_ts"),
     Param("batches", "int", "training batches", "gradients.gradcos_batches"))))
declare(Analysis(
    "calbatches", "accuracy after BN calibration on 1, 2, 5, ... batches (4.3.2)", _calbatches,
    (Param("counts", "ints", "calibration batch counts", "calbatches.counts"),
     Param("repeats", "int", "calibrations per count", "calbatches.repeats"))))
