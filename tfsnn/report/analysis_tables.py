"""Tables of the analyses (Table 5, 8, 13, the gradient cosine, the search, the calibration sweep),
built from ``analysis-*.json`` and ``eval.json`` files and the cited-rows file only."""
from __future__ import annotations

from .results import cite_note, cited, cited_cell, load, run_id, seeds_cell
from .table import Table, text_cell, value_cell
from .notes import OURS, stand_in_note

RAW = ".4g"      # gradient lengths
COS = ".4f"      # cosines
STEP = ".2f"     # average exit steps


def _cell(path: str, value: float, fmt: str | None = None):
    return value_cell([value], [run_id(path)], fmt)


def _text(path: str, text: str):
    cell = text_cell(text)
    cell.runs = [run_id(path)]
    return cell


def table5(spec: dict, preset: str) -> Table:
    targets = spec["targets"]
    cols = []
    for T in targets:
        cols += [f"T={T:g}", f"T={T:g} reached"]
    t = Table("table5", "Table 5: combining MTT with SEENN-I (CIFAR10, ResNet-19)", preset, ["Method", *cols, "Source"])
    rows = cited("table5")
    for r in rows:
        t.add(Method=r["method"], Source="cited", **{f"T={T:g}": cited_cell(r, f"{T:g}") for T in targets})
    for g in spec["rows"]:
        path = g["seenn"][0]
        res = {row["target_avg_step"]: row for row in load(path)["rows"]}
        cells = {}
        for T in targets:
            cells[f"T={T:g}"] = _cell(path, res[T]["test_accuracy"])
            cells[f"T={T:g} reached"] = _cell(path, res[T]["test_avg_step"], STEP)
        t.add(Method=g["label"], Source=OURS, **cells)
    split = load(spec["rows"][0]["seenn"][0])["split"]
    t.notes += [f"Columns are target average exit steps; thresholds found on the {split} split, accuracy and the "
                f"average exit step reached on the test split."] + stand_in_note(spec["rows"]) + cite_note(rows)
    return t


def table8(spec: dict, preset: str) -> Table:
    T = spec["T"]
    archs = [c["arch"] for c in spec["columns"]]
    t = Table("table8", "Table 8: training B-ResNet-50/72 on CIFAR10", preset, ["Method", *archs, "Source"])
    for key in ("sdt", "mtt"):
        label = spec["columns"][0][key]["label"]
        t.add(Method=label, Source=OURS, **{c["arch"]: seeds_cell(c[key]["evals"], T) for c in spec["columns"]})
    rows = cited("table8")
    for r in rows:
        t.add(Method=r["method"], Source="cited", **{a: cited_cell(r, a) for a in archs})
    t.notes += [f"Accuracy at T={T}."] + stand_in_note([c["sdt"] for c in spec["columns"]]) + cite_note(rows)
    return t


def table13(spec: dict, preset: str) -> Table:
    w, x = "||dL/dW|| (conv)", "mean ||dL/dx_i||"
    t = Table("table13", "Table 13: gradient statistics of models trained by SDT and MTT", preset,
              ["Method", w, x, "Source"])
    for g in spec["rows"]:
        path = g["gradients"][0]
        d = load(path)
        t.add(Method=g["label"], Source=OURS, **{w: _cell(path, d["weight_grad_norm"], RAW),
                                                 x: _cell(path, d["input_grad_norm"], RAW)})
    rows = cited("table13")
    for r in rows:
        t.add(Method=r["method"], Source="cited", **{w: cited_cell(r, "weight"), x: cited_cell(r, "input")})
    d = load(spec["rows"][0]["gradients"][0])
    t.notes += [f"Gradient of the mean loss over the {d['samples']} training samples (no augmentation, eval-mode "
                f"BN) at uniform T={d['T']}; input gradients per sample, averaged."] + cite_note(rows)
    t.notes += stand_in_note(spec["rows"])
    return t


