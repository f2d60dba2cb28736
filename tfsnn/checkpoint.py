"""``checkpoint.pt``: the state of a run's training after its last finished epoch (model, optimiser,
learning-rate schedule, configuration sampler, history, epoch selection), from which a rerun resumes.

A checkpoint carries the hash of the settings that wrote it; one written by other settings is refused
rather than resumed.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .config import RunConfig, RunConfigError
from .errors import TfsnnError, WriteError
from .io import torch_save
from .run_setup import Setup
from .selection import EpochSelection


def check_checkpoint(ckpt: dict, cfg: RunConfig, path: Path) -> None:
    if ckpt.get("run_hash") != cfg.run_hash():
        raise RunConfigError(f"{path} was written by a run with other settings (run {ckpt.get('run_id')}); "
                             f"delete it to start afresh, or write this run to another folder")


def read_checkpoint(path: Path, cfg: RunConfig, device: torch.device) -> dict:
    """The checkpoint at ``path``, checked to be of the run ``cfg``."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:
        raise TfsnnError(f"{path} cannot be read ({type(e).__name__}); delete it to train afresh") from None
    check_checkpoint(ckpt, cfg, path)
    return ckpt


def save_checkpoint(path: Path, st: Setup, optimizer, scheduler, sampler, epoch: int, history: list,
                    mlflow_run_id: str | None, selection: EpochSelection) -> None:
    """Write the checkpoint after ``epoch``; if that fails, the previous one stays as it was."""
    try:
        torch_save({"run_id": st.cfg.run_id(), "run_hash": st.cfg.run_hash(), "epoch": epoch,
                    "model": st.model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "sampler": sampler.state_dict(),
                    "history": history, "mlflow_run_id": mlflow_run_id, "selection": selection.state_dict()}, path)
    except WriteError as e:
        after = f"resumes after epoch {epoch - 1}, from the last checkpoint" if epoch > 1 else "starts afresh"
        raise WriteError(f"{e} (training {after})") from None
