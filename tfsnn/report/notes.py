"""Notes that several tables print under their cells: where the numbers come from and on what data."""
from __future__ import annotations

OURS = "this preset"   # the Source column of cells computed from this preset's runs


def stand_in_note(groups: list[dict]) -> list[str]:
    """Which dataset of this preset stands in for each of the paper's datasets."""
    pairs = sorted({(g["dataset"], g["stand_in"]) for g in groups if g["dataset"].lower() != g["stand_in"]})
    if not pairs:
        return []
    return ["Datasets of this preset: " + ", ".join(f"{d} -> {s}" for d, s in pairs) + "."]


def seed_note(groups: list[dict]) -> list[str]:
    """How many seeds stand behind the run cells."""
    ns = sorted({len(g["evals"]) for g in groups})
    return [f"Run cells: mean±std over {'/'.join(map(str, ns))} seed(s) (no ± for one seed)."]
