"""Tables and figures from run results; finished tables back as pandas DataFrames for a notebook.

    from tfsnn.report import load_table, load_values
    t4 = load_table("smoke", "table4")        # the cells as written; t4.attrs["notes"], ["provenance"]
    v4 = load_values("smoke", "table4")       # one row per cell and run: row, column, run, value

pandas is imported when a table is loaded, so ``import tfsnn.report`` stays light.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_table", "load_values"]


def _table_files(preset: str, name: str, results: str | Path) -> dict[str, Path]:
    from ..layout import Layout

    prefix = Layout(preset, results_root=str(results)).table_prefix(name)
    paths = {s: Path(f"{prefix}.{s}") for s in ("csv", "md", "provenance.json")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        config = "" if preset == "smoke" else f" --configfile config/{preset}.yaml"
        raise FileNotFoundError(f"table {name!r} of preset {preset!r} is not built: no {', '.join(missing)}; "
                                f"build it with `snakemake --cores all {name}{config}`")
    return paths


def _notes(markdown: str) -> list[str]:
    """The notes of a table's Markdown file: the ``- `` items after the blank line that ends the table."""
    body = markdown.rstrip("\n").split("\n")[2:]    # after the title and a blank line: the table
    notes: list[str] = []
    for line in body[body.index("") + 1:] if "" in body else []:
        if line.startswith("- ") or not notes:
            notes.append(line.removeprefix("- "))
        else:                                         # a note with a line break
            notes[-1] += "\n" + line
    return notes


def load_table(preset: str, name: str, results: str | Path = "results") -> pd.DataFrame:
    """``results/<preset>/tables/<name>.csv`` as a DataFrame of the strings it shows ("-" stays "-").

    ``attrs["notes"]`` holds the table's notes and ``attrs["provenance"]`` its sidecar (run ids, values
    and citation per cell, keyed ``"<row>|<column>"``).
    """
    import pandas as pd

    paths = _table_files(preset, name, results)
    frame = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False)
    frame.attrs["notes"] = _notes(paths["md"].read_text())
    frame.attrs["provenance"] = json.loads(paths["provenance.json"].read_text())
    return frame


def load_values(preset: str, name: str, results: str | Path = "results") -> pd.DataFrame:
    """The numbers behind a table's cells, one per run: columns row, column, run, value.

    Accuracies are fractions (the table shows percent); other numbers are as measured. Text and cited
    cells have no values and no rows here.
    """
    import pandas as pd

    cells = json.loads(_table_files(preset, name, results)["provenance.json"].read_text())["cells"]
    records = []
    for key, cell in cells.items():
        row, column = key.split("|", 1)
        if cell["values"]:
            records += [(int(row), column, run, value) for run, value in zip(cell["runs"], cell["values"], strict=True)]
    return pd.DataFrame(records, columns=["row", "column", "run", "value"]).astype(
        {"row": "int64", "column": "str", "run": "str", "value": "float64"})
