"""A results table with per-cell provenance, written as CSV, Markdown and LaTeX (atomically), and as HTML
for the Snakemake report.

Cells hold accuracies as fractions; they are printed in percent as ``mean±std`` over seeds (just the
mean for one seed). Every cell records the run ids it came from; cited cells record their citation.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import write_json, write_text

PERCENT = 100.0
DECIMALS = 2
MISSING = "-"


@dataclass
class Cell:
    values: list[float] = field(default_factory=list)   # fractions in [0, 1], one per seed
    runs: list[str] = field(default_factory=list)
    text: str | None = None                             # a non-numeric cell (cited text, labels)
    cited: str | None = None
    best: float | None = None                           # shown in brackets, e.g. best-over-epochs
    fmt: str | None = None                              # format of a raw number; None: percent

    def _show(self, v: float) -> str:
        return f"{v * PERCENT:.{DECIMALS}f}" if self.fmt is None else format(v, self.fmt)

    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    def render(self) -> str:
        if self.text is not None:
            return self.text
        if not self.values:
            return MISSING
        out = self._show(self.mean())
        if self.std() is not None:
            out += f"±{self._show(self.std())}"
        if self.best is not None:
            out += f" ({self._show(self.best)})"
        return out


def value_cell(values: list[float], runs: list[str], fmt: str | None = None) -> Cell:
    """Accuracies (fractions, printed in percent) or, with ``fmt``, raw numbers, one per run."""
    return Cell(values=list(values), runs=list(runs), fmt=fmt)


def text_cell(text: str, cited: str | None = None) -> Cell:
    return Cell(text=text, cited=cited)


@dataclass
class Table:
    """A table as two aligned DataFrames (columns: the table's columns, one row per ``add``).

    ``cells`` holds the ``Cell`` objects (values per seed, run ids, citation): the provenance sidecar is
    written from it. ``frame`` holds the strings the CSV, Markdown and LaTeX files show, rendered from
    ``cells`` when asked for (so a cell changed after ``add`` shows its final value).
    """

    name: str
    title: str
    preset: str
    columns: list[str]
    notes: list[str] = field(default_factory=list)
    cells: pd.DataFrame = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.cells = pd.DataFrame(columns=self.columns, dtype=object)

    def add(self, **cells: Cell | str) -> None:
        row = {k: (v if isinstance(v, Cell) else text_cell(str(v))) for k, v in cells.items()}
        unknown = set(row) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.name}: no column {sorted(unknown)}")
        self.cells.loc[len(self.cells)] = [row.get(c, text_cell(MISSING)) for c in self.columns]

    @property
    def frame(self) -> pd.DataFrame:
        """The rendered strings, exactly as the files show them."""
        return self.cells.map(Cell.render).astype(str)

    def grid(self) -> list[list[str]]:
        return self.frame.to_numpy().tolist()

    # ------------------------------------------------------------------ writers

    def to_csv(self) -> str:
        return self.frame.to_csv(index=False, lineterminator="\n")

    def to_markdown(self) -> str:
        lines = [f"**{self.title}** (preset: {self.preset})", "",
                 "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(r) + " |" for r in self.grid()]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        def esc(s: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                         ("±", r"$\pm$"), ("*", r"$^*$"), ("†", r"$^\dagger$")):
                s = s.replace(a, b)
            return s

        lines = [r"\begin{table}[t]", r"\centering",
                 rf"\caption{{{esc(self.title)} (preset: {esc(self.preset)})}}",
                 r"\begin{tabular}{" + "l" * len(self.columns) + "}", r"\toprule",
                 " & ".join(esc(c) for c in self.columns) + r" \\", r"\midrule"]
        lines += [" & ".join(esc(c) for c in r) + r" \\" for r in self.grid()]
        lines += [r"\bottomrule", r"\end{tabular}"]
        lines += [rf"\par\footnotesize {esc(n)}" for n in self.notes]
        lines += [rf"\label{{tab:{self.name}}}", r"\end{table}"]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A standalone HTML page: the title, the cells as the CSV shows them, the notes (the report shows it)."""
        from .html import table_html

        return table_html(self.title, self.preset, self.columns, self.grid(), self.notes)

    def provenance(self) -> dict[str, Any]:
        cells = {f"{i}|{col}": {"runs": cell.runs, "values": cell.values, "cited": cell.cited}
                 for i, row in enumerate(self.cells.to_dict("records")) for col, cell in row.items()
                 if cell.runs or cell.cited}
        return {"table": self.name, "preset": self.preset, "columns": self.columns, "cells": cells}

    def write(self, prefix: str | Path) -> list[Path]:
        prefix = Path(prefix)
        paths = [prefix.with_suffix(s) for s in (".csv", ".md", ".tex")] + [Path(f"{prefix}.provenance.json")]
        write_text(paths[0], self.to_csv())
        write_text(paths[1], self.to_markdown())
        write_text(paths[2], self.to_latex())
        write_json(paths[3], self.provenance())
        return paths

    def write_html(self, prefix: str | Path) -> Path:
        """``<prefix>.html``, the table as the Snakemake report shows it."""
        path = Path(prefix).with_suffix(".html")
        write_text(path, self.to_html())
        return path
