"""SEENN-I early exit against a hand-computed example."""
import math

import pytest
import torch

from tfsnn.analysis.seenn import early_exit, exit_stats, find_threshold
from tfsnn.errors import TfsnnError


def test_hand_computed_exit():
    # 3 steps, 3 samples, 2 classes. Partial sums of logits and their max softmax:
    # sample 0: [2,0] -> p=0.881 (> 0.8, exits at t=1, class 0)
    # sample 1: [0.5,0] -> 0.622; + [1,0] = [1.5,0] -> 0.818 (exits at t=2, class 0)
    # sample 2: [0,0.2] -> 0.550; [0,0.4] -> 0.599; [0,0.6] -> 0.646 (never confident: exits at T=3, class 1)
    logits = torch.tensor([[[2.0, 0.0], [0.5, 0.0], [0.0, 0.2]],
                           [[0.0, 0.0], [1.0, 0.0], [0.0, 0.2]],
                           [[0.0, 0.0], [0.0, 0.0], [0.0, 0.2]]])
    preds, steps = early_exit(logits, 0.8)
    assert preds.tolist() == [0, 0, 1] and steps.tolist() == [1, 2, 3]
    s = exit_stats(logits, torch.tensor([0, 1, 1]), 0.8)
    assert s["accuracy"] == pytest.approx(2 / 3) and s["avg_step"] == pytest.approx(2.0)


def test_threshold_is_strict():
    p = 1 / (1 + math.exp(-2.0))   # softmax max of logits [2, 0]
    logits = torch.tensor([[[2.0, 0.0]], [[0.0, 0.0]]])
    assert early_exit(logits, p - 1e-6)[1].item() == 1
    assert early_exit(logits, min(p + 1e-6, 0.999))[1].item() == 2


def test_find_threshold_hits_the_target():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 2000, 10, generator=g) * 1.5 + torch.randn(1, 2000, 10, generator=g)
    for target in (1.2, 1.09, 2.5):
        th = find_threshold(logits, target)
        _, steps = early_exit(logits, th)
        assert abs(steps.float().mean().item() - target) <= 0.02


def test_bad_thresholds():
    logits = torch.zeros(2, 1, 3)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(TfsnnError, match=r"\(0, 1\)"):
            early_exit(logits, bad)
    with pytest.raises(TfsnnError, match="outside"):
        find_threshold(logits, 3.5)
