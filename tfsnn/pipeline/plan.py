"""The pipeline's plan: from a preset config to the training runs, evaluations and target specs.

The Snakefile asks the plan what each target needs. Targets are declared in
:mod:`tfsnn.pipeline.targets` (the paper's in :mod:`tfsnn.pipeline.paper`); their spec functions ask
the plan for groups of runs (:meth:`Plan.group`), and the plan builds :class:`RunConfig` objects, so
two targets that need the same training run get the same run id and share one job.

Roles: the paper's datasets (``cifar10``, ``cifar100``, ...) are *roles*; the preset maps each role to
a concrete dataset (``digits100`` at smoke, ``fashion100`` at mini, ``cifar100`` at paper).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..config import RunConfig, RunConfigError
from ..errors import TfsnnError
from ..layout import Layout
from . import rehearsal
from . import targets as target_registry

PAPER_NAMES = {"cifar10": "CIFAR10", "cifar100": "CIFAR100", "imagenet": "ImageNet",
               "cifar10dvs": "CIFAR10-DVS", "ncaltech101": "N-Caltech101", "nmnist": "N-MNIST",
               "seqmnist": "seqMNIST", "shd": "SHD", "ssc": "SSC"}
ARCH_NAMES = {"resnet18": "ResNet-18", "resnet19": "ResNet-19", "resnet34": "ResNet-34", "vgg14": "VGG14",
              "bresnet50": "B-ResNet-50", "bresnet72": "B-ResNet-72", "dvs_resnet18": "ResNet-18",
              "nmnist_net": "official event-driven net", "fc_seqmnist": "FC SNN 2x64", "fc_shd": "FC SNN 3x128",
              "rnn_seqmnist": "RNN 2x64"}


@functools.lru_cache(maxsize=None)
def arch_stages(arch: str) -> int:
    """The number of stages of ``arch`` (built once per process at a tiny width)."""
    from ..models import build_model

    return build_model(arch, 10, width=1 / 64).n_stages


class PlanError(TfsnnError):
    pass


def validated(config: dict) -> dict:
    """``config`` checked against the preset schema (workflow/schemas/config.schema.yaml, whose defaults
    are the only ones: the rules and the plan read config[key]), with the defaults filled in and
    ``--config`` strings read as YAML (in place); an error in one line naming the key."""
    from .preset_schema import PresetError, check

    try:
        return check(config)
    except PresetError as e:
        raise PlanError(str(e)) from None


@dataclass(frozen=True)
class RunGroup:
    """One row, line or cell of a target: the runs of one setting (one per seed) and what is read of them.

    ``analyses`` name the analyses whose results the builder reads (``analysis-<name>.json``);
    ``evals_kind`` replaces ``eval.json`` by an extra evaluation (``eval-<kind>.json``); ``extras`` map a
    spec key to an extra evaluation read beside ``eval.json``; ``fields`` are plain values the builder
    reads with the group (e.g. Table 11's ``s`` and budget).
    """
    label: str
    dataset: str
    stand_in: str
    arch: str
    runs: tuple[str, ...]
    analyses: tuple[str, ...] = ()
    evals_kind: str | None = None
    extras: tuple[tuple[str, str], ...] = ()
    fields: tuple[tuple[str, Any], ...] = ()

    def replace(self, **changes) -> "RunGroup":
        return dataclasses.replace(self, **changes)

    def with_analysis(self, name: str) -> "RunGroup":
        return self.replace(analyses=self.analyses + (name,))

    def to_spec(self, layout: Layout) -> dict:
        """What the builder receives: the group's labels and the paths of the files it reads."""
        evals = [layout.extra_eval(r, self.evals_kind) if self.evals_kind else layout.eval_file(r) for r in self.runs]
        out = {"label": self.label, "dataset": self.dataset, "stand_in": self.stand_in, "arch": self.arch,
               "evals": evals}
        out.update({name: [layout.analysis_file(r, name) for r in self.runs] for name in self.analyses})
        out.update({key: [layout.extra_eval(r, kind) for r in self.runs] for key, kind in self.extras})
        out.update(dict(self.fields))
        return out


def to_json(spec: Any, layout: Layout) -> Any:
    """A spec with its run groups turned into path dicts (what the table and figure commands read)."""
    if isinstance(spec, RunGroup):
        return spec.to_spec(layout)
    if isinstance(spec, dict):
        return {k: to_json(v, layout) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [to_json(v, layout) for v in spec]
    return spec


def spec_files(spec: Any) -> list[str]:
    """Every result file a JSON spec names (the builder's inputs, for Snakemake)."""
    if isinstance(spec, str):
        return [spec] if spec.endswith(".json") and "/runs/" in spec else []
    if isinstance(spec, dict):
        return [f for v in spec.values() for f in spec_files(v)]
    if isinstance(spec, list):
        return [f for v in spec for f in spec_files(v)]
    return []


@dataclass
class Plan:
    config: dict
    runs: dict[str, RunConfig] = field(default_factory=dict)
    run_targets: dict[str, set] = field(default_factory=dict)

    def __post_init__(self):
        validated(self.config)
        if self.config["rehearsal"]:
            self._rehearse()
        self.preset: str = self.config["preset"]
        self.layout = Layout(self.preset)
        declared = target_registry.load(tuple(self.config["target_modules"]))
        self.targets = {name: t for name, t in declared.items() if t.needs in self.config["experiments"]}
        self.typed_specs: dict[str, dict] = {name: t.spec(self) for name, t in self.targets.items()}
        self.specs: dict[str, dict] = {name: to_json(s, self.layout) for name, s in self.typed_specs.items()}

    def _rehearse(self) -> None:
        """The preset as its CPU rehearsal (tfsnn.pipeline.rehearsal), in place: the rules read config too."""
        unknown = sorted(set(self.config["datasets"]) - set(rehearsal.ROLE_STANDINS))
        if unknown:
            raise PlanError(f"rehearsal: no stand-in for the dataset role(s) {', '.join(unknown)}; rehearse a "
                            f"preset whose datasets are the paper's roles ({', '.join(rehearsal.ROLE_STANDINS)})")
        rehearsal.rehearse_config(self.config)

    # ------------------------------------------------------------------ runs

    def dataset(self, role: str) -> dict:
        try:
            return self.config["datasets"][role]
        except KeyError:
            raise PlanError(f"preset '{self.preset}' maps no dataset to the role '{role}'; add "
                            f"datasets: {role}: {{name: ..., root: ...}} to its config") from None

    def run(self, target: str, role: str, settings: dict, seed: int | None = None,
            dataset: dict | None = None) -> str:
        """Register the run ``settings`` (on top of the preset's run_defaults) for ``target``; its id. The
        run reads the preset's dataset for ``role``, or ``dataset`` (``{name, root}``) where given."""
        d = dataset or self.dataset(role)
        merged = {**copy.deepcopy(self.config["run_defaults"]), **settings,
                  "dataset": d["name"], "data_root": d["root"]}
        if seed is not None:
            merged["seed"] = seed
        if self.config["rehearsal"]:
            merged = rehearsal.rehearse_run(merged)
        try:
            cfg = RunConfig.from_dict(merged, where=f"the settings of {target} in preset '{self.preset}'")
        except RunConfigError as e:
            raise PlanError(str(e)) from None
        rid = cfg.run_id()
        self.runs[rid] = cfg
        self.run_targets.setdefault(rid, set()).add(target)
        return rid

    def dataset_roots(self) -> dict[str, str]:
        """Each dataset a run reads -> its folder (``prepare_data`` writes it there); a dataset given two
        folders is refused, since both would share one manifest."""
        roots: dict[str, str] = {}
        pairs = [(d["name"], d["root"]) for d in self.config["datasets"].values()]
        pairs += [(cfg.dataset, cfg.data_root) for cfg in self.runs.values()]
        for name, root in pairs:
            if roots.setdefault(name, root) != root:
                raise PlanError(f"dataset {name} is given two folders, {roots[name]} and {root}; give every "
                                f"mention of {name} (datasets, role_datasets) the same root")
        return roots

    def priority(self, run_id: str) -> int:
        """A training job's scheduling priority, its estimated cost: epochs x passes per iteration (``s``; one
        for SDT, whose ``s`` passes run once) x T_max x training samples (``data.TRAIN_SIZES``) x the cube root
        of its input values per time step (``data.INPUT_SIZES``) x the network's stages (its depth in blocks).
        Snakemake starts the highest first, so on a few cores the long runs start early instead of ending alone
        (a smoke ``table4`` on 2 cores ran its last 50 s on one core when its ResNet-34 run started last; in
        smoke ``all`` the B-ResNets, a third of the training time, started after 25 minutes while their cost
        without depth ranked them 30th to 33rd of 40)."""
        from ..data.registry import INPUT_SIZES, TRAIN_SIZES

        cfg = self.runs[run_id]
        size = INPUT_SIZES.get(cfg.dataset, 1) ** (1 / 3)
        passes = 1 if cfg.method == "sdt" else cfg.s
        return round(cfg.epochs * passes * cfg.t_max * TRAIN_SIZES.get(cfg.dataset, 1) * size
                     * self.n_stages(cfg.arch))

    @cached_property
    def _prepare_order(self) -> list[str]:
        cost: dict[str, int] = {}
        for rid, cfg in self.runs.items():
            cost[cfg.dataset] = max(cost.get(cfg.dataset, 0), self.priority(rid))
        return sorted(cost, key=lambda d: (cost[d], d))

    def prepare_rank(self, dataset: str) -> int:
        """Where ``dataset`` comes among the datasets to prepare: the higher, the costlier the costliest run
        that reads it (so that run can start first); 0 for a dataset no run reads."""
        order = self._prepare_order
        return order.index(dataset) + 1 if dataset in order else 0

    def seeds(self, exp: dict) -> list[int]:
        n = exp.get("n_seeds")
        seeds = list(self.config["seeds"])
        return seeds[:n] if n else seeds

    def exp(self, name: str) -> dict:
        try:
            return self.config["experiments"][name]
        except KeyError:
            raise PlanError(f"preset '{self.preset}' has no experiments.{name} block") from None

    def has(self, name: str) -> bool:
        return name in self.config["experiments"]

    @staticmethod
    def settings(exp: dict, **extra) -> dict:
        base = {k: exp[k] for k in ("arch", "t_max", "s") if k in exp}
        return {**base, **exp.get("settings", {}), **extra}

    def group(self, target: str, role: str, exp: dict, label: str, seeds: list[int] | None = None,
              **extra) -> RunGroup:
        """The runs of one setting (``exp``'s settings, its ``arch_settings`` for the runs' architecture, its
        ``role_settings`` for ``role``, then ``extra``), one per seed, registered for ``target``; they read
        ``exp``'s ``role_datasets`` entry for ``role`` where it has one, else the preset's dataset for ``role``."""
        seeds = seeds if seeds is not None else self.seeds(exp)
        arch = extra.get("arch", exp.get("arch"))
        extra = {**exp.get("arch_settings", {}).get(arch, {}), **exp.get("role_settings", {}).get(role, {}), **extra}
        dataset = exp.get("role_datasets", {}).get(role)
        rids = tuple(self.run(target, role, self.settings(exp, **extra), seed=s, dataset=dataset) for s in seeds)
        cfg = self.runs[rids[0]]
        return RunGroup(label=label, dataset=PAPER_NAMES.get(role, role), stand_in=cfg.dataset,
                        arch=ARCH_NAMES.get(cfg.arch, cfg.arch), runs=rids)

    # ------------------------------------------------------------------ files of a target

    def outputs(self, target: str) -> list[str]:
        return self.layout.outputs(self.targets[target].kind, target)

    def inputs(self, target: str) -> list[str]:
        """Every file the target's builder reads (for Snakemake)."""
        return sorted(set(spec_files(self.specs[target])))

    def caption(self, target: str) -> str:
        return self.targets[target].caption

    # ------------------------------------------------------------------ evaluations

    @staticmethod
    def eval_kind(ts: list[int], recalibrate: bool = False, repeats: int = 1) -> str:
        steps = "-".join(str(T) for T in ts)
        return f"recal-{steps}-r{repeats}" if recalibrate else f"uniform-{steps}"

    @staticmethod
    def eval_args(kind: str) -> list[str]:
        """CLI arguments of ``python -m tfsnn eval`` for an evaluation kind."""
        head, _, rest = kind.partition("-")
        if head == "uniform":
            return ["--T", rest.replace("-", ",")]
        if head == "recal":
            steps, _, reps = rest.rpartition("-r")
            return ["--T", steps.replace("-", ","), "--calibrate", "--repeats", reps]
        raise PlanError(f"unknown evaluation kind {kind!r}")

    # ------------------------------------------------------------------ analyses

    def analysis_args(self, name: str) -> list[str]:
        """CLI arguments of ``python -m tfsnn analyze`` for an analysis of this preset (from its declaration)."""
        from ..analysis.registry import get

        return get(name).cli_args(self.config)

    def analysis_inputs(self, rid: str, name: str) -> list[str]:
        """Result files an analysis reads besides the run's model (the search reads the estimator's fit)."""
        from ..analysis.registry import get

        return [self.layout.analysis_file(rid, other) for other in get(name).reads]

    @staticmethod
    def n_stages(arch: str) -> int:
        return arch_stages(arch)
