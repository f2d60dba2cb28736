"""Evaluate a finished run at uniform time steps or at one temporal configuration."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .calibration import calibrate
from .engine import evaluate_config, evaluate_uniform
from .errors import TfsnnError
from .run_setup import eval_loader, open_run
from .temporal import check_config, format_config, parse_config


def parse_steps(text: str | Sequence[int] | None, default: Sequence[int]) -> list[int]:
    if text is None:
        return list(default)
    values = parse_config(text)
    if min(values) < 1:
        raise TfsnnError(f"time steps must be at least 1, got {format_config(values)}")
    return sorted(set(values))


def recalibrated_accuracy(st, loader, t, repeats: int, purpose: int = 1000) -> list[float]:
    """Accuracies at ``t`` after BN calibration at ``t``, once per repeat on other training batches (A.3)."""
    accs = []
    for i in range(repeats):
        calibrate(st, t=t, purpose=purpose + i)
        accs.append(evaluate_config(st.model, loader, t, st.device, st.autocast_dtype))
    return accs


def evaluate_run(model_path: str | Path, ts=None, config=None, split: str = "test",
                 calibrate_at_config: bool = False, repeats: int = 3, device: str | None = None,
                 data_root: str | None = None) -> dict:
    """Accuracy of ``model_path`` at uniform ``ts`` (one causal pass) or at configuration ``config``.

    With ``calibrate_at_config`` BN is recalibrated at the evaluated configuration ``repeats`` times
    (other training batches each time) and the accuracies are averaged, as A.3 does.
    """
    st = open_run(model_path, device=device, data_root=data_root)
    cfg, model = st.cfg, st.model
    if split == "val" and st.data.val is None:
        raise TfsnnError(f"run {cfg.run_id()} has no validation split (val_split: 0); evaluate on test or "
                         f"train with val_split > 0")
    loader = eval_loader(st, split)
    result = {"run_id": cfg.run_id(), "model": str(model_path), "split": split}
    if config is not None:
        t = check_config(parse_config(config), model.n_stages, 1, cfg.t_max)
        if calibrate_at_config:
            if repeats < 1:
                raise TfsnnError(f"--repeats must be at least 1, got {repeats}")
            accs = recalibrated_accuracy(st, loader, t, repeats)
            acc = sum(accs) / len(accs)
            result["repeats"] = accs
        else:
            acc = evaluate_config(model, loader, t, st.device, st.autocast_dtype)
        result.update(config=list(t), calibrated_at_config=calibrate_at_config,
                      accuracy={format_config(t): acc})
        return result
    steps = parse_steps(ts, cfg.eval_steps())
    if calibrate_at_config:
        accs = {}
        for T in steps:
            runs = recalibrated_accuracy(st, loader, T, repeats)
            accs[T] = sum(runs) / len(runs)
    else:
        accs = evaluate_uniform(model, loader, steps, st.device, st.autocast_dtype)
    result.update(ts=steps, calibrated_at_config=calibrate_at_config,
                  accuracy={str(T): a for T, a in accs.items()})
    return result
