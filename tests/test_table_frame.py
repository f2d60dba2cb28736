"""Tables are DataFrames: ``Table.cells`` (Cell objects) and ``Table.frame`` (the strings the files show).

The expected files below were written by the list-based Table this one replaced: the DataFrame version
writes the same bytes. ``load_table`` and ``load_values`` give a written table back to a notebook.
"""
import json
import subprocess
import sys

import pandas as pd
import pytest

from tfsnn.report import load_table, load_values
from tfsnn.report.table import Cell, Table, text_cell, value_cell


def example_tables() -> dict[str, Table]:
    a = Table("table_a", "Table A: accuracy_at T & 100% *raw*", "smoke", ["Method", "T=1", "T=2", "Source"])
    a.add(Method="SDT", Source="ours", **{"T=1": value_cell([0.91234], ["run-a1"]),
                                          "T=2": value_cell([0.9, 0.925, 0.95], ["r1", "r2", "r3"])})
    a.add(Method="NMT*", Source="cited", **{"T=1": text_cell("93.10†", cited="Smith et al. 2023"),
                                            "T=2": text_cell("-")})
    a.add(Method='gap, "quoted"', Source="ours")                 # cells not given show "-"
    a.add(**{"T=2": value_cell([], []), "Method": "empty", "Source": ""})
    a.notes += ["Accuracy: mean±std over 3 seeds; 50% of runs_x & y*.", "† extra multiplications (#2)."]

    b = Table("table_b", "Table B: best and raw numbers", "mini", ["Dataset", "Accuracy", "||dL/dW||", "Source"])
    best = value_cell([0.8, 0.82], ["s1", "s2"])
    best.best = max(best.values)
    b.add(Dataset="cifar10", Accuracy=best, **{"||dL/dW||": value_cell([0.0123456, 0.0234567], ["s1", "s2"], ".4g")},
          Source="ours")
    b.add(Source="cited", Dataset="cifar100", Accuracy=text_cell("71.2", cited="Doe 2024"),
          **{"||dL/dW||": value_cell([12345.678], ["s3"], ".4g")})
    b.add(Dataset="a\\b_c", Accuracy=Cell(text="3,4,5", runs=["s4"]), Source="ours")
    b.notes.append("back\\slash and under_score")

    c = Table("table_c", "Table C: no rows", "paper", ["Only"])

    d = Table("table_d", "Table D: one column, empty text", "smoke", ["x"])
    d.add(x="")
    d.add(x=Cell(values=[0.5], runs=["r"], fmt=".3f", best=0.75))
    return {t.name: t for t in (a, b, c, d)}


# CSV, Markdown and LaTeX as the list-based Table wrote them
EXPECTED = {
    "table_a": {
        "csv": r'''Method,T=1,T=2,Source
SDT,91.23,92.50±2.50,ours
NMT*,93.10†,-,cited
"gap, ""quoted""",-,-,ours
empty,-,-,
''',
        "md": r'''**Table A: accuracy_at T & 100% *raw*** (preset: smoke)

| Method | T=1 | T=2 | Source |
|---|---|---|---|
| SDT | 91.23 | 92.50±2.50 | ours |
| NMT* | 93.10† | - | cited |
| gap, "quoted" | - | - | ours |
| empty | - | - |  |

- Accuracy: mean±std over 3 seeds; 50% of runs_x & y*.
- † extra multiplications (#2).
''',
        "tex": r'''\begin{table}[t]
\centering
\caption{Table A: accuracy\_at T \& 100\% $^*$raw$^*$ (preset: smoke)}
\begin{tabular}{llll}
\toprule
Method & T=1 & T=2 & Source \\
\midrule
SDT & 91.23 & 92.50$\pm$2.50 & ours \\
NMT$^*$ & 93.10$^\dagger$ & - & cited \\
gap, "quoted" & - & - & ours \\
empty & - & - &  \\
\bottomrule
\end{tabular}
\par\footnotesize Accuracy: mean$\pm$std over 3 seeds; 50\% of runs\_x \& y$^*$.
\par\footnotesize $^\dagger$ extra multiplications (\#2).
\label{tab:table_a}
\end{table}
''',
    },
    "table_b": {
        "csv": r'''Dataset,Accuracy,||dL/dW||,Source
cifar10,81.00±1.41 (82.00),0.0179±0.007857,ours
cifar100,71.2,1.235e+04,cited
a\b_c,"3,4,5",-,ours
''',
        "md": r'''**Table B: best and raw numbers** (preset: mini)

| Dataset | Accuracy | ||dL/dW|| | Source |
|---|---|---|---|
| cifar10 | 81.00±1.41 (82.00) | 0.0179±0.007857 | ours |
| cifar100 | 71.2 | 1.235e+04 | cited |
| a\b_c | 3,4,5 | - | ours |

- back\slash and under_score
''',
        "tex": r'''\begin{table}[t]
\centering
\caption{Table B: best and raw numbers (preset: mini)}
\begin{tabular}{llll}
\toprule
Dataset & Accuracy & ||dL/dW|| & Source \\
\midrule
cifar10 & 81.00$\pm$1.41 (82.00) & 0.0179$\pm$0.007857 & ours \\
cifar100 & 71.2 & 1.235e+04 & cited \\
a\textbackslash{}b\_c & 3,4,5 & - & ours \\
\bottomrule
\end{tabular}
\par\footnotesize back\textbackslash{}slash and under\_score
\label{tab:table_b}
\end{table}
''',
    },
    "table_c": {
        "csv": r'''Only
''',
        "md": r'''**Table C: no rows** (preset: paper)

| Only |
|---|
''',
        "tex": r'''\begin{table}[t]
\centering
\caption{Table C: no rows (preset: paper)}
\begin{tabular}{l}
\toprule
Only \\
\midrule
\bottomrule
\end{tabular}
\label{tab:table_c}
\end{table}
''',
    },
    "table_d": {
        "csv": r'''x
""
0.500 (0.750)
''',
        "md": r'''**Table D: one column, empty text** (preset: smoke)

| x |
|---|
|  |
| 0.500 (0.750) |
''',
        "tex": r'''\begin{table}[t]
\centering
\caption{Table D: one column, empty text (preset: smoke)}
\begin{tabular}{l}
\toprule
x \\
\midrule
 \\
0.500 (0.750) \\
\bottomrule
\end{tabular}
\label{tab:table_d}
\end{table}
''',
    },
}

