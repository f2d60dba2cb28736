"""The pipeline's plan: from a preset config to the training runs, evaluations and target specs.

The Snakefile asks the plan what each target needs; the plan builds :class:`RunConfig` objects, so
two targets that need the same training run get the same run id and share one job. A target's
*spec* (what the table or figure command receives) names the files it reads and what they mean.

Roles: the paper's datasets (``cifar10``, ``cifar100``, ...) are *roles*; the preset maps each role to
a concrete dataset (``digits100`` at smoke, ``fashion100`` at mini, ``cifar100`` at paper).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..config import RunConfig, RunConfigError
from ..errors import TfsnnError

PAPER_NAMES = {"cifar10": "CIFAR10", "cifar100": "CIFAR100", "imagenet": "ImageNet",
               "cifar10dvs": "CIFAR10-DVS", "ncaltech101": "N-Caltech101", "nmnist": "N-MNIST",
               "seqmnist": "seqMNIST", "shd": "SHD", "ssc": "SSC"}
ARCH_NAMES = {"resnet18": "ResNet-18", "resnet19": "ResNet-19", "resnet34": "ResNet-34", "vgg14": "VGG14",
              "bresnet50": "B-ResNet-50", "bresnet72": "B-ResNet-72", "dvs_resnet18": "ResNet-18",
              "nmnist_net": "official event-driven net", "fc_seqmnist": "FC SNN 2x64", "fc_shd": "FC SNN 3x128",
              "rnn_seqmnist": "RNN 2x64"}

# target -> (kind, caption); kind: table or figure
TARGETS: dict[str, tuple[str, str]] = {
    "table1": ("table", "Table 1: NMT vs SDT vs SDT* (CIFAR100, ResNet-18)"),
    "table2": ("table", "Table 2: comparison on static datasets at T = 6, 4, 2 (ResNet-19)"),
    "table4": ("table", "Table 4: accuracy at every inference time step"),
    "table6": ("table", "Table 6: MTT vs ANN-SNN conversion on CIFAR100 (ResNet-18)"),
    "table9": ("table", "Table 9: VGG14 on CIFAR100"),
    "table10": ("table", "Table 10: structures of B-ResNet-50/72"),
    "table11": ("table", "Table 11: accuracy at T = 6 given sampling number s and budget e x s"),
    "table12": ("table", "Table 12: T_max BN statistics vs statistics recalculated at each T"),
    "claims": ("table", "The paper's directional claims, checked on this preset's runs"),
    "fig4": ("figure", "Fig. 4: TTM grouping, 5 -> 3 down-sampling and 3 -> 5 up-sampling"),
    "fig7b": ("figure", "Fig. 7B: accuracy by MTT granularity g and SDT"),
    "fig7c": ("figure", "Fig. 7C: test accuracy during training with and without BN calibration"),
    "table5": ("table", "Table 5: SEENN-I early exit on MTT- and SDT-trained ResNet-19 (CIFAR10)"),
    "table8": ("table", "Table 8: B-ResNet-50/72 on CIFAR10, SDT T=4 vs MTT"),
    "table13": ("table", "Table 13: gradient lengths of MTT- and SDT-trained ResNet-18 (CIFAR100)"),
    "gradcos": ("table", "4.2: cosine similarity of weight gradients at two time steps"),
    "search": ("table", "5.3, A.3, A.9: estimator coefficients and the energy-bounded configuration search"),
    "calbatches": ("table", "4.3.2: accuracy after BN calibration with 1 to 50 batches"),
    "fig5": ("figure", "Fig. 5: accuracy under Gaussian noise on the weights, SDT vs MTT"),
    "fig6": ("figure", "Fig. 6: accuracy under Gaussian noise on the inputs, SDT vs MTT"),
    "fig7a": ("figure", "Fig. 7A: estimated vs measured accuracy of random configurations (CIFAR100)"),
    "fig8": ("figure", "Fig. 8: estimated vs measured accuracy of random configurations (CIFAR10)"),
    "fig9": ("figure", "Fig. 9: 1D loss landscapes of SDT- and MTT-trained ResNet-18 (CIFAR100)"),
    "table3": ("table", "Table 3: comparison on DVS datasets at T = 10 (ResNet-18)"),
    "table7": ("table", "Table 7: N-MNIST, SDT vs MTT (the official event-driven network)"),
    "table14": ("table", "Table 14: seqMNIST, RNN vs SNN SDT vs SNN MTT"),
    "table15": ("table", "Table 15: Spiking Heidelberg Digits, SDT vs MTT"),
    "table16": ("table", "Table 16: Spiking Speech Commands, SDT vs MTT"),
}


# Targets that exist only where the preset has the experiment they need (a preset may leave a dataset out).
NEEDS = {"table3": "dvs", "table7": "nmnist", "table14": "seqmnist", "table15": "shd", "table16": "ssc"}

# The claims' own parameters (Table 1 and 5.2 speak of T=1 and T=2; 4.1 compares NMT and SDT* at T=2).
CLAIM_LOW_TS = [1, 2]
CLAIM_NMT_T = 2
TABLE10_INPUT, TABLE10_CLASSES = 32, 100   # Table 10: CIFAR input; parameters counted with 100 classes
TABLE7_NEURON = "iaf_multispike"   # Table 7: the official event-driven code's neuron (tfsnn.iaf)


class PlanError(TfsnnError):
    pass


@dataclass
class Plan:
    config: dict
    runs: dict[str, RunConfig] = field(default_factory=dict)
    run_targets: dict[str, set] = field(default_factory=dict)

    def __post_init__(self):
        self.preset: str = self.config["preset"]
        self.results = f"results/{self.preset}"
        self.figures = f"figures/{self.preset}"
        self.targets = {t: v for t, v in TARGETS.items() if NEEDS.get(t, "comparison") in self.config["experiments"]}
        self.specs: dict[str, dict] = {}
        for target in self.targets:
            self.specs[target] = getattr(self, f"_spec_{target}")()

    # ------------------------------------------------------------------ runs

    def dataset(self, role: str) -> dict:
        try:
            return self.config["datasets"][role]
        except KeyError:
            raise PlanError(f"preset '{self.preset}' maps no dataset to the role '{role}'; add "
                            f"datasets: {role}: {{name: ..., root: ...}} to its config") from None

    def run(self, target: str, role: str, settings: dict, seed: int | None = None) -> str:
        """Register the run ``settings`` (on top of the preset's run_defaults) for ``target``; its id."""
        d = self.dataset(role)
        merged = {**copy.deepcopy(self.config.get("run_defaults", {})), **settings,
                  "dataset": d["name"], "data_root": d["root"]}
        if seed is not None:
            merged["seed"] = seed
        try:
            cfg = RunConfig.from_dict(merged, where=f"the settings of {target} in preset '{self.preset}'")
        except RunConfigError as e:
            raise PlanError(str(e)) from None
        rid = cfg.run_id()
        self.runs[rid] = cfg
        self.run_targets.setdefault(rid, set()).add(target)
        return rid

    def seeds(self, exp: dict) -> list[int]:
        n = exp.get("n_seeds")
        seeds = list(self.config["seeds"])
        return seeds[:n] if n else seeds

    def exp(self, name: str) -> dict:
        try:
            return self.config["experiments"][name]
        except KeyError:
            raise PlanError(f"preset '{self.preset}' has no experiments.{name} block") from None

    def _settings(self, exp: dict, **extra) -> dict:
        base = {k: exp[k] for k in ("arch", "t_max", "s") if k in exp}
        return {**base, **exp.get("settings", {}), **extra}

    # ------------------------------------------------------------------ paths

    def run_dir(self, rid: str) -> str:
        return f"{self.results}/runs/{rid}"

    def eval_file(self, rid: str) -> str:
        return f"{self.run_dir(rid)}/eval.json"

    def train_file(self, rid: str) -> str:
        return f"{self.run_dir(rid)}/train.json"

    def extra_eval(self, rid: str, kind: str) -> str:
        return f"{self.run_dir(rid)}/eval-{kind}.json"

    def analysis_file(self, rid: str, name: str) -> str:
        return f"{self.run_dir(rid)}/analysis-{name}.json"

    def table_files(self, name: str) -> list[str]:
        base = f"{self.results}/tables/{name}"
        return [f"{base}.csv", f"{base}.md", f"{base}.tex", f"{base}.provenance.json"]

    def figure_files(self, name: str) -> list[str]:
        base = f"{self.figures}/{name}"
        return [f"{base}.png", f"{base}.pdf", f"{base}.provenance.json"]

    def outputs(self, target: str) -> list[str]:
        kind = TARGETS[target][0]
        return self.table_files(target) if kind == "table" else self.figure_files(target)

    def inputs(self, target: str) -> list[str]:
        """Every file the target's builder reads (for Snakemake)."""
        return sorted(set(_files(self.specs[target])))

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

    ANALYSES = ("estimator", "search", "seenn", "noise-weight", "noise-input", "landscape", "gradients", "gradcos",
                "calbatches")

    def analysis_args(self, name: str) -> list[str]:
        """CLI arguments of ``python -m tfsnn analyze`` for an analysis of this preset."""
        split = ["--split", self.config.get("analysis_split", "test")]
        x = self.config["experiments"]
        lst = lambda v: ",".join(str(i) for i in v)
        if name == "estimator":
            e = x["estimator"]
            return ["estimator", "--n-fit", str(e["n_fit"]), "--n-val", str(e["n_val"]), "--repeats",
                    str(e["repeats"]), "--seed", str(e["seed"]), *split]
        if name == "search":
            e = x["estimator"]
            return ["search", "--T-g", str(e["T_g"]), "--repeats", str(e["repeats"]), *split]
        if name == "seenn":
            e = x["seenn"]
            return ["seenn", "--targets", lst(e["targets"]), "--tol", str(e["tol"]), *split]
        if name in ("noise-weight", "noise-input"):
            e = x["noise"]
            grid = e["weight_grid"] if name == "noise-weight" else e["input_grid"]
            return [name, "--grid", lst(grid), "--repeats", str(e["repeats"]), "--seed", str(e["seed"])]
        if name == "landscape":
            e = x["landscape"]
            return ["landscape", f"--alphas={lst(e['alphas'])}", "--batches", str(e["batches"]), "--seed", str(e["seed"])]
        if name == "gradients":
            return ["gradients"]
        if name == "gradcos":
            e = x["gradients"]
            return ["gradcos", "--ts", lst(e["gradcos_ts"]), "--batches", str(e["gradcos_batches"])]
        if name == "calbatches":
            e = x["calbatches"]
            return ["calbatches", "--counts", lst(e["counts"]), "--repeats", str(e["repeats"])]
        raise PlanError(f"unknown analysis {name!r}; analyses: {', '.join(self.ANALYSES)}")

    def analysis_inputs(self, rid: str, name: str) -> list[str]:
        """Files an analysis reads besides the run's model (the search reads the estimator's fit)."""
        return [self.analysis_file(rid, "estimator")] if name == "search" else []

    # ------------------------------------------------------------------ groups of runs

    def _group(self, target: str, role: str, exp: dict, label: str, seeds: list[int] | None = None,
               **extra) -> dict:
        seeds = seeds if seeds is not None else self.seeds(exp)
        rids = [self.run(target, role, self._settings(exp, **extra), seed=s) for s in seeds]
        cfg = self.runs[rids[0]]
        return {"label": label, "dataset": PAPER_NAMES.get(role, role), "stand_in": cfg.dataset,
                "arch": ARCH_NAMES.get(cfg.arch, cfg.arch), "evals": [self.eval_file(r) for r in rids]}

    def _analysis_runs(self, target: str) -> dict:
        """The ResNet-18 CIFAR100 (no AutoAugment) runs of the analysis experiments (A.2)."""
        e = self.exp("analysis")
        first = self.seeds(e)[:1]
        role = e["dataset"]
        out = {"mtt": self._group(target, role, e, "MTT", first, method="mtt", g=1, track_calibration=True),
               "nmt": self._group(target, role, e, "NMT", first, method="nmt"),
               "sdt": self._group(target, role, e, f"SDT (T={e['t_max']})", first, method="sdt")}
        return out

    # ------------------------------------------------------------------ targets

    def _spec_table1(self) -> dict:
        e = self.exp("analysis")
        first = self.seeds(e)[:1]
        runs = self._analysis_runs("table1")
        star = {str(T): self._group("table1", e["dataset"], e, f"SDT* T={T}", first, method="sdt", t_max=T)
                for T in e["sdt_star_ts"]}
        return {"ts": e["ts"], "sdt": runs["sdt"], "sdt_star": star, "nmt": runs["nmt"]}

    def _comparison(self, target: str) -> list[dict]:
        e = self.exp("comparison")
        return [self._group(target, role, e, "MTT", method="mtt") for role in e["datasets"]]

    def _imagenet(self, target: str) -> list[dict]:
        """ResNet-34 MTT on ImageNet (A.2), where the preset has it."""
        if "imagenet" not in self.config["experiments"]:
            return []
        e = self.exp("imagenet")
        return [self._group(target, e["dataset"], e, "MTT", method="mtt")]

    def _dvs(self, target: str) -> list[dict]:
        """DVS ResNet-18 MTT on CIFAR10-DVS and N-Caltech101 (A.2), where the preset has them."""
        if "dvs" not in self.config["experiments"]:
            return []
        e = self.exp("dvs")
        return [self._group(target, role, e, "MTT", method="mtt", **e.get("role_settings", {}).get(role, {}))
                for role in e["datasets"]]

    def _spec_table2(self) -> dict:
        return {"ts": self.exp("comparison")["ts_table2"],
                "groups": self._comparison("table2") + self._imagenet("table2")}

    def _spec_table4(self) -> dict:
        dvs = self._dvs("table4")
        return {"ts": self.exp("comparison")["ts_table4"], "groups": self._comparison("table4") + self._imagenet("table4"),
                "dvs_ts": self.exp("dvs")["ts_table4"] if dvs else [], "dvs_groups": dvs}

    def _spec_table3(self) -> dict:
        return {"T": self.exp("dvs")["t_max"], "groups": self._dvs("table3")}

    def _spec_table7(self) -> dict:
        """The official event-driven deployment recipe (train-event-driven/readme.md), per seed: phase 1 SDT
        training with BN; phases 2+3 one run each for the SDT and MTT rows that starts from phase 1's model,
        removes the biases, folds BN into the weights (locked) and fine-tunes with that method."""
        e = self.exp("nmnist")
        if "finetune" not in e:
            raise PlanError(f"preset '{self.preset}': experiments.nmnist needs a finetune block (epochs, optimizer, "
                            f"lr, weight_decay) for Table 7's fine-tuning phase")
        ft = e["finetune"]
        seeds = self.seeds(e)
        phase1 = self._group("table7", e["dataset"], e, "SDT, phase 1 (BN, before folding)", seeds, method="sdt",
                             neuron=TABLE7_NEURON)
        tune = {"neuron": TABLE7_NEURON, "fold_bn": True, "calib_batches": 0, "track_calibration": False,
                **{k: ft[k] for k in ("epochs", "optimizer", "lr", "weight_decay")}}
        rows = [self._finetuned("table7", e, label, method, seeds, phase1, tune)
                for label, method in (("SDT", "sdt"), ("MTT", "mtt"))]
        first = self.runs[phase1["evals"][0].split("/")[-2]]
        recipe = {"neuron": TABLE7_NEURON, "phase1": {k: getattr(first, k) for k in ("epochs", "optimizer", "lr")},
                  "finetune": dict(ft), "s": first.s, "t_min": first.t_min}
        return {"T": e["t_max"], "rows": [phase1, *rows], "recipe": recipe}

    def _finetuned(self, target: str, e: dict, label: str, method: str, seeds: list[int], parents: dict,
                   tune: dict) -> dict:
        """One row of fine-tuning runs, seed by seed from the parent group's run of the same seed."""
        per_seed = [self._group(target, e["dataset"], e, label, [seed], method=method,
                                init_from=f.split("/")[-2], **tune)
                    for seed, f in zip(seeds, parents["evals"])]
        return {**per_seed[0], "evals": [g["evals"][0] for g in per_seed]}

    def _sequence(self, target: str, name: str, rnn: bool = False) -> dict:
        """A.12: FC SNNs with SDT (every layer at the input length) and MTT (monotone non-increasing)."""
        e = self.exp(name)
        L = e["t_max"]
        rows = []
        if rnn:
            rows.append(self._group(target, e["dataset"], e, "RNN", method="sdt", arch=e["rnn_arch"], eval_ts=[L]))
        rows.append(self._group(target, e["dataset"], e, "SNN SDT", method="sdt", eval_ts=[L]))
        rows.append(self._group(target, e["dataset"], e, "SNN MTT", method="mtt", monotone=True, eval_ts=[L]))
        return {"T": L, "rows": rows}

    def _spec_table14(self) -> dict:
        return self._sequence("table14", "seqmnist", rnn=True)

    def _spec_table15(self) -> dict:
        return self._sequence("table15", "shd")

    def _spec_table16(self) -> dict:
        return self._sequence("table16", "ssc")

    def _spec_table6(self) -> dict:
        e = self.exp("conversion")
        g = self._group("table6", e["dataset"], e, "MTT", self.seeds(e)[:1], method="mtt")
        kind = self.eval_kind(e["ts"])
        g["evals"] = [f.replace("/eval.json", f"/eval-{kind}.json") for f in g["evals"]]
        return {"ts": e["ts"], "groups": [g], "augmentation": e.get("augmentation_note", "")}

    def _spec_table9(self) -> dict:
        e = self.exp("vgg")
        return {"ts": e["ts"], "groups": [self._group("table9", e["dataset"], e, "MTT", method="mtt")]}

    def _spec_table10(self) -> dict:
        e = self.config["experiments"].get("structures", {})
        return {"archs": e.get("archs", ["bresnet50", "bresnet72"]), "input_size": TABLE10_INPUT,
                "num_classes": TABLE10_CLASSES}

    def _spec_table11(self) -> dict:
        e, a = self.exp("sampling"), self.exp("analysis")
        first = self.seeds(a)[:1]
        mtt = self._analysis_runs("table11")["mtt"]
        mtt_cfg = self.runs[mtt["evals"][0].split("/")[-2]]
        cells = []
        for s in e["s_values"]:
            for budget in e["budgets"]:
                if budget % s:
                    raise PlanError(f"table11: budget {budget} is not divisible by s={s}; epochs = budget / s "
                                    f"must be a whole number (choose budgets that are multiples of every s)")
                if (s, budget // s) == (mtt_cfg.s, mtt_cfg.epochs):  # the analysis MTT run itself
                    g = {**mtt, "label": f"s={s}"}
                else:
                    g = self._group("table11", a["dataset"], a, f"s={s}", first, method="mtt", g=1, s=s,
                                    epochs=budget // s)
                cells.append({"s": s, "budget": budget, **g})
        return {"T": a["t_max"], "cells": cells}

    def _spec_table12(self) -> dict:
        e, c = self.exp("bn_stats"), self.exp("comparison")
        g = self._group("table12", e.get("dataset", "cifar100"), c, "MTT", self.seeds(c)[:1], method="mtt")
        kind = self.eval_kind(e["ts"], recalibrate=True, repeats=e["repeats"])
        g["recalibrated"] = [f.replace("/eval.json", f"/eval-{kind}.json") for f in g["evals"]]
        return {"ts": e["ts"], "repeats": e["repeats"], "group": g}

    def _spec_fig4(self) -> dict:
        return {"down": [5, 3], "up": [3, 5]}

    def _spec_fig7b(self) -> dict:
        e = self.exp("analysis")
        first = self.seeds(e)[:1]
        runs = self._analysis_runs("fig7b")
        lines = []
        for g in e["granularities"]:
            if g == 1:
                lines.append({**runs["mtt"], "label": "g=1 (MTT)"})
            elif g >= self._n_stages(e["arch"]):
                lines.append({**runs["nmt"], "label": f"g={g} (NMT)"})
            else:
                lines.append(self._group("fig7b", e["dataset"], e, f"g={g}", first, method="mtt", g=g))
        lines.append(runs["sdt"])
        return {"ts": e["ts"], "lines": lines}

    def _spec_fig7c(self) -> dict:
        run = self._analysis_runs("fig7c")["mtt"]
        return {"T": self.exp("analysis")["t_max"], "train": [f.replace("/eval.json", "/train.json")
                                                              for f in run["evals"]], "group": run}

    def _spec_claims(self) -> dict:
        runs = self._analysis_runs("claims")
        return {"t_max": self.exp("analysis")["t_max"], "mtt": runs["mtt"], "nmt": runs["nmt"], "sdt": runs["sdt"],
                "sdt_star": self.specs["table1"]["sdt_star"], "margin": self.config.get("claims_margin", 0.0),
                "low_ts": CLAIM_LOW_TS, "nmt_T": CLAIM_NMT_T}

    def _with_analysis(self, group: dict, name: str) -> dict:
        files = [self.analysis_file(f.split("/")[-2], name) for f in group["evals"]]
        return {**group, name: files}

    def _spec_table5(self) -> dict:
        c = self.exp("comparison")
        first = self.seeds(c)[:1]
        mtt = self._group("table5", "cifar10", c, "SEENN-I + MTT", first, method="mtt")
        sdt = self._group("table5", "cifar10", c, f"SEENN-I + SDT (T={c['t_max']})", first, method="sdt")
        return {"targets": self.exp("seenn")["targets"],
                "rows": [self._with_analysis(mtt, "seenn"), self._with_analysis(sdt, "seenn")]}

    def _spec_table8(self) -> dict:
        e = self.exp("deep")
        cols = []
        for arch in e["archs"]:
            sdt = self._group("table8", e["dataset"], e, f"SDT T={e['t_max']}", self.seeds(e)[:1], method="sdt",
                              arch=arch)
            mtt = self._group("table8", e["dataset"], e, f"MTT T={e['t_max']}", self.seeds(e)[:1], method="mtt",
                              arch=arch)
            cols.append({"arch": ARCH_NAMES.get(arch, arch), "sdt": sdt, "mtt": mtt})
        return {"T": e["t_max"], "columns": cols}

    def _analysis_pair(self, target: str, name: str) -> list[dict]:
        runs = self._analysis_runs(target)
        return [self._with_analysis(runs["mtt"], name), self._with_analysis(runs["sdt"], name)]

    def _spec_table13(self) -> dict:
        return {"rows": self._analysis_pair("table13", "gradients")}

    def _spec_gradcos(self) -> dict:
        return {"ts": self.exp("gradients")["gradcos_ts"], "rows": self._analysis_pair("gradcos", "gradcos")}

    def _estimator_group(self, target: str, role: str) -> dict:
        """The analysis MTT run (ResNet-18, no AutoAugment) on ``role``, with its estimator fit."""
        a = self.exp("analysis")
        g = self._group(target, role, a, "MTT", self.seeds(a)[:1], method="mtt", g=1, track_calibration=True)
        return self._with_analysis(g, "estimator")

    def _spec_search(self) -> dict:
        e = self.exp("estimator")
        rows = [self._with_analysis(self._estimator_group("search", role), "search") for role in e["datasets"]]
        return {"T_g": e["T_g"], "rows": rows}

    def _spec_calbatches(self) -> dict:
        return {"group": self._with_analysis(self._analysis_runs("calbatches")["mtt"], "calbatches")}

    def _spec_fig5(self) -> dict:
        return {"kind": "weight", "lines": self._analysis_pair("fig5", "noise-weight")}

    def _spec_fig6(self) -> dict:
        return {"kind": "input", "lines": self._analysis_pair("fig6", "noise-input")}

    def _spec_fig7a(self) -> dict:
        return {"group": self._estimator_group("fig7a", "cifar100")}

    def _spec_fig8(self) -> dict:
        return {"group": self._estimator_group("fig8", "cifar10")}

    def _spec_fig9(self) -> dict:
        return {"lines": self._analysis_pair("fig9", "landscape")}

    @staticmethod
    def _n_stages(arch: str) -> int:
        from ..models import build_model

        return build_model(arch, 10, width=1 / 64).n_stages


def _files(obj: Any) -> list[str]:
    """Every results/... path in a spec (the builder's inputs)."""
    if isinstance(obj, str):
        return [obj] if obj.startswith("results/") and obj.endswith(".json") else []
    if isinstance(obj, dict):
        return [f for v in obj.values() for f in _files(v)]
    if isinstance(obj, list):
        return [f for v in obj for f in _files(v)]
    return []
