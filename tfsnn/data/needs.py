"""What a preset needs of the datasets (``python -m tfsnn prepare list --preset mini``): per dataset and
root, the targets whose runs read it, and whether its files are there (checked without converting).

The datasets come from the pipeline's plan of the preset (:class:`tfsnn.pipeline.plan.Plan`), so the
list is what ``snakemake all`` would train on. Relative roots are taken from the current folder, as
the pipeline takes them from the repository root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import DataError, TfsnnError
from .registry import dataset_spec

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class Need:
    dataset: str
    root: str
    targets: tuple[str, ...]
    missing: str  # why the dataset cannot be read and where to get it; empty when its files are there


def preset_config(preset: str) -> dict:
    """The preset ``smoke`` (config/config.yaml), ``mini``, ``paper`` (config/<name>.yaml), or a YAML file."""
    path = CONFIG_DIR / ("config.yaml" if preset == "smoke" else f"{preset}.yaml")
    if not path.is_file():
        path = Path(preset)
    if not path.is_file():
        raise TfsnnError(f"no preset {preset!r}: give smoke, mini, paper or a preset's YAML file")
    return yaml.safe_load(path.read_text())


def targets_by_dataset(config: dict) -> dict[tuple[str, str], set[str]]:
    """(dataset, root) -> the targets whose runs read it, from the pipeline's plan of ``config``."""
    from ..pipeline.plan import Plan

    plan = Plan(config)
    out: dict[tuple[str, str], set[str]] = {}
    for rid, cfg in plan.runs.items():
        out.setdefault((cfg.dataset, str(cfg.data_root)), set()).update(plan.run_targets[rid])
    return out


def why_missing(dataset: str, root: str) -> str:
    try:
        dataset_spec(dataset).check(Path(root))
    except DataError as e:
        return str(e)
    return ""


def needs(preset: str) -> list[Need]:
    return [Need(dataset, root, tuple(sorted(targets)), why_missing(dataset, root))
            for (dataset, root), targets in sorted(targets_by_dataset(preset_config(preset)).items())]


def render(preset: str) -> str:
    """A table: dataset, root, present / missing, the targets needing it; then where to get what is missing."""
    rows = needs(preset)
    table = [("dataset", "root", "files", "targets")] + [
        (n.dataset, n.root, "missing" if n.missing else "present", " ".join(n.targets)) for n in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = [f"Datasets of preset {preset} (relative roots from {Path.cwd()}):"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3] for row in table]
    missing = [n for n in rows if n.missing]
    if missing:
        lines += ["", "Missing:"] + [f"- {n.dataset}: {n.missing}" for n in missing]
    return "\n".join(lines)