def gradcos(spec: dict, preset: str) -> Table:
    t_a, t_b = spec["ts"]
    t = Table("gradcos", f"Cosine similarity of weight gradients at T={t_a} and T={t_b} (4.2)", preset,
              ["Model", "mean", "min", "max", "Source"])
    for g in spec["rows"]:
        path = g["gradcos"][0]
        d = load(path)
        t.add(Model=g["label"], Source=OURS, mean=_cell(path, d["mean"], COS), min=_cell(path, d["min"], COS),
              max=_cell(path, d["max"], COS))
    rows = cited("gradcos")
    for r in rows:
        t.add(Model=r["method"], Source="cited", mean=cited_cell(r, "mean"))
    d = load(spec["rows"][0]["gradcos"][0])
    t.notes += [f"Over {len(d['values'])} training batches, train-mode BN, all conv and linear weights."]
    t.notes += cite_note(rows) + stand_in_note(spec["rows"])
    return t


def search_table(spec: dict, preset: str) -> Table:
    T_g = spec["T_g"]
    cols = ["Dataset", "K", "c", "R² fit", "r validation", "found config", "found acc", f"uniform T={T_g} acc",
            "gain", "SOPs found", f"SOPs T={T_g}", "Source"]
    t = Table("search", f"Accuracy estimator and the best configuration under the energy of uniform T={T_g}",
              preset, cols)
    for g in spec["rows"]:
        est_path, path = g["estimator"][0], g["search"][0]
        est, s = load(est_path), load(path)
        r = est["validation"]["pearson_r"]
        t.add(Dataset=g["dataset"], Source=OURS, K=_text(est_path, ", ".join(f"{k:.4f}" for k in est["K"])),
              c=_cell(est_path, est["c"], RAW), **{"R² fit": _cell(est_path, est["r2_fit"], COS),
                                                    "r validation": _text(est_path, "-" if r is None else f"{r:.4f}"),
                                                    "found config": _text(path, ",".join(map(str, s["found"]["config"]))),
                                                    "found acc": _cell(path, s["found"]["test_accuracy"]),
                                                    f"uniform T={T_g} acc": _cell(path, s["uniform"]["test_accuracy"]),
                                                    "gain": _cell(path, s["found"]["test_accuracy"]
                                                                  - s["uniform"]["test_accuracy"]),
                                                    "SOPs found": _cell(path, s["found"]["sops"], RAW),
                                                    f"SOPs T={T_g}": _cell(path, s["uniform"]["sops"], RAW)})
    rows = cited("search")
    for row in rows:
        t.add(Dataset=row["dataset"], Source="cited", K=cited_cell(row, "K"), c=cited_cell(row, "c"),
              **{"found config": cited_cell(row, "config"), "found acc": cited_cell(row, "found"),
                 "gain": cited_cell(row, "delta")})
    est = load(spec["rows"][0]["estimator"][0])
    t.notes += [f"acc(t) = sum K_i sqrt(log2 t_i) + c fitted on {est['n_fit']} random configurations and validated "
                f"on {est['n_val']} ({est['split']} split, {est['repeats']} BN calibration(s) per configuration); "
                f"the search maximises the estimate under sum t_i R_i <= EC_{T_g}; accuracies measured on the test "
                f"split. SOPs: synaptic operations per sample."] + cite_note(rows) + stand_in_note(spec["rows"])
    return t


def calbatches(spec: dict, preset: str) -> Table:
    path = spec["group"]["calbatches"][0]
    d = load(path)
    t = Table("calbatches", f"Accuracy at T={d['T']} after BN calibration with a number of batches", preset,
              ["batches", "accuracy", "min", "max"])
    for row in d["rows"]:
        rid = run_id(path)
        t.add(batches=str(row["batches"]), accuracy=value_cell(row["values"], [rid] * len(row["values"])),
              min=_cell(path, row["min"]), max=_cell(path, row["max"]))
    t.notes += [f"{d['repeats']} calibrations per count on different training batches; accuracy mean±std over them. "
                f"4.3.2 states that 10 batches suffice (no data shown)."] + stand_in_note([spec["group"]])
    return t
