"""What the analyses share: loaders of a run's splits, accuracy at a configuration, sampling configurations."""
from __future__ import annotations

import sys
import time
from typing import Sequence

import torch

from ..bn import bn_snapshot
from ..engine import evaluate_config
from ..errors import TfsnnError
from ..evaluate import recalibrated_accuracy
from ..run_setup import Setup, eval_loader

SPLITS = ("test", "val")


def split_loader(st: Setup, split: str):
    if split not in SPLITS:
        raise TfsnnError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "val" and st.data.val is None:
        raise TfsnnError(f"run {st.cfg.run_id()} has no validation split (val_split: 0); tune on 'test' as the "
                         f"paper does, or train with val_split > 0")
    return eval_loader(st, split)


def accuracy_at(st: Setup, loader, t: Sequence[int], repeats: int, purpose: int = 0) -> tuple[float, list[float]]:
    """Accuracy at configuration ``t``: a uniform one with the model's (T_max) BN statistics; a non-uniform
    one calibrated at itself ``repeats`` times on different training batches, accuracies averaged (A.3).
    The model's statistics are restored afterwards."""
    t = tuple(int(v) for v in t)
    if len(set(t)) == 1 or repeats == 0:
        acc = evaluate_config(st.model, loader, t, st.device, st.autocast_dtype)
        return acc, [acc]
    with bn_snapshot(st.model):
        accs = recalibrated_accuracy(st, loader, t, repeats, purpose)
    return sum(accs) / len(accs), accs


def sample_configs(n_stages: int, t_min: int, t_max: int, n: int, seed: int) -> list[tuple[int, ...]]:
    """``n`` distinct non-uniform configurations, each ``t_i`` uniform in ``[t_min, t_max]``, seeded."""
    space = (t_max - t_min + 1) ** n_stages - (t_max - t_min + 1)
    if n > space:
        raise TfsnnError(f"asked for {n} distinct non-uniform configurations but only {space} exist for "
                         f"{n_stages} stages and T in [{t_min}, {t_max}]; ask for fewer")
    g = torch.Generator().manual_seed(seed)
    seen, out = set(), []
    while len(out) < n:
        t = tuple(torch.randint(t_min, t_max + 1, (n_stages,), generator=g).tolist())
        if len(set(t)) > 1 and t not in seen:
            seen.add(t)
            out.append(t)
    return out


class Progress:
    """A line every few seconds for long analyses (configurations evaluated, ...)."""

    def __init__(self, what: str, total: int, every: float = 10.0):
        self.what, self.total, self.every = what, total, every
        self.start = self.last = time.perf_counter()

    def step(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every or done == self.total:
            self.last = now
            print(f"{self.what}: {done}/{self.total} ({now - self.start:.0f}s)", file=sys.stderr, flush=True)
