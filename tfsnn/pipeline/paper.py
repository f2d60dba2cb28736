"""The paper's tables and figures, one declaration each (see :mod:`tfsnn.pipeline.targets`).

Each spec function receives the :class:`~tfsnn.pipeline.plan.Plan`, registers the runs its target
needs through ``plan.group`` and returns the spec its builder reads. Settings come from the preset's
``experiments`` blocks (``config/*.yaml``).
"""
from __future__ import annotations

from ..report import analysis_tables as at
from ..report import figures as fg
from ..report import tables as tb
from .plan import Plan, PlanError, RunGroup
from .targets import figure, table

# The claims' own parameters (Table 1 and 5.2 speak of T=1 and T=2; 4.1 compares NMT and SDT* at T=2).
CLAIM_LOW_TS = [1, 2]
CLAIM_NMT_T = 2
TABLE10_INPUT, TABLE10_CLASSES = 32, 100   # Table 10: CIFAR input; parameters counted with 100 classes
TABLE7_NEURON = "iaf_multispike"   # Table 7: the official event-driven code's neuron (tfsnn.iaf)


# ---------------------------------------------------------------------------- shared groups of runs


def steps(plan: Plan, block: str, key: str, t_max_block: str | None = None) -> list[int]:
    """``experiments.<block>.<key>``: time steps a model trained up to T_max is read at, refused when the
    DAG is built if one is beyond T_max (it would otherwise fail only after all training)."""
    ts = plan.exp(block)[key]
    t_max = plan.exp(t_max_block or block)["t_max"]
    beyond = [T for T in ts if T > t_max]
    if beyond:
        raise PlanError(f"experiments.{block}.{key} asks for T={beyond} but the runs it reads are trained up to "
                        f"t_max={t_max}; use time steps in 1..{t_max} or raise t_max")
    return ts



def analysis_runs(plan: Plan, target: str) -> dict[str, RunGroup]:
    """The ResNet-18 CIFAR100 (no AutoAugment) runs of the analysis experiments (A.2)."""
    e = plan.exp("analysis")
    first = plan.seeds(e)[:1]
    role = e["dataset"]
    return {"mtt": plan.group(target, role, e, "MTT", first, method="mtt", g=1, track_calibration=True),
            "nmt": plan.group(target, role, e, "NMT", first, method="nmt"),
            "sdt": plan.group(target, role, e, f"SDT (T={e['t_max']})", first, method="sdt")}


def sdt_star(plan: Plan, target: str) -> dict[str, RunGroup]:
    """Table 1's SDT*: one model per T, trained and tested at that T, with the experiment's
    ``sdt_star_settings`` for that T on top of its settings."""
    e = plan.exp("analysis")
    first = plan.seeds(e)[:1]
    per_t = {str(T): s for T, s in e.get("sdt_star_settings", {}).items()}   # YAML ints, JSON strings
    stray = sorted(set(per_t) - {str(T) for T in e["sdt_star_ts"]}, key=int)
    if stray:
        raise PlanError(f"experiments.analysis.sdt_star_settings: T={stray[0]} is not one of sdt_star_ts "
                        f"{e['sdt_star_ts']}; add it there or remove its settings")
    return {str(T): plan.group(target, e["dataset"], e, f"SDT* T={T}", first,
                               **{**per_t.get(str(T), {}), "method": "sdt", "t_max": T})
            for T in e["sdt_star_ts"]}


def comparison(plan: Plan, target: str) -> list[RunGroup]:
    e = plan.exp("comparison")
    return [plan.group(target, role, e, "MTT", method="mtt") for role in e["datasets"]]


def imagenet(plan: Plan, target: str) -> list[RunGroup]:
    """ResNet-34 MTT on ImageNet (A.2), where the preset has it."""
    if not plan.has("imagenet"):
        return []
    e = plan.exp("imagenet")
    return [plan.group(target, e["dataset"], e, "MTT", method="mtt")]


def dvs(plan: Plan, target: str) -> list[RunGroup]:
    """DVS ResNet-18 MTT on CIFAR10-DVS and N-Caltech101 (A.2), where the preset has them."""
    if not plan.has("dvs"):
        return []
    e = plan.exp("dvs")
    return [plan.group(target, role, e, "MTT", method="mtt") for role in e["datasets"]]


def analysis_pair(plan: Plan, target: str, name: str) -> list[RunGroup]:
    runs = analysis_runs(plan, target)
    return [runs["mtt"].with_analysis(name), runs["sdt"].with_analysis(name)]


