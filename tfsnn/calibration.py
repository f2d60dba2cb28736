"""A run's BN calibration: re-estimating its BN statistics on training batches at one temporal
configuration, and measuring accuracy on a calibrated copy of the model (the per-epoch probes).

The batches, their order and their augmentation come from generators seeded from ``(seed, purpose)``
(:mod:`tfsnn.seeding`): the same ``purpose`` gives the same batches in any process. The stateless
core (running the batches through the model and resetting its statistics) is :mod:`tfsnn.bn`.
"""
from __future__ import annotations

import copy

import torch

from .bn import calibrate_bn
from .engine import evaluate_uniform
from .errors import TfsnnError
from .run_setup import Setup, loader
from .seeding import CALIB, CALIB_AUG, SeededBatches, derived_seed
from .temporal import uniform


def calibration_loader(st: Setup, purpose: int = 0) -> SeededBatches:
    """Training batches for BN calibration (and probes): order and augmentation from ``(seed, purpose)``."""
    cfg = st.cfg
    batches = loader(st.data.train, cfg.batch_size, shuffle=True, seed=derived_seed(cfg.seed, CALIB, purpose),
                     workers=cfg.workers)
    return SeededBatches(batches, derived_seed(cfg.seed, CALIB_AUG, purpose))


def calibrate(st: Setup, model: torch.nn.Module | None = None, t=None, purpose: int = 0,
              n_batches: int | None = None) -> None:
    """BN calibration of ``model`` (default: the run's) at ``t`` (default uniform ``t_max``) on
    ``n_batches`` training batches (default the run's ``calib_batches``); ``purpose`` picks the batches."""
    cfg = st.cfg
    model = model if model is not None else st.model
    if cfg.fold_bn:
        raise TfsnnError(f"run {cfg.run_id()} has its BN folded into the weights and locked (fold_bn); there are "
                         f"no BN statistics to calibrate — evaluate it without calibration")
    t = t if t is not None else uniform(cfg.t_max, st.model.n_stages)
    n = cfg.calib_batches if n_batches is None else n_batches
    calibrate_bn(model, calibration_loader(st, purpose), t, n, st.device, st.autocast_dtype)


def probe_accuracy(st: Setup, model: torch.nn.Module, eval_batches, ts, purpose: int,
                   calibrated: bool = True) -> dict[int, float]:
    """Accuracy at uniform ``ts`` of a copy of ``model``, BN-calibrated first on ``purpose``'s batches if
    ``calibrated``; ``model`` itself is left as it is (per-epoch probes: Fig. 7C, epoch selection)."""
    probe = copy.deepcopy(model)
    if calibrated:
        calibrate(st, probe, purpose=purpose)
    return evaluate_uniform(probe, eval_batches, ts, st.device, st.autocast_dtype)
