"""Builders of the paper's tables from run result files (each named by its declaration in
:mod:`tfsnn.pipeline.paper`, which also makes its spec).

No number is typed here: run cells come from ``eval*.json`` files, cited cells from ``cited.yaml``,
structure cells from instantiated models.
"""
from __future__ import annotations

from .notes import OURS, seed_note, stand_in_note
from .results import cite_note, cited, cited_cell, protocol_note, recipe_note, residual_bn_note, seeds_cell, spec_evals
from .table import Table, text_cell


def build_table(name: str, spec: dict, preset: str, modules: tuple[str, ...] = ()) -> Table:
    """Table ``name`` (a declared target, :mod:`tfsnn.pipeline.targets`) from its spec, with the notes on how
    its runs were made: their protocol, an initialisation that departs from the paper's, and the training recipes
    (epochs, learning rate) where the runs differ."""
    from ..layout import Layout
    from ..pipeline import rehearsal
    from ..pipeline.targets import get

    table = get(name, "table", modules).build(spec, preset)
    evals = spec_evals(spec, Layout(preset))
    table.notes += protocol_note(evals) + residual_bn_note(evals) + recipe_note(evals)
    if (line := rehearsal.note(preset)) is not None:
        table.notes.insert(0, line)
    return table


def _cols(ts) -> list[str]:
    return [f"T={T}" for T in ts]


def table1(spec: dict, preset: str) -> Table:
    ts = spec["ts"]
    t = Table("table1", "Table 1: inference accuracy of NMT vs SDT", preset, ["Method", *_cols(ts), "Source"])
    t.add(Method="SDT", Source=OURS, **{f"T={T}": seeds_cell(spec["sdt"]["evals"], T) for T in ts})
    star = {}
    for T in ts:
        star[f"T={T}"] = seeds_cell(spec["sdt_star"][str(T)]["evals"], T)
    t.add(Method="SDT*", Source=OURS, **star)
    t.add(Method="NMT", Source=OURS, **{f"T={T}": seeds_cell(spec["nmt"]["evals"], T) for T in ts})
    rows = cited("table1")
    for r in rows:
        t.add(Method=r["method"], Source="cited", **{f"T={T}": cited_cell(r, T) for T in ts})
    t.notes += [f"SDT: one model trained at T={max(ts)}, tested at every T; SDT*: one model per T, trained "
                f"and tested at that T; NMT: one T per forward pass for the whole network."]
    t.notes += stand_in_note([spec["sdt"]]) + seed_note([spec["sdt"], spec["nmt"]]) + cite_note(rows)
    return t


def _method_rows(t: Table, name: str, groups: list[dict], ts, dataset_col: bool, arch_col: bool) -> list[dict]:
    all_cited = []
    for g in groups:
        rows = cited(name, dataset=g["dataset"]) if dataset_col else cited(name)
        all_cited += rows
        for r in rows:
            extra = {"Dataset": g["dataset"]} if dataset_col else {}
            if arch_col:
                extra["Architecture"] = r.get("arch", "")
            t.add(Method=r["method"], Source="cited", **extra, **{f"T={T}": cited_cell(r, T) for T in ts})
        extra = {"Dataset": g["dataset"]} if dataset_col else {}
        if arch_col:
            extra["Architecture"] = g["arch"]
        t.add(Method=g["label"], Source=OURS, **extra, **{f"T={T}": seeds_cell(g["evals"], T) for T in ts})
    return all_cited


def table2(spec: dict, preset: str) -> Table:
    ts = spec["ts"]
    t = Table("table2", "Table 2: comparison with existing works on static image datasets", preset,
              ["Dataset", "Method", "Architecture", *_cols(ts), "Source"])
    rows = _method_rows(t, "table2", spec["groups"], ts, dataset_col=True, arch_col=True)
    t.notes += stand_in_note(spec["groups"]) + seed_note(spec["groups"]) + cite_note(rows)
    t.notes += ["† introduces additional floating-point multiplications (as marked in the paper)."]
    return t


def table4(spec: dict, preset: str) -> Table:
    ts, dvs_ts = spec["ts"], spec.get("dvs_ts", [])
    all_ts = sorted(set(ts) | set(dvs_ts))
    t = Table("table4", "Table 4: accuracy at different inference time steps", preset,
              ["Dataset", "Model", "Method", *_cols(all_ts), "Source"])
    cited_rows = []
    for groups, steps, key in ((spec["groups"], ts, "table4"), (spec.get("dvs_groups", []), dvs_ts, "table4_dvs")):
        for g in groups:
            rows = cited(key, dataset=g["dataset"])
            cited_rows += rows
            t.add(Dataset=g["dataset"], Model=g["arch"], Method=g["label"], Source=OURS,
                  **{f"T={T}": seeds_cell(g["evals"], T) for T in steps})
            for r in rows:
                t.add(Dataset=g["dataset"], Model=r["arch"], Method=r["method"], Source="cited",
                      **{f"T={T}": cited_cell(r, T) for T in steps})
    groups = spec["groups"] + spec.get("dvs_groups", [])
    t.notes += stand_in_note(groups) + seed_note(groups) + cite_note(cited_rows)
    return t


