"""Epoch selection: which epoch of a training run the run reports (``epoch_selection``).

- ``final``: the last epoch (the honest default: nothing is chosen on the data that is reported);
- ``best_test``: the official code's protocol (``--save_best_model`` in every command of its README;
  ``train-time-stepped/train.py``): after every epoch the model is BN-calibrated (where the run
  calibrates) and tested, and the epoch with the highest accuracy at ``t_max`` is kept (the first one
  on ties, as its strict ``acc > max_acc``);
- ``best_val``: the same on the validation split held out of the training set.

The score of an epoch is its accuracy at uniform ``t_max``, as the official code tests at ``max_T``.
"""
from __future__ import annotations

from typing import Any

import torch

RULES = ("final", "best_test", "best_val")
SPLIT = {"final": None, "best_test": "test", "best_val": "val"}
DESCRIPTION = {"final": "final epoch",
               "best_test": "best test epoch (the official --save_best_model)",
               "best_val": "best validation epoch"}


class EpochSelection:
    """Keeps the best epoch seen so far (its number, scores and weights); checkpointable."""

    def __init__(self, rule: str, t_max: int, state: dict[str, Any] | None = None):
        if rule not in RULES:
            raise ValueError(f"epoch_selection '{rule}' is not one of {', '.join(RULES)}")
        self.rule, self.t_max = rule, int(t_max)
        state = state or {}
        self.epoch: int | None = state.get("epoch")
        self.accuracy: dict[str, float] | None = state.get("accuracy")
        self.weights: dict[str, torch.Tensor] | None = state.get("weights")

    @property
    def active(self) -> bool:
        return self.rule != "final"

    @property
    def split(self) -> str | None:
        return SPLIT[self.rule]

    def score(self, accuracy: dict[str, float]) -> float:
        return float(accuracy[str(self.t_max)])

    def update(self, epoch: int, accuracy: dict[str, float], model: torch.nn.Module) -> bool:
        """Offer an epoch's accuracies (keys: T as text); keep its weights if it scores best. True if kept."""
        if self.accuracy is not None and self.score(accuracy) <= self.score(self.accuracy):
            return False
        self.epoch, self.accuracy = epoch, dict(accuracy)
        self.weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "accuracy": self.accuracy, "weights": self.weights}

    def record(self, epochs: int) -> dict[str, Any]:
        """What ``train.json`` and ``eval.json`` say about the selection."""
        return {"rule": self.rule, "description": DESCRIPTION[self.rule], "split": self.split,
                "score": f"accuracy at T={self.t_max}" if self.active else None,
                "epoch": self.epoch if self.active else epochs, "epochs": epochs}
