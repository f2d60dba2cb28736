"""One training epoch (SDT / NMT / MTT, Algorithm 1) and evaluation at uniform T or any configuration.

Evaluation at uniform T is causal (eval mode, no TTM): the per-step logits at ``T`` are the first ``T``
steps of a longer pass, so one pass at the largest requested ``T`` gives the accuracy at every ``T``.
"""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .bn import updates_as_repeated
from .distributed import no_sync
from .temporal import ConfigSampler


def autocast(device: torch.device, dtype: torch.dtype | None):
    """bf16 autocast where asked for (GPU runs), a no-op otherwise."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def _progress(iterable, desc: str, enabled: bool, total: int | None = None):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def train_one_epoch(model: nn.Module, loader: Iterable, optimizer: torch.optim.Optimizer,
                    sampler: ConfigSampler, s: int, device: torch.device,
                    autocast_dtype: torch.dtype | None = None, progress: bool = False,
                    desc: str = "train", after_step: Callable[[], None] | None = None) -> dict:
    """Algorithm 1: per batch, ``s`` configurations, losses summed (gradients accumulate), one step.

    A ``fixed`` sampler (SDT) draws the same configuration ``s`` times, and the ``s`` passes would be one
    pass repeated: the pass runs once, its gradients are accumulated ``s`` times in the order autograd
    would (the same bits on one CPU process) and BN's running statistics move as by ``s`` passes
    (:func:`tfsnn.bn.updates_as_repeated`). SDT iterations cost a third of what they did at ``s = 3``.

    Returns the mean loss per configuration, the training accuracy over all ``s`` passes, seconds, and
    the raw sums behind them (for reduction across processes). A DistributedDataParallel model
    all-reduces gradients once per iteration, on the last of the ``s`` backward passes.
    """
    model.train()
    repeat = s if getattr(sampler, "fixed", False) else 1   # how many of the s passes each pass run stands for
    runs = s // repeat
    start = time.perf_counter()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = passes = 0
    for x, y in _progress(loader, desc, progress, total=len(loader) if hasattr(loader, "__len__") else None):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        for i in range(runs):
            t = sampler.sample()
            with no_sync(model, last=i == runs - 1), updates_as_repeated(model, repeat):
                with autocast(device, autocast_dtype):
                    logits = model(x, t)
                    loss = F.cross_entropy(logits.float(), y)
                loss.backward()
            for _ in range(repeat):
                loss_sum += loss.detach()
                correct += (logits.detach().argmax(1) == y).sum()
                passes += 1
        if repeat > 1:
            accumulate_repeated(model, repeat)
        optimizer.step()
        if after_step is not None:
            after_step()
        seen += len(y)
    if passes == 0:
        raise ValueError("the training loader yielded no batches")
    return {"loss": float(loss_sum) / passes, "train_acc": float(correct) / (seen * s),
            "seconds": time.perf_counter() - start, "loss_sum": float(loss_sum), "passes": passes,
            "correct": float(correct), "seen": seen * s}


@torch.no_grad()
def accumulate_repeated(model: nn.Module, n: int) -> None:
    """Each gradient ``g`` becomes what ``n`` backward passes of ``g`` leave: ``((g + g) + g) ...``."""
    for p in model.parameters():
        if p.grad is not None:
            g = p.grad.clone()
            for _ in range(n - 1):
                p.grad.add_(g)


@torch.no_grad()
def step_logits(model: nn.Module, loader: Iterable, t: int | Sequence[int], device: torch.device,
                autocast_dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-step logits ``[T_last, N, K]`` (float32, CPU) and labels ``[N]`` over a whole loader."""
    model.eval()
    outs, labels = [], []
    for x, y in loader:
        with autocast(device, autocast_dtype):
            out = model(x.to(device, non_blocking=True), t, return_steps=True)
        outs.append(out.float().cpu())
        labels.append(y)
    return torch.cat(outs, 1), torch.cat(labels)


@torch.no_grad()
def evaluate_uniform(model: nn.Module, loader: Iterable, ts: Sequence[int], device: torch.device,
                     autocast_dtype: torch.dtype | None = None, progress: bool = False) -> dict[int, float]:
    """Accuracy at every uniform ``T`` in ``ts`` from one causal pass at ``max(ts)``."""
    model.eval()
    ts = sorted(set(int(T) for T in ts))
    T_run = ts[-1]
    correct = {T: 0 for T in ts}
    n = 0
    for x, y in _progress(loader, f"eval T<={T_run}", progress):
        y = y.to(device, non_blocking=True)
        with autocast(device, autocast_dtype):
            out = model(x.to(device, non_blocking=True), T_run, return_steps=True)
        csum = out.float().cumsum(0)
        for T in ts:
            correct[T] += int((csum[T - 1].argmax(1) == y).sum())
        n += len(y)
    return {T: correct[T] / n for T in ts}


@torch.no_grad()
def evaluate_config(model: nn.Module, loader: Iterable, t: int | Sequence[int], device: torch.device,
                    autocast_dtype: torch.dtype | None = None) -> float:
    """Accuracy at one temporal configuration ``t``."""
    model.eval()
    correct = n = 0
    for x, y in loader:
        with autocast(device, autocast_dtype):
            out = model(x.to(device, non_blocking=True), t)
        correct += int((out.argmax(1).cpu() == y).sum())
        n += len(y)
    return correct / n
