"""Multi-GPU (or multi-process CPU) training under torchrun with DistributedDataParallel.

    torchrun --nproc_per_node 4 -m tfsnn train --config run.yaml --out results/paper/runs/<id>

Every rank draws the same temporal configurations (the sampler is seeded alike) and its own shard of
each epoch's data (a DistributedSampler seeded from the run seed and the epoch); gradients of the s
configurations accumulate locally and are all-reduced once, on the last backward of the iteration.
Only rank 0 writes checkpoints, result files and MLflow records; a checkpoint holds the unwrapped
model, so a run resumes on any number of processes. After BN calibration, rank 0's statistics are
broadcast, so every rank holds the same (the public MTT code loses them under DataParallel).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init() -> Dist:
    """Join the process group that torchrun describes in the environment; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        dist.init_process_group(backend)
    return Dist(rank, world, local)


def device_for(d: Dist, requested: torch.device) -> torch.device:
    return torch.device("cuda", d.local_rank) if d.enabled and requested.type == "cuda" else requested


def wrap(model: nn.Module, d: Dist) -> nn.Module:
    if not d.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [d.local_rank] if next(model.parameters()).is_cuda else None
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


def no_sync(model: nn.Module, last: bool):
    """All-reduce gradients only on the last backward of an iteration."""
    return model.no_sync() if hasattr(model, "no_sync") and not last else contextlib.nullcontext()


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def all_reduce_sum(d: Dist, values: list[float], device: torch.device) -> list[float]:
    if not d.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def broadcast_buffers(d: Dist, model: nn.Module) -> None:
    """Rank 0's buffers (BN statistics) on every rank."""
    if d.enabled:
        for b in model.buffers():
            dist.broadcast(b, src=0)


def checksum(model: nn.Module, buffers: bool = False) -> float:
    tensors = list(model.buffers()) if buffers else [p.detach() for p in model.parameters()]
    return float(sum((t.double() * (i + 1)).sum() for i, t in enumerate(tensors) if t.is_floating_point()))


def assert_in_sync(d: Dist, model: nn.Module, what: str, buffers: bool = False) -> None:
    """Raise unless every rank holds bitwise the same parameters (or buffers)."""
    if not d.enabled:
        return
    mine = torch.tensor([checksum(model, buffers)], dtype=torch.float64,
                        device=next(model.parameters()).device)
    gathered = [torch.zeros_like(mine) for _ in range(d.world)]
    dist.all_gather(gathered, mine)
    values = [float(g) for g in gathered]
    if len(set(values)) != 1:
        raise RuntimeError(f"ranks disagree on {what}: checksums {values}")