# the sidecars' cells; the files are these dicts as ``write_json`` writes them (indent 2, in this order)
CELLS = {
    "table_a": {"0|T=1": {"runs": ["run-a1"], "values": [0.91234], "cited": None},
                "0|T=2": {"runs": ["r1", "r2", "r3"], "values": [0.9, 0.925, 0.95], "cited": None},
                "1|T=1": {"runs": [], "values": [], "cited": "Smith et al. 2023"}},
    "table_b": {"0|Accuracy": {"runs": ["s1", "s2"], "values": [0.8, 0.82], "cited": None},
                "0|||dL/dW||": {"runs": ["s1", "s2"], "values": [0.0123456, 0.0234567], "cited": None},
                "1|Accuracy": {"runs": [], "values": [], "cited": "Doe 2024"},
                "1|||dL/dW||": {"runs": ["s3"], "values": [12345.678], "cited": None},
                "2|Accuracy": {"runs": ["s4"], "values": [], "cited": None}},
    "table_c": {},
    "table_d": {"1|x": {"runs": ["r"], "values": [0.5], "cited": None}},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_table_writes_the_bytes_the_list_based_table_wrote(name, tmp_path):
    t = example_tables()[name]
    csv, md, tex, sidecar = t.write(tmp_path / name)
    assert csv.read_text() == t.to_csv() == EXPECTED[name]["csv"]
    assert md.read_text() == t.to_markdown() == EXPECTED[name]["md"]
    assert tex.read_text() == t.to_latex() == EXPECTED[name]["tex"]
    prov = {"table": t.name, "preset": t.preset, "columns": t.columns, "cells": CELLS[name]}
    assert sidecar.read_text() == json.dumps(prov, indent=2) + "\n"


def test_cells_and_frame_are_aligned_dataframes():
    t = example_tables()["table_a"]
    assert isinstance(t.cells, pd.DataFrame) and isinstance(t.frame, pd.DataFrame)
    assert list(t.cells.columns) == list(t.frame.columns) == t.columns and len(t.cells) == len(t.frame) == 4
    assert all(isinstance(c, Cell) for c in t.cells.to_numpy().ravel())
    assert t.cells.at[0, "T=2"].runs == ["r1", "r2", "r3"] and t.cells.at[1, "T=1"].cited == "Smith et al. 2023"
    assert t.frame.to_numpy().tolist() == t.grid() == [["SDT", "91.23", "92.50±2.50", "ours"],
                                                       ["NMT*", "93.10†", "-", "cited"],
                                                       ['gap, "quoted"', "-", "-", "ours"],
                                                       ["empty", "-", "-", ""]]
    t.cells.at[0, "T=1"].best = 0.95                               # a cell changed after add shows so
    assert t.frame.at[0, "T=1"] == "91.23 (95.00)"
    with pytest.raises(KeyError, match="table_a: no column"):
        t.add(Method="x", Accuracy="y")


def test_load_table_gives_the_written_table_back(tmp_path):
    t = example_tables()["table_a"]
    t.notes.append("a note\nwith a line break")
    t.write(tmp_path / "smoke" / "tables" / "table_a")
    loaded = load_table("smoke", "table_a", results=tmp_path)
    pd.testing.assert_frame_equal(loaded, t.frame, check_index_type=False)
    assert loaded.at[3, "Source"] == "" and loaded.at[2, "T=1"] == "-"        # as written, no NaN
    assert loaded.attrs["notes"] == t.notes
    assert loaded.attrs["provenance"] == t.provenance()


def test_load_values_gives_one_row_per_cell_and_run(tmp_path):
    t = example_tables()["table_b"]
    t.write(tmp_path / "mini" / "tables" / "table_b")
    values = load_values("mini", "table_b", results=tmp_path)
    assert list(values.columns) == ["row", "column", "run", "value"]
    assert values.to_numpy().tolist() == [[0, "Accuracy", "s1", 0.8], [0, "Accuracy", "s2", 0.82],
                                          [0, "||dL/dW||", "s1", 0.0123456], [0, "||dL/dW||", "s2", 0.0234567],
                                          [1, "||dL/dW||", "s3", 12345.678]]
    assert values.groupby(["row", "column"])["value"].mean()[(0, "Accuracy")] == pytest.approx(0.81)


@pytest.mark.parametrize("preset, command", [("smoke", "`snakemake --cores all table4`"),
                                             ("mini", "`snakemake --cores all table4 --configfile config/mini.yaml`")])
def test_a_missing_table_names_its_path_and_the_command_that_builds_it(preset, command, tmp_path):
    for load in (load_table, load_values):
        with pytest.raises(FileNotFoundError) as e:
            load(preset, "table4", results=tmp_path)
        assert str(tmp_path / preset / "tables" / "table4.csv") in str(e.value) and command in str(e.value)


def test_importing_tfsnn_report_does_not_import_pandas():
    code = "import sys, tfsnn.report; assert 'pandas' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
