"""SEENN-I (Li et al. 2023b): confidence-based early exit over time steps (Table 5).

One forward pass gives the per-step logits; at step t the partial logits are the sum of the first t
steps, and a sample exits at the first t whose largest softmax probability exceeds the threshold
(strictly), else at the last step.
"""
from __future__ import annotations

import torch

from ..errors import TfsnnError


def early_exit(logits_per_step: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions ``[N]`` and exit steps ``[N]`` (1-based) from logits ``[T, N, K]``."""
    if not 0.0 < threshold < 1.0:
        raise TfsnnError(f"an exit threshold is a softmax probability in (0, 1), got {threshold}")
    if logits_per_step.dim() != 3:
        raise TfsnnError(f"early_exit expects per-step logits [T, N, K], got shape {tuple(logits_per_step.shape)}")
    partial = logits_per_step.float().cumsum(0)
    conf, pred = partial.softmax(-1).max(-1)                  # [T, N]
    confident = conf > threshold
    confident[-1] = True                                      # everyone exits at T at the latest
    exit_idx = confident.to(torch.int64).argmax(0)            # first confident step
    preds = pred.gather(0, exit_idx.unsqueeze(0)).squeeze(0)
    return preds, exit_idx + 1


def exit_stats(logits_per_step: torch.Tensor, labels: torch.Tensor, threshold: float) -> dict:
    preds, steps = early_exit(logits_per_step, threshold)
    return {"threshold": threshold, "accuracy": float((preds == labels).float().mean()),
            "avg_step": float(steps.float().mean())}


def find_threshold(logits_per_step: torch.Tensor, target_avg_step: float, tol: float = 0.02,
                   iters: int = 60) -> float:
    """A threshold whose average exit step is within ``tol`` of ``target_avg_step`` (bisection).

    The average exit step grows with the threshold, from 1 (every sample exits at once) towards T.
    """
    T = logits_per_step.shape[0]
    if not 1.0 <= target_avg_step <= T:
        raise TfsnnError(f"target average exit step {target_avg_step} is outside [1, {T}]")
    lo, hi = 0.0, 1.0
    best, best_gap = None, float("inf")
    for _ in range(iters):
        mid = (lo + hi) / 2
        _, steps = early_exit(logits_per_step, mid)
        avg = float(steps.float().mean())
        if abs(avg - target_avg_step) < best_gap:
            best, best_gap = mid, abs(avg - target_avg_step)
        if avg < target_avg_step:
            lo = mid
        else:
            hi = mid
    if best_gap > tol:
        raise TfsnnError(f"no threshold reaches an average exit step of {target_avg_step} within {tol} (closest "
                         f"{target_avg_step + best_gap:.3f} or {target_avg_step - best_gap:.3f}); the logits' "
                         f"confidences are too coarse — evaluate more samples or relax the tolerance")
    return best
