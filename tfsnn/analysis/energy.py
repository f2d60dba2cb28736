"""Operation counts and an energy estimate of a configuration (beside the paper's ``sum t_i * R_i``).

Layers fed by spikes (or by TTM sums of spikes, or event counts) do accumulates: their synaptic
operations (SOPs) are counted exactly as the convolution of the input counts with an all-ones kernel,
summed (every input spike adds its weight to every output it reaches). Layers fed by analog values
(the first layer of a direct-encoded image) do multiply-accumulates, counted per time step.

Energy per operation, 45 nm, 32-bit floating point (Horowitz, "Computing's energy problem",
ISSCC 2014): an add 0.9 pJ, a multiply 3.7 pJ, so a multiply-accumulate 4.6 pJ — the constants most
SNN papers use for this estimate.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

E_AC_PJ = 0.9
E_MAC_PJ = 4.6


def _is_counts(x: torch.Tensor) -> bool:
    """Spikes, TTM sums of spikes and event counts are non-negative integers."""
    return bool((x >= 0).all()) and bool((x == x.round()).all())


def layer_sops(module: nn.Module, x: torch.Tensor) -> float:
    """Accumulates of a conv or linear layer fed by counts ``x``: each count reaches every output it touches."""
    if isinstance(module, nn.Conv2d):
        ones = torch.ones_like(module.weight)
        reach = F.conv2d(x, ones, None, module.stride, module.padding, module.dilation, module.groups)
        return float(reach.sum())
    return float(x.sum()) * module.out_features


@torch.no_grad()
def count_ops(model: nn.Module, batches: Iterable, t: int | Sequence[int], device: torch.device,
              max_batches: int | None = None) -> dict:
    """Per-sample SOPs, MACs and energy (pJ) of ``model`` at configuration ``t``, averaged over the batches."""
    model.eval()
    t_res = model.resolve(t) if hasattr(model, "resolve") else tuple(t)
    totals = {"sops": 0.0, "macs": 0.0}
    state = {"batch": 0}

    def hook(module, inputs, output):
        x = inputs[0]
        if _is_counts(x):
            totals["sops"] += layer_sops(module, x)
        else:
            per_out = (module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
                       if isinstance(module, nn.Conv2d) else module.in_features)
            per_frame = output[0].numel() * per_out
            totals["macs"] += per_frame * state["batch"] * t_res[0]   # the first stage runs t_1 steps

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    n = 0
    try:
        for x, _ in itertools.islice(batches, max_batches):
            state["batch"] = len(x)
            model(x.to(device), t_res)
            n += len(x)
    finally:
        for h in handles:
            h.remove()
    sops, macs = totals["sops"] / n, totals["macs"] / n
    return {"sops": sops, "macs": macs, "energy_pj": sops * E_AC_PJ + macs * E_MAC_PJ, "samples": n}


@torch.no_grad()
def stage_rates(model: nn.Module, batches: Iterable, T: int, device: torch.device,
                max_batches: int | None = None) -> list[float]:
    """Per-stage firing rates ``R_i`` at uniform ``T`` (A.3)."""
    model.eval()
    with model.recording_rates():
        for x, _ in itertools.islice(batches, max_batches):
            model(x.to(device), T)
        return model.firing_rates()
