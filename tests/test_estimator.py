"""Accuracy estimator against known coefficients; the search against brute force."""
import itertools
import math
import time

import numpy as np
import pytest

from tfsnn.analysis.estimator import EstimatorError, energy, features, fit, pearson, search


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    K = np.array([0.93, 0.53, 0.59, 0.67, 1.22, 0.48, 1.36, 0.18])   # the paper's CIFAR100 fit (5.3)
    c = 67.11
    configs = rng.integers(1, 7, size=(18, 8))
    accs = np.sqrt(np.log2(configs)) @ K + c
    f = fit(configs.tolist(), accs.tolist())
    np.testing.assert_allclose(f.K, K, atol=1e-6)
    assert f.c == pytest.approx(c, abs=1e-6) and f.r2 == pytest.approx(1.0)
    np.testing.assert_allclose(f.predict(configs), accs, atol=1e-6)


def test_features_are_sqrt_log2():
    assert features([[1, 2, 4, 8]]).tolist() == [[0.0, 1.0, math.sqrt(2), math.sqrt(3)]]


def test_fit_needs_enough_varied_configurations():
    with pytest.raises(EstimatorError, match="9 parameters .* only 5 configurations"):
        fit([[1] * 8] * 5, [0.5] * 5)
    with pytest.raises(EstimatorError, match="determine only"):
        fit([[t] * 8 for t in range(1, 7)] * 3, [0.1 * t for t in range(1, 7)] * 3)   # uniform configs only


def brute_force(K, c, rates, budget, t_min, t_max):
    best = -math.inf
    for t in itertools.product(range(t_min, t_max + 1), repeat=len(K)):
        if energy(t, rates) <= budget + 1e-12:
            best = max(best, sum(k * math.sqrt(math.log2(v)) for k, v in zip(K, t)) + c)
    return best


@pytest.mark.parametrize("seed", range(30))
def test_search_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    t_max = int(rng.integers(2, 7))
    K = rng.normal(0.5, 0.6, n).tolist()                       # some contributions negative
    rates = rng.uniform(0.01, 0.3, n).tolist()
    lo, hi = energy([1] * n, rates), energy([t_max] * n, rates)
    budget = float(rng.uniform(lo, hi))
    r = search(K, 1.0, rates, budget, 1, t_max)
    assert r.energy <= budget + 1e-12
    assert r.estimate == pytest.approx(brute_force(K, 1.0, rates, budget, 1, t_max), abs=1e-12)
    assert r.estimate == pytest.approx(sum(k * math.sqrt(math.log2(t)) for k, t in zip(K, r.config)) + 1.0)


def test_search_at_the_paper_scale_is_fast():
    K = [0.93, 0.53, 0.59, 0.67, 1.22, 0.48, 1.36, 0.18]
    rates = [0.21, 0.12, 0.15, 0.09, 0.11, 0.07, 0.05, 0.03]
    start = time.perf_counter()
    r = search(K, 67.11, rates, energy([3] * 8, rates), 1, 6)
    print(f"\n8 stages, T_max 6: {time.perf_counter() - start:.4f} s, {r.visited} nodes, best {r.config}")
    assert r.energy <= energy([3] * 8, rates) + 1e-12
    assert r.estimate >= sum(k * math.sqrt(math.log2(3)) for k in K) + 67.11   # no worse than uniform T=3


def test_search_errors():
    with pytest.raises(EstimatorError, match="below the cheapest configuration"):
        search([1.0, 1.0], 0.0, [0.5, 0.5], 0.5, 1, 4)
    with pytest.raises(EstimatorError, match="firing rates"):
        search([1.0, 1.0], 0.0, [0.5], 5.0, 1, 4)


def test_pearson():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