def estimator_group(plan: Plan, target: str, role: str) -> RunGroup:
    """The analysis MTT run (ResNet-18, no AutoAugment) on ``role``, with its estimator fit."""
    a = plan.exp("analysis")
    g = plan.group(target, role, a, "MTT", plan.seeds(a)[:1], method="mtt", g=1, track_calibration=True)
    return g.with_analysis("estimator")


def sequence(plan: Plan, target: str, name: str, rnn: bool = False) -> dict:
    """A.12: FC SNNs with SDT (every layer at the input length) and MTT (monotone non-increasing)."""
    e = plan.exp(name)
    L = e["t_max"]
    rows = []
    if rnn:
        rows.append(plan.group(target, e["dataset"], e, "RNN", method="sdt", arch=e["rnn_arch"], eval_ts=[L]))
    rows.append(plan.group(target, e["dataset"], e, "SNN SDT", method="sdt", eval_ts=[L]))
    rows.append(plan.group(target, e["dataset"], e, "SNN MTT", method="mtt", monotone=True, eval_ts=[L]))
    return {"T": L, "rows": rows}


# ---------------------------------------------------------------------------- tables


@table("table1", "Table 1: NMT vs SDT vs SDT* (CIFAR100, ResNet-18)", tb.table1)
def table1(plan: Plan) -> dict:
    runs = analysis_runs(plan, "table1")
    return {"ts": steps(plan, "analysis", "ts"), "sdt": runs["sdt"], "sdt_star": sdt_star(plan, "table1"),
            "nmt": runs["nmt"]}


@table("table2", "Table 2: comparison on static datasets at T = 6, 4, 2 (ResNet-19)", tb.table2)
def table2(plan: Plan) -> dict:
    return {"ts": steps(plan, "comparison", "ts_table2"), "groups": comparison(plan, "table2") + imagenet(plan, "table2")}


@table("table4", "Table 4: accuracy at every inference time step", tb.table4)
def table4(plan: Plan) -> dict:
    groups = dvs(plan, "table4")
    return {"ts": steps(plan, "comparison", "ts_table4"), "groups": comparison(plan, "table4") + imagenet(plan, "table4"),
            "dvs_ts": steps(plan, "dvs", "ts_table4") if groups else [], "dvs_groups": groups}


@table("table6", "Table 6: MTT vs ANN-SNN conversion on CIFAR100 (ResNet-18)", tb.table6)
def table6(plan: Plan) -> dict:
    e = plan.exp("conversion")
    g = plan.group("table6", e["dataset"], e, "MTT", plan.seeds(e)[:1], method="mtt")
    return {"ts": e["ts"], "groups": [g.replace(evals_kind=plan.eval_kind(e["ts"]))],
            "augmentation": e.get("augmentation_note", "")}


@table("table9", "Table 9: VGG14 on CIFAR100", tb.table9)
def table9(plan: Plan) -> dict:
    e = plan.exp("vgg")
    return {"ts": steps(plan, "vgg", "ts"), "groups": [plan.group("table9", e["dataset"], e, "MTT", method="mtt")]}


@table("table10", "Table 10: structures of B-ResNet-50/72", tb.table10)
def table10(plan: Plan) -> dict:
    e = plan.config["experiments"].get("structures", {})
    return {"archs": e.get("archs", ["bresnet50", "bresnet72"]), "input_size": TABLE10_INPUT,
            "num_classes": TABLE10_CLASSES}


