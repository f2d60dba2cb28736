"""The accuracy-estimation and search experiments on a trained run (5.3, A.3, A.9; Fig. 7A, 8).

estimator: measure ``n_fit + n_val`` seeded random non-uniform configurations (each calibrated at
itself ``repeats`` times), fit ``K_i`` and ``c`` on the first ``n_fit``, validate on the rest.
search: firing rates at uniform ``T_max``, budget ``EC_{T_g} = T_g * sum_i R_i``, exact search; then the
found configuration's measured test accuracy against uniform ``T_g``, with operation counts for both.
"""
from __future__ import annotations

import numpy as np

from ..errors import TfsnnError
from ..run_setup import Setup
from ..temporal import uniform
from .common import Progress, accuracy_at, sample_configs, split_loader
from .energy import count_ops, stage_rates
from .estimator import energy, fit, pearson, search


def estimator_experiment(st: Setup, n_fit: int, n_val: int, repeats: int, split: str, seed: int) -> dict:
    cfg, n = st.cfg, st.model.n_stages
    if n_fit < n + 1:
        raise TfsnnError(f"the estimator fits {n + 1} parameters for {n} stages; n_fit={n_fit} is too few "
                         f"(the paper uses 18)")
    loader = split_loader(st, split)
    configs = sample_configs(n, cfg.t_min, cfg.t_max, n_fit + n_val, seed)
    accs, progress = [], Progress("estimator: configurations evaluated", len(configs))
    for i, t in enumerate(configs):
        accs.append(accuracy_at(st, loader, t, repeats, purpose=100_000 + i * repeats)[0])
        progress.step(i + 1)
    f = fit(configs[:n_fit], accs[:n_fit])
    predicted = f.predict(configs[n_fit:]).tolist() if n_val else []
    measured = accs[n_fit:]
    return {"analysis": "estimator", "run_id": cfg.run_id(), "split": split, "repeats": repeats, "seed": seed,
            "K": f.K, "c": f.c, "r2_fit": f.r2, "n_fit": n_fit, "n_val": n_val,
            "configs": [list(t) for t in configs], "accuracy": accs,
            "validation": {"predicted": predicted, "measured": measured,
                           "pearson_r": pearson(predicted, measured) if n_val > 1 else None,
                           "mae": float(np.mean(np.abs(np.subtract(predicted, measured)))) if n_val else None}}


def search_experiment(st: Setup, estimator: dict, T_g: int, repeats: int, split: str,
                      ops_batches: int | None = None) -> dict:
    cfg, model, n = st.cfg, st.model, st.model.n_stages
    if estimator.get("run_id") != cfg.run_id():
        raise TfsnnError(f"the estimator was fitted on run {estimator.get('run_id')}, not {cfg.run_id()}; "
                         f"fit it on this run first")
    if not cfg.t_min <= T_g <= cfg.t_max:
        raise TfsnnError(f"T_g={T_g} is outside [t_min, t_max] = [{cfg.t_min}, {cfg.t_max}]")
    rates = stage_rates(model, split_loader(st, split), cfg.t_max, st.device)
    budget = energy(uniform(T_g, n), rates)
    found = search(estimator["K"], estimator["c"], rates, budget, cfg.t_min, cfg.t_max)
    test = split_loader(st, "test")
    best_acc, best_runs = accuracy_at(st, test, found.config, repeats, purpose=200_000)
    uniform_acc, _ = accuracy_at(st, test, uniform(T_g, n), repeats)
    ops = {name: count_ops(model, test, t, st.device, ops_batches)
           for name, t in (("found", found.config), ("uniform", uniform(T_g, n)))}
    return {"analysis": "search", "run_id": cfg.run_id(), "split": split, "T_g": T_g, "rates": rates,
            "budget": budget, "K": estimator["K"], "c": estimator["c"],
            "found": {"config": list(found.config), "estimate": found.estimate, "energy": found.energy,
                      "test_accuracy": best_acc, "test_accuracy_repeats": best_runs, **ops["found"]},
            "uniform": {"config": list(uniform(T_g, n)), "energy": budget, "test_accuracy": uniform_acc,
                        **ops["uniform"]},
            "nodes_visited": found.visited}
