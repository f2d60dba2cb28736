"""Multi-spike integrate-and-fire neuron with reset by subtraction (the official event-driven code's neuron).

The official ``train-event-driven`` code (Table 7, deployed on a Speck2e chip) builds every spiking
layer as a sinabs ``IAFSqueeze(min_v_mem=-1.0, spike_fn=MultiSpike, reset_fn=MembraneSubtract())``,
with sinabs' default surrogate, ``SingleExponential()`` (``models/snn_speck.py`` imports
``PeriodicExponential`` but passes it to no layer). Rebuilt here on time-first tensors ``[T, ...]``,
like :class:`tfsnn.neuron.LIF`::

    v[t]     = r[t-1] + I[t]                       r[-1] = 0    (no leak)
    s[t]     = max(0, floor(v[t] / V_th))          several spikes per step; fires when v >= V_th
    r[t]     = max(v[t] - s[t] * V_th, v_min)      reset by subtraction, membrane floored at v_min

``v_min = -1`` is sinabs' ``min_v_mem=-1.0`` (``None``: no floor). The reset is not detached (sinabs
subtracts the spike tensor itself). Backward, one pass backwards in time, with ``sg[t]`` the
surrogate of ``ds/dv`` at ``v[t]`` and ``m[t] = 1`` where the floor is not active (``r[t] > v_min``)::

    dL/dv[t] = dL/ds[t] * sg[t] + dL/dv[t+1] * m[t] * (1 - V_th * sg[t])
    dL/dI[t] = dL/dv[t]

The surrogate is sinabs' ``SingleExponential`` (width ``w = 0.5``, scale 1), a Laplace bump of area 1
at the threshold, the same for every spike count: ``sg(v) = exp(-|v - V_th| / (w V_th)) / (w V_th)``.

The official layers also keep their membranes from one batch to the next (sinabs state is reset only
when its shape changes, and the training loop never resets it); here every sample starts at rest.
"""
from __future__ import annotations

import torch

from .neuron import LIF

NEURONS = ("lif", "iaf_multispike")  # RunConfig.neuron: tfsnn's LIF (Eq. 1-4), or this module's neuron
GRAD_WIDTH = 0.5  # sinabs' default grad_width


def single_exponential(v: torch.Tensor, v_th: float, width: float = GRAD_WIDTH) -> torch.Tensor:
    """sinabs ``SingleExponential``: a Laplace bump of area 1 centred on the threshold."""
    w = v_th * width
    return torch.exp(-(v - v_th).abs() / w) / w


def multispike(v: torch.Tensor, v_th: float) -> torch.Tensor:
    """Spikes of membrane ``v``: ``floor(v / V_th)``, none below zero."""
    return torch.floor(v / v_th).clamp_(min=0.0)


class _IAFFunction(torch.autograd.Function):
    """Loop over T forward (saving the pre-reset membranes), one loop backwards in time."""

    @staticmethod
    def forward(ctx, x_seq: torch.Tensor, v_th: float, v_min: float | None):
        work = torch.float32 if x_seq.dtype in (torch.float16, torch.bfloat16) else x_seq.dtype
        x = x_seq.to(work)
        v_seq = torch.empty_like(x)
        spikes = torch.empty_like(x)
        r = torch.zeros_like(x[0])
        for t in range(x.shape[0]):
            torch.add(r, x[t], out=v_seq[t])
            spikes[t] = multispike(v_seq[t], v_th)
            r = v_seq[t] - spikes[t] * v_th
            if v_min is not None:
                r = r.clamp(min=v_min)
        ctx.save_for_backward(v_seq, spikes)
        ctx.v_th, ctx.v_min, ctx.in_dtype = v_th, v_min, x_seq.dtype
        return spikes.to(x_seq.dtype)

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor):
        v_seq, spikes = ctx.saved_tensors
        v_th, v_min = ctx.v_th, ctx.v_min
        sg = single_exponential(v_seq, v_th)
        carry = 1.0 - v_th * sg                                   # dr[t]/dv[t] through the subtraction
        if v_min is not None:
            carry = carry * (v_seq - spikes * v_th > v_min).to(carry.dtype)  # the floor passes no gradient
        grad_v = grad_spikes.to(v_seq.dtype) * sg
        for t in range(v_seq.shape[0] - 2, -1, -1):
            grad_v[t].addcmul_(carry[t], grad_v[t + 1])
        return grad_v.to(ctx.in_dtype), None, None


def iaf_multistep(x_seq: torch.Tensor, v_th: float = 1.0, v_min: float | None = -1.0) -> torch.Tensor:
    """Spike counts ``[T, ...]`` of an integrate-and-fire layer driven by the currents ``x_seq`` ``[T, ...]``."""
    if x_seq.dim() < 2:
        raise ValueError(f"iaf_multistep expects a time-first tensor [T, ...], got shape {tuple(x_seq.shape)}")
    return _IAFFunction.apply(x_seq, float(v_th), None if v_min is None else float(v_min))


class IAF(LIF):
    """Multi-spike integrate-and-fire layer on ``[T, B, ...]`` tensors.

    A :class:`~tfsnn.neuron.LIF` subclass so that networks count its spikes (several per step count
    as several) and swap it like any LIF; ``tau`` is fixed at 1 (no leak), ``h`` and ``backend`` unused.
    """

    def __init__(self, v_th: float = 1.0, v_min: float | None = -1.0):
        super().__init__(tau=1.0, v_th=v_th, backend="torch")
        self.v_min = v_min

    def fire(self, x_seq: torch.Tensor) -> torch.Tensor:
        return iaf_multistep(x_seq, self.v_th, self.v_min)

    def extra_repr(self) -> str:
        return f"v_th={self.v_th}, v_min={self.v_min}"


def to_iaf(lif: LIF) -> IAF:
    """The integrate-and-fire twin of ``lif`` (same threshold), for :func:`tfsnn.neuron.replace_lifs`."""
    return IAF(v_th=lif.v_th)