@table("table11", "Table 11: accuracy at T = 6 given sampling number s and budget e x s", tb.table11)
def table11(plan: Plan) -> dict:
    e, a = plan.exp("sampling"), plan.exp("analysis")
    first = plan.seeds(a)[:1]
    mtt = analysis_runs(plan, "table11")["mtt"]
    mtt_cfg = plan.runs[mtt.runs[0]]
    cells = []
    for s in e["s_values"]:
        for budget in e["budgets"]:
            if budget % s:
                raise PlanError(f"table11: budget {budget} is not divisible by s={s}; epochs = budget / s "
                                f"must be a whole number (choose budgets that are multiples of every s)")
            if (s, budget // s) == (mtt_cfg.s, mtt_cfg.epochs):  # the analysis MTT run itself
                g = mtt.replace(label=f"s={s}")
            else:
                g = plan.group("table11", a["dataset"], a, f"s={s}", first, method="mtt", g=1, s=s, epochs=budget // s)
            cells.append(g.replace(fields=(("s", s), ("budget", budget))))
    return {"T": a["t_max"], "cells": cells}


@table("table12", "Table 12: T_max BN statistics vs statistics recalculated at each T", tb.table12)
def table12(plan: Plan) -> dict:
    e, c = plan.exp("bn_stats"), plan.exp("comparison")
    g = plan.group("table12", e.get("dataset", "cifar100"), c, "MTT", plan.seeds(c)[:1], method="mtt")
    kind = plan.eval_kind(e["ts"], recalibrate=True, repeats=e["repeats"])
    return {"ts": steps(plan, "bn_stats", "ts", "comparison"), "repeats": e["repeats"],
            "group": g.replace(extras=(("recalibrated", kind),))}


@table("claims", "The paper's directional claims, checked on this preset's runs", tb.claims)
def claims(plan: Plan) -> dict:
    runs = analysis_runs(plan, "claims")
    return {"t_max": plan.exp("analysis")["t_max"], "mtt": runs["mtt"], "nmt": runs["nmt"], "sdt": runs["sdt"],
            "sdt_star": sdt_star(plan, "claims"), "margin": plan.config["claims_margin"],
            "low_ts": CLAIM_LOW_TS, "nmt_T": CLAIM_NMT_T}


@table("table5", "Table 5: SEENN-I early exit on MTT- and SDT-trained ResNet-19 (CIFAR10)", at.table5)
def table5(plan: Plan) -> dict:
    c = plan.exp("comparison")
    first = plan.seeds(c)[:1]
    mtt = plan.group("table5", "cifar10", c, "SEENN-I + MTT", first, method="mtt")
    sdt = plan.group("table5", "cifar10", c, f"SEENN-I + SDT (T={c['t_max']})", first, method="sdt")
    return {"targets": plan.exp("seenn")["targets"], "rows": [mtt.with_analysis("seenn"), sdt.with_analysis("seenn")]}


@table("table8", "Table 8: B-ResNet-50/72 on CIFAR10, SDT T=4 vs MTT", at.table8)
def table8(plan: Plan) -> dict:
    e = plan.exp("deep")
    first = plan.seeds(e)[:1]
    cols = []
    for arch in e["archs"]:
        sdt = plan.group("table8", e["dataset"], e, f"SDT T={e['t_max']}", first, method="sdt", arch=arch)
        mtt = plan.group("table8", e["dataset"], e, f"MTT T={e['t_max']}", first, method="mtt", arch=arch)
        cols.append({"arch": sdt.arch, "sdt": sdt, "mtt": mtt})
    return {"T": e["t_max"], "columns": cols}


@table("table13", "Table 13: gradient lengths of MTT- and SDT-trained ResNet-18 (CIFAR100)", at.table13)
def table13(plan: Plan) -> dict:
    return {"rows": analysis_pair(plan, "table13", "gradients")}


@table("gradcos", "4.2: cosine similarity of weight gradients at two time steps", at.gradcos)
def gradcos(plan: Plan) -> dict:
    return {"ts": plan.exp("gradients")["gradcos_ts"], "rows": analysis_pair(plan, "gradcos", "gradcos")}


@table("search", "5.3, A.3, A.9: estimator coefficients and the energy-bounded configuration search", at.search_table)
def search(plan: Plan) -> dict:
    e = plan.exp("estimator")
    rows = [estimator_group(plan, "search", role).with_analysis("search") for role in e["datasets"]]
    return {"T_g": e["T_g"], "rows": rows}


@table("calbatches", "4.3.2: accuracy after BN calibration with 1 to 50 batches", at.calbatches)
def calbatches(plan: Plan) -> dict:
    return {"group": analysis_runs(plan, "calbatches")["mtt"].with_analysis("calbatches")}


@table("table3", "Table 3: comparison on DVS datasets at T = 10 (ResNet-18)", tb.table3, needs="dvs")
def table3(plan: Plan) -> dict:
    return {"T": plan.exp("dvs")["t_max"], "groups": dvs(plan, "table3")}


@table("table7", "Table 7: N-MNIST, SDT vs MTT (the official event-driven network)", tb.table7, needs="nmnist")
def table7(plan: Plan) -> dict:
    """The official event-driven deployment recipe (train-event-driven/readme.md), per seed: phase 1 SDT
    training with BN; phases 2+3 one run each for the SDT and MTT rows that starts from phase 1's model,
    removes the biases, folds BN into the weights (locked) and fine-tunes with that method."""
    e = plan.exp("nmnist")
    if "finetune" not in e:
        raise PlanError(f"preset '{plan.preset}': experiments.nmnist needs a finetune block (epochs, optimizer, "
                        f"lr, weight_decay) for Table 7's fine-tuning phase")
    ft = e["finetune"]
    seeds = plan.seeds(e)
    phase1 = plan.group("table7", e["dataset"], e, "SDT, phase 1 (BN, before folding)", seeds, method="sdt",
                        neuron=TABLE7_NEURON)
    tune = {"neuron": TABLE7_NEURON, "fold_bn": True, "calib_batches": 0, "track_calibration": False,
            **{k: ft[k] for k in ("epochs", "optimizer", "lr", "weight_decay")}}
    rows = []
    for label, method in (("SDT", "sdt"), ("MTT", "mtt")):
        # seed by seed from the phase-1 run of the same seed
        per_seed = [plan.group("table7", e["dataset"], e, label, [seed], method=method, init_from=parent, **tune)
                    for seed, parent in zip(seeds, phase1.runs)]
        rows.append(per_seed[0].replace(runs=tuple(g.runs[0] for g in per_seed)))
    first = plan.runs[phase1.runs[0]]
    recipe = {"neuron": TABLE7_NEURON, "phase1": {k: getattr(first, k) for k in ("epochs", "optimizer", "lr")},
              "finetune": dict(ft), "s": first.s, "t_min": first.t_min}
    return {"T": e["t_max"], "rows": [phase1, *rows], "recipe": recipe}


@table("table14", "Table 14: seqMNIST, RNN vs SNN SDT vs SNN MTT", tb.table14, needs="seqmnist")
def table14(plan: Plan) -> dict:
    return sequence(plan, "table14", "seqmnist", rnn=True)


@table("table15", "Table 15: Spiking Heidelberg Digits, SDT vs MTT", tb.table15, needs="shd")
def table15(plan: Plan) -> dict:
    return sequence(plan, "table15", "shd")


@table("table16", "Table 16: Spiking Speech Commands, SDT vs MTT", tb.table16, needs="ssc")
def table16(plan: Plan) -> dict:
    return sequence(plan, "table16", "ssc")


# ---------------------------------------------------------------------------- figures


@figure("fig4", "Fig. 4: TTM grouping, 5 -> 3 down-sampling and 3 -> 5 up-sampling", fg.fig4)
def fig4(plan: Plan) -> dict:
    return {"down": [5, 3], "up": [3, 5]}


@figure("fig7b", "Fig. 7B: accuracy by MTT granularity g and SDT", fg.fig7b)
def fig7b(plan: Plan) -> dict:
    e = plan.exp("analysis")
    first = plan.seeds(e)[:1]
    runs = analysis_runs(plan, "fig7b")
    lines = []
    for g in e["granularities"]:
        if g == 1:
            lines.append(runs["mtt"].replace(label="g=1 (MTT)"))
        elif g >= plan.n_stages(e["arch"]):
            lines.append(runs["nmt"].replace(label=f"g={g} (NMT)"))
        else:
            lines.append(plan.group("fig7b", e["dataset"], e, f"g={g}", first, method="mtt", g=g))
    lines.append(runs["sdt"])
    return {"ts": steps(plan, "analysis", "ts"), "lines": lines}


@figure("fig7c", "Fig. 7C: test accuracy during training with and without BN calibration", fg.fig7c)
def fig7c(plan: Plan) -> dict:
    run = analysis_runs(plan, "fig7c")["mtt"]
    return {"T": plan.exp("analysis")["t_max"], "train": [plan.layout.train_file(r) for r in run.runs],
            "group": run}


@figure("fig5", "Fig. 5: accuracy under Gaussian noise on the weights, SDT vs MTT", fg.fig5)
def fig5(plan: Plan) -> dict:
    return {"kind": "weight", "lines": analysis_pair(plan, "fig5", "noise-weight")}


@figure("fig6", "Fig. 6: accuracy under Gaussian noise on the inputs, SDT vs MTT", fg.fig6)
def fig6(plan: Plan) -> dict:
    return {"kind": "input", "lines": analysis_pair(plan, "fig6", "noise-input")}


@figure("fig7a", "Fig. 7A: estimated vs measured accuracy of random configurations (CIFAR100)", fg.fig7a)
def fig7a(plan: Plan) -> dict:
    return {"group": estimator_group(plan, "fig7a", "cifar100")}


@figure("fig8", "Fig. 8: estimated vs measured accuracy of random configurations (CIFAR10)", fg.fig8)
def fig8(plan: Plan) -> dict:
    return {"group": estimator_group(plan, "fig8", "cifar10")}


@figure("fig9", "Fig. 9: 1D loss landscapes of SDT- and MTT-trained ResNet-18 (CIFAR100)", fg.fig9)
def fig9(plan: Plan) -> dict:
    return {"lines": analysis_pair(plan, "fig9", "landscape")}
