"""The remaining analyses on a trained run, each one call returning a JSON-able result:
SEENN-I (Table 5), noise injection (Fig. 5, 6), the loss landscape (Fig. 9), gradient metrics
(Table 13, 4.2) and the BN calibration sweep (4.3.2)."""
from __future__ import annotations

import statistics

import torch

from ..bn import bn_snapshot
from ..calibration import calibrate, calibration_loader
from ..engine import evaluate_uniform, step_logits
from ..errors import TfsnnError
from ..run_setup import Setup
from .common import Progress, split_loader
from .gradients import gradient_cosines, gradient_lengths
from .landscape import filter_normalized_direction, scan
from .noise import input_noise, weight_noise
from .seenn import exit_stats, find_threshold


def _summary(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "values": values}


def seenn_experiment(st: Setup, targets: list[float], tol: float, split: str) -> dict:
    """Thresholds found on ``split`` to reach each target average exit step, then applied to the test set."""
    T = st.cfg.t_max
    tune_logits, tune_labels = step_logits(st.model, split_loader(st, split), T, st.device, st.autocast_dtype)
    test_logits, test_labels = (tune_logits, tune_labels) if split == "test" else step_logits(
        st.model, split_loader(st, "test"), T, st.device, st.autocast_dtype)
    rows = []
    for target in targets:
        th = find_threshold(tune_logits, target, tol)
        tuned = exit_stats(tune_logits, tune_labels, th)
        test = exit_stats(test_logits, test_labels, th)
        rows.append({"target_avg_step": target, "threshold": th, "tuned_avg_step": tuned["avg_step"],
                     "test_accuracy": test["accuracy"], "test_avg_step": test["avg_step"]})
    full = float((test_logits.sum(0).argmax(-1) == test_labels).float().mean())
    return {"analysis": "seenn", "run_id": st.cfg.run_id(), "split": split, "T": T, "tol": tol, "rows": rows,
            "accuracy_at_T": full}


def noise_experiment(st: Setup, kind: str, grid: list[float], repeats: int, seed: int) -> dict:
    """Accuracy at uniform ``T_max`` under ``N(0, sigma^2)`` noise on weights or inputs, ``repeats`` draws each."""
    if kind not in ("weight", "input"):
        raise TfsnnError(f"noise goes on 'weight' or 'input', not {kind!r}")
    T, test = st.cfg.t_max, split_loader(st, "test")
    points, progress = [], Progress(f"{kind} noise: levels", len(grid))
    for i, sigma2 in enumerate(grid):
        accs = []
        for r in range(repeats):
            g = torch.Generator().manual_seed(seed * 1_000_003 + i * 1000 + r)
            if kind == "weight":
                with weight_noise(st.model, sigma2, g):
                    accs.append(evaluate_uniform(st.model, test, [T], st.device, st.autocast_dtype)[T])
            else:
                accs.append(evaluate_uniform(st.model, input_noise(test, sigma2, g), [T], st.device,
                                             st.autocast_dtype)[T])
        points.append({"sigma2": sigma2, **_summary(accs)})
        progress.step(i + 1)
    return {"analysis": f"noise-{kind}", "run_id": st.cfg.run_id(), "T": T, "repeats": repeats, "points": points}


def landscape_experiment(st: Setup, alphas: list[float], n_batches: int, seed: int) -> dict:
    """Loss and accuracy on the first ``n_batches`` test batches along one filter-normalised direction."""
    batches = []
    for x, y in split_loader(st, "test"):
        batches.append((x, y))
        if len(batches) == n_batches:
            break
    direction = filter_normalized_direction(st.model, torch.Generator().manual_seed(seed))
    points = scan(st.model, direction, alphas, batches, st.cfg.t_max, st.device, st.autocast_dtype)
    return {"analysis": "landscape", "run_id": st.cfg.run_id(), "T": st.cfg.t_max, "seed": seed,
            "samples": sum(len(y) for _, y in batches), "points": points}


def gradients_experiment(st: Setup) -> dict:
    """Table 13: gradient lengths over the whole training set (without augmentation) at uniform ``T_max``."""
    res = gradient_lengths(st.model, unaugmented_train(st), st.cfg.t_max, st.device)
    return {"analysis": "gradients", "run_id": st.cfg.run_id(), "T": st.cfg.t_max, **res}


def gradcos_experiment(st: Setup, t_a: int, t_b: int, n_batches: int) -> dict:
    """4.2: cosine similarity of the weight gradients at uniform ``t_a`` and ``t_b`` on the same training batches."""
    batches = []
    for x, y in calibration_loader(st, purpose=300_000):
        batches.append((x, y))
        if len(batches) == n_batches:
            break
    cos = gradient_cosines(st.model, batches, t_a, t_b, st.device)
    return {"analysis": "gradcos", "run_id": st.cfg.run_id(), "t_a": t_a, "t_b": t_b, **_summary(cos)}


def calbatches_experiment(st: Setup, batch_counts: list[int], repeats: int) -> dict:
    """Accuracy at uniform ``T_max`` after calibrating on 1, 2, 5, ... batches, ``repeats`` times each."""
    T, test = st.cfg.t_max, split_loader(st, "test")
    rows = []
    with bn_snapshot(st.model):
        for n in batch_counts:
            accs = []
            for r in range(repeats):
                calibrate(st, n_batches=n, purpose=400_000 + n * 100 + r)
                accs.append(evaluate_uniform(st.model, test, [T], st.device, st.autocast_dtype)[T])
            rows.append({"batches": n, **_summary(accs)})
    return {"analysis": "calbatches", "run_id": st.cfg.run_id(), "T": T, "repeats": repeats, "rows": rows}


def unaugmented_train(st: Setup):
    """The training split with the evaluation transform (no augmentation), in batches."""
    from torch.utils.data import DataLoader

    from ..data import ImageDataset

    train, test = st.data.train, st.data.test
    if isinstance(train, ImageDataset) and isinstance(test, ImageDataset):
        train = ImageDataset(train.images, train.labels, test.transform)
    return DataLoader(train, batch_size=max(st.cfg.batch_size, 256), shuffle=False, num_workers=st.cfg.workers)