def table3(spec: dict, preset: str) -> Table:
    T = spec["T"]
    t = Table("table3", "Table 3: comparison with existing works on DVS datasets", preset,
              ["Dataset", "Method", "Architecture", "T", "Accuracy", "Source"])
    cited_rows = []
    for g in spec["groups"]:
        rows = cited("table3", dataset=g["dataset"])
        cited_rows += rows
        for r in rows:
            t.add(Dataset=g["dataset"], Method=r["method"], Architecture=r["arch"], T=str(r["T"]),
                  Accuracy=text_cell(r["value"], cited=r["cite"]), Source="cited")
        cell = seeds_cell(g["evals"], T)
        if len(cell.values) > 1:
            cell.best = max(cell.values)
        t.add(Dataset=g["dataset"], Method=g["label"], Architecture=g["arch"], T=str(T), Accuracy=cell, Source=OURS)
    t.notes += ["Accuracy: mean±std over seeds (best seed in brackets)."]
    t.notes += stand_in_note(spec["groups"]) + cite_note(cited_rows)
    t.notes += ["† introduces additional floating-point multiplications (as marked in the paper)."]
    return t


def table7(spec: dict, preset: str) -> Table:
    T = spec["T"]
    t = Table("table7", "Table 7: N-MNIST test accuracy", preset, ["Method", "GPU", "Speck2e Devkit", "Source"])
    for g in spec["rows"]:
        t.add(Method=g["label"], GPU=seeds_cell(g["evals"], T), **{"Speck2e Devkit": "not measured"}, Source=OURS)
    rows = cited("table7")
    for r in rows:
        t.add(Method=r["method"], GPU=cited_cell(r, "GPU"), **{"Speck2e Devkit": cited_cell(r, "Speck2e Devkit")},
              Source="cited")
    t.notes += [f"GPU column: accuracy at T={T} in this preset's runs (on whatever device ran them). The "
                f"asynchronous-chip column needs a Speck2e devkit: it is not measured, never estimated."]
    t.notes += _deployment_notes(spec) + stand_in_note(spec["rows"]) + cite_note(rows)
    return t


def _deployment_notes(spec: dict) -> list[str]:
    """Table 7's runs: the three phases of the official event-driven recipe, and its neuron."""
    r, T = spec["recipe"], spec["T"]
    p1, ft = r["phase1"], r["finetune"]
    return [f"Runs: the official event-driven deployment recipe (train-event-driven), per seed: "
            f"(1) SDT training at T={T} with BN and biases ({p1['epochs']} epochs, {p1['optimizer']}, lr {p1['lr']}; "
            f"the 'phase 1' row); (2) biases and BN shifts removed, each BN folded into the weights before it and "
            f"locked (statistics frozen, only its scale trains; nothing left to calibrate); (3) fine-tuning from (2) "
            f"for {ft['epochs']} epochs ({ft['optimizer']}, lr {ft['lr']}, weight decay {ft['weight_decay']}) with "
            f"SDT (SDT row) or MTT (MTT row: s={r['s']}, every stage's t_i uniform in [{r['t_min']}, {T}]).",
            *seed_note(spec["rows"]),
            "Neuron (tfsnn.iaf, the official sinabs IAFSqueeze with MultiSpike and MembraneSubtract): integrate-and-"
            "fire without leak, several spikes per step (floor(v / V_th)), reset by subtraction, membrane floored at "
            "-1; surrogate gradient sinabs' SingleExponential." if r["neuron"] == "iaf_multispike" else
            f"Neuron: {r['neuron']}."]


def _sequence_table(name: str, title: str, spec: dict, preset: str) -> Table:
    T = spec["T"]
    t = Table(name, title, preset, ["Method", "Network", "Accuracy", "Source"])
    rows = cited(name)
    for r in rows:
        t.add(Method=r["method"], Network="", Accuracy=text_cell(r["value"], cited=r["cite"]), Source="cited")
    for g in spec["rows"]:
        t.add(Method=g["label"], Network=g["arch"], Accuracy=seeds_cell(g["evals"], T), Source=OURS)
    t.notes += [f"Evaluated with every layer at the input's length T={T}. SDT trains every layer at T={T}; "
                f"MTT samples monotonically non-increasing configurations whose first layer runs at T={T} (A.12)."]
    t.notes += stand_in_note(spec["rows"]) + seed_note(spec["rows"]) + cite_note(rows)
    return t


