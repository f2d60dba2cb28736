"""Accuracy estimator (4.3.3, A.3) and the exact energy-bounded search over temporal configurations.

The estimate of a configuration ``t`` is ``acc(t) = sum_i K_i * sqrt(log2 t_i) + c``; ``K`` and ``c``
come from least squares on measured accuracies. The search maximises the estimate subject to the
energy proxy ``sum_i t_i * R_i <= budget`` (``R_i``: firing rate of stage i at uniform ``T_max``), with
every ``t_i`` in ``[t_min, t_max]``, by depth-first search with pruning; the answer is exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import TfsnnError


class EstimatorError(TfsnnError):
    pass


def features(configs: Sequence[Sequence[int]]) -> np.ndarray:
    """``sqrt(log2 t_i)`` per stage, one row per configuration."""
    t = np.asarray(configs, dtype=np.float64)
    if t.ndim != 2 or (t < 1).any():
        raise EstimatorError("configurations must be a list of equal-length vectors of time steps >= 1")
    return np.sqrt(np.log2(t))


@dataclass
class Fit:
    K: list[float]
    c: float
    r2: float
    n: int

    def predict(self, configs: Sequence[Sequence[int]]) -> np.ndarray:
        return features(configs) @ np.asarray(self.K) + self.c


def fit(configs: Sequence[Sequence[int]], accs: Sequence[float]) -> Fit:
    """Least-squares ``K_i`` and ``c`` from configurations and their accuracies."""
    X = features(configs)
    y = np.asarray(accs, dtype=np.float64)
    n, p = X.shape[0], X.shape[1] + 1
    if len(y) != n:
        raise EstimatorError(f"{n} configurations but {len(y)} accuracies")
    if n < p:
        raise EstimatorError(f"the estimator has {p} parameters (K_1..K_{p - 1} and c) but only {n} configurations; "
                             f"evaluate at least {p} (the paper uses 18 for 8 stages)")
    A = np.hstack([X, np.ones((n, 1))])
    rank = np.linalg.matrix_rank(A)
    if rank < p:
        raise EstimatorError(f"the {n} configurations determine only {rank} of the {p} parameters (every stage "
                             f"needs configurations with different time steps); sample more varied configurations")
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss_tot if ss_tot > 0 else 1.0
    return Fit(K=coef[:-1].tolist(), c=float(coef[-1]), r2=r2, n=n)


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def energy(config: Sequence[int], rates: Sequence[float]) -> float:
    """The paper's energy proxy ``sum_i t_i * R_i`` (A.3)."""
    return float(sum(t * r for t, r in zip(config, rates)))


@dataclass
class SearchResult:
    config: tuple[int, ...]
    estimate: float
    energy: float
    budget: float
    visited: int


def search(K: Sequence[float], c: float, rates: Sequence[float], budget: float, t_min: int, t_max: int
           ) -> SearchResult:
    """The configuration with the highest estimated accuracy whose energy is within ``budget`` (exact).

    Depth-first over stages; a branch is cut when even the cheapest completion exceeds the budget, or
    when even the best completion cannot beat the best configuration found so far. Ties keep the
    first found, exploring larger time steps first.
    """
    n = len(K)
    if len(rates) != n:
        raise EstimatorError(f"{n} coefficients but {len(rates)} firing rates")
    if not 1 <= t_min <= t_max:
        raise EstimatorError(f"need 1 <= t_min <= t_max, got {t_min}, {t_max}")
    if any(r < 0 for r in rates):
        raise EstimatorError("firing rates must be non-negative")
    cheapest = energy([t_min] * n, rates)
    if budget < cheapest - 1e-12:
        raise EstimatorError(f"budget {budget:.6g} is below the cheapest configuration (all stages at t_min={t_min}: "
                             f"{cheapest:.6g}); raise the budget or lower t_min")
    steps = list(range(t_max, t_min - 1, -1))
    gain = [[k * math.sqrt(math.log2(t)) for t in steps] for k in K]        # per stage, per step
    best_gain = [max(g) for g in gain]
    # suffix sums: the most any completion from stage i on can add, and the least energy it needs
    rest_gain = [0.0] * (n + 1)
    rest_energy = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        rest_gain[i] = rest_gain[i + 1] + best_gain[i]
        rest_energy[i] = rest_energy[i + 1] + rates[i] * t_min
    best = {"value": -math.inf, "config": None}
    chosen = [0] * n
    visited = 0
    tol = 1e-12

    def dfs(i: int, value: float, used: float) -> None:
        nonlocal visited
        visited += 1
        if i == n:
            if value > best["value"] + tol:
                best["value"], best["config"] = value, tuple(chosen)
            return
        if value + rest_gain[i] <= best["value"] + tol:
            return
        for j, t in enumerate(steps):
            e = used + rates[i] * t
            if e + rest_energy[i + 1] > budget + tol:
                continue
            chosen[i] = t
            dfs(i + 1, value + gain[i][j], e)

    dfs(0, 0.0, 0.0)
    config = best["config"]
    return SearchResult(config=config, estimate=best["value"] + c, energy=energy(config, rates), budget=budget,
                        visited=visited)
