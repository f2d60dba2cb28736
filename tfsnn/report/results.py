"""Reading run results for tables and figures: accuracies per T, with the run ids they came from."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from ..errors import TfsnnError
from ..io import read_json
from .table import Cell, text_cell, value_cell

CITED_FILE = Path(__file__).with_name("cited.yaml")


@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    try:
        return read_json(path)
    except ValueError as e:   # a damaged result file: name it and how to rebuild it
        raise TfsnnError(f"{path} is damaged ({type(e).__name__}: {e}); delete it and rerun snakemake, which "
                         f"rebuilds it and the tables that read it") from None


def load(path: str | Path) -> dict:
    return _load(str(path))


def accuracy(path: str | Path, T: int | str, key: str = "accuracy") -> float:
    d = load(path)
    try:
        return float(d[key][str(T)])
    except KeyError:
        raise KeyError(f"{path} has no {key} at T={T}; it holds T in {sorted(d.get(key, {}), key=int)}") from None


def run_id(path: str | Path) -> str:
    return load(path)["run_id"]


def seeds_cell(paths: list[str], T: int | str, key: str = "accuracy") -> Cell:
    """Mean ± std over the runs (one per seed) at ``T``."""
    return value_cell([accuracy(p, T, key) for p in paths], [run_id(p) for p in paths])


@functools.lru_cache(maxsize=None)
def cited_rows() -> dict:
    return yaml.safe_load(CITED_FILE.read_text())


def cited(table: str, **match) -> list[dict]:
    return [r for r in cited_rows().get(table, []) if all(r.get(k) == v for k, v in match.items())]


def cited_cell(row: dict, key: str) -> Cell:
    value = row["values"].get(str(key))
    return text_cell(value if value is not None else "-", cited=row["cite"] if value is not None else None)


def run_protocol(eval_path: str | Path) -> str:
    """How a run's reported numbers were obtained: its epoch selection and whether BN was calibrated."""
    from ..selection import DESCRIPTION

    d = load(eval_path)
    p = d.get("protocol") or {"epoch_selection": "final", "calibrated": bool(d.get("calibration"))}
    if d.get("config", {}).get("fold_bn"):
        cal = "BN folded into the weights and locked (official deployment recipe)"
    elif p["calibrated"]:
        cal = "BN calibrated at T_max"
    else:
        cal = "BN not calibrated (official protocol for SDT runs)"
    return f"{DESCRIPTION[p['epoch_selection']]}, {cal}"


def spec_evals(spec: dict, layout) -> list[str]:
    """The ``eval.json`` of every run behind a table's spec that has one.

    ``layout`` (a :class:`tfsnn.layout.Layout`) finds each run's ``eval.json`` from the run ids that the
    spec's result files record."""
    from ..pipeline.plan import spec_files

    runs = sorted({load(f)["run_id"] for f in spec_files(spec)})
    return [str(path) for path in map(layout.eval_file, runs) if Path(path).is_file()]


def protocol_note(eval_paths: list[str]) -> list[str]:
    """One note naming the protocol behind the table's run cells, with how many runs followed each."""
    counts: dict[str, int] = {}
    for path in eval_paths:
        key = run_protocol(path)
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return []
    parts = [f"{k} ({n} run{'s' * (n > 1)})" for k, n in sorted(counts.items())]
    return ["Protocol of the run cells: " + "; ".join(parts) + "."]


def residual_bn_note(eval_paths: list[str]) -> list[str]:
    """A note naming the runs' ``residual_bn_init`` where it differs from the paper's initialisation (1),
    per architecture when the architectures start differently."""
    from ..pipeline.plan import ARCH_NAMES

    by_arch: dict[str, float] = {}
    for p in eval_paths:
        config = load(p).get("config", {})
        by_arch[config.get("arch", "")] = float(config.get("residual_bn_init", 1.0))
    values = set(by_arch.values())
    if values == {1.0}:
        return []
    if len(values) == 1:
        start = f"{values.pop():g}"
    else:
        start = ", ".join(f"{v:g} in {ARCH_NAMES.get(a, a)}" for a, v in sorted(by_arch.items()))
    return [f"Initialisation: the BN layers that feed each residual addition start at weight {start} (run "
            f"setting residual_bn_init; tdBN's alpha = 1/sqrt(2), Zheng et al. 2021); the paper's networks "
            f"start at PyTorch's 1."]


def recipe_note(eval_paths: list[str]) -> list[str]:
    """A note naming the training recipes (epochs, learning rate) where a table's runs were trained with
    more than one: the most common with its count (where one is), each other with the runs it trained (per-run
    settings such as ``role_settings`` or ``sdt_star_settings`` make these)."""
    from ..pipeline.plan import ARCH_NAMES

    by_recipe: dict[tuple[int, float], list[str]] = {}
    for p in eval_paths:
        c = load(p).get("config", {})
        if "lr" in c and "epochs" in c:
            arch = ARCH_NAMES.get(c.get("arch"), c.get("arch"))
            run = f"{c.get('method', '').upper()} T={c.get('t_max')} ({arch} on {c.get('dataset')})"
            by_recipe.setdefault((int(c["epochs"]), float(c["lr"])), []).append(run)
    if len(by_recipe) <= 1:
        return []
    counts = sorted((len(runs) for runs in by_recipe.values()), reverse=True)
    common = max(by_recipe, key=lambda r: len(by_recipe[r])) if counts[0] > max(1, counts[1]) else None
    parts = [f"{common[0]} epochs at lr {common[1]:g} ({counts[0]} runs)"] if common else []
    parts += [f"{e} epochs at lr {lr:g} for {', '.join(sorted(set(runs)))}"
              for (e, lr), runs in sorted(by_recipe.items()) if (e, lr) != common]
    return [f"Training: {'; '.join(parts)}."]


def cite_note(rows: list[dict]) -> list[str]:
    seen = sorted({r["cite"] for r in rows})
    return [f"Rows marked 'cited' are quoted from the paper: {'; '.join(seen)}."] if seen else []