def table14(spec: dict, preset: str) -> Table:
    return _sequence_table("table14", "Table 14: results on seqMNIST", spec, preset)


def table15(spec: dict, preset: str) -> Table:
    return _sequence_table("table15", "Table 15: results on Spiking Heidelberg Digits", spec, preset)


def table16(spec: dict, preset: str) -> Table:
    return _sequence_table("table16", "Table 16: results on Spiking Speech Commands", spec, preset)


def table6(spec: dict, preset: str) -> Table:
    ts = spec["ts"]
    t = Table("table6", "Table 6: MTT vs ANN-SNN conversion on CIFAR100, ResNet-18", preset,
              ["Method", *_cols(ts), "Source"])
    rows = _method_rows(t, "table6", spec["groups"], ts, dataset_col=False, arch_col=False)
    t.notes += ["Uniform T beyond T_max runs every stage at T (no TTM); one causal pass gives every T."]
    if spec.get("augmentation"):
        t.notes.append(spec["augmentation"])
    t.notes += stand_in_note(spec["groups"]) + cite_note(rows)
    return t


def table9(spec: dict, preset: str) -> Table:
    ts = spec["ts"]
    t = Table("table9", "Table 9: accuracy of VGG on CIFAR100", preset,
              ["Method", "Architecture", *_cols(ts), "Source"])
    rows = _method_rows(t, "table9", spec["groups"], ts, dataset_col=False, arch_col=True)
    t.notes += stand_in_note(spec["groups"]) + seed_note(spec["groups"]) + cite_note(rows)
    return t


def table11(spec: dict, preset: str) -> Table:
    budgets = sorted({c["budget"] for c in spec["cells"]})
    s_values = sorted({c["s"] for c in spec["cells"]})
    cols = [f"e×s={b}" for b in budgets]
    t = Table("table11", f"Table 11: accuracy at T={spec['T']} given sampling number s and budget e×s", preset,
              ["s", *cols, "Source"])
    for s in s_values:
        cells = {f"e×s={c['budget']}": seeds_cell(c["evals"], spec["T"]) for c in spec["cells"] if c["s"] == s}
        t.add(s=str(s), Source=OURS, **cells)
    rows = cited("table11")
    for r in rows:
        t.add(s=str(r["s"]), Source="cited", **{f"e×s={b}": cited_cell(r, b) for b in budgets})
    t.notes += ["Each cell is its own run: epochs = budget / s, so every cell has its own cosine schedule."]
    t.notes += stand_in_note([spec["cells"][0]]) + cite_note(rows)
    return t


def table12(spec: dict, preset: str) -> Table:
    ts, g = spec["ts"], spec["group"]
    t = Table("table12", "Table 12: test accuracy of one model with two kinds of BN statistics", preset,
              ["Method", *_cols(ts), "Source"])
    t.add(Method="T=T_max stat", Source=OURS, **{f"T={T}": seeds_cell(g["evals"], T) for T in ts})
    t.add(Method="Recalculated stat", Source=OURS, **{f"T={T}": seeds_cell(g["recalibrated"], T) for T in ts})
    rows = cited("table12")
    for r in rows:
        t.add(Method=r["method"], Source="cited", **{f"T={T}": cited_cell(r, T) for T in ts})
    t.notes += [f"Recalculated: BN calibrated at each uniform T, {spec['repeats']} times on other training "
                f"batches, accuracies averaged (A.7)."] + stand_in_note([g]) + cite_note(rows)
    return t


def table10(spec: dict, preset: str) -> Table:
    from .structure import describe

    archs = spec["archs"]
    descs = {a: describe(a, spec["input_size"], spec["num_classes"]) for a in archs}
    names = {a: descs[a]["name"] for a in archs}
    t = Table("table10", "Table 10: structures of the handmade deep networks on CIFAR", preset,
              ["Stage", "Output size", *names.values()])
    stages = descs[archs[0]]["rows"]
    for i, row in enumerate(stages):
        cells = {names[a]: text_cell(descs[a]["rows"][i]["layers"]) for a in archs}
        t.add(Stage=row["stage"], **{"Output size": row["size"]}, **cells)
    t.add(Stage="stages (blocks)", **{"Output size": ""},
          **{names[a]: str(descs[a]["n_stages"]) for a in archs})
    t.add(Stage=f"parameters ({spec['num_classes']} classes)", **{"Output size": ""},
          **{names[a]: f"{descs[a]['params']:,}" for a in archs})
    t.notes += ["Generated from the instantiated models (tfsnn.models), not typed."]
    return t


def claims(spec: dict, preset: str) -> Table:
    from .claims import check_claims

    return check_claims(spec, preset)
