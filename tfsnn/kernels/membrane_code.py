"""One byte per neuron-step: what the LIF backward pass needs of the membrane, for half-precision runs.

The backward pass (Eq. 12-15) reads the membrane ``v`` only through the spike ``s = v > V_th`` and the
triangle surrogate ``sg(v)`` (Eq. 6), which is zero outside the window ``(V_th - h, V_th + h)``. So a
byte holds all of it::

    0          v <= V_th - h                 no spike, sg = 0
    1 .. 127   V_th - h < v <= V_th          no spike, v in one of 127 equal bins
    128 .. 254 V_th < v < V_th + h           spike,    v in one of 127 equal bins
    255        v >= V_th + h                 spike,    sg = 0

The spike is exact (the code is taken from the float32 membrane the forward pass compared with
``V_th``); the membrane decodes to its bin's centre, within ``h / 254`` of the truth: about what a
bfloat16 membrane keeps near a threshold of 1 (rounding error up to 1/256 in [1, 2)), in a third of
the bytes of a bf16 membrane plus one-byte spikes. Measured on random currents (6 x 64 x 4096, T = 6):
the largest gradient error is 4.1e-3 of the largest float32 gradient, against 3.6e-3 for a bf16
membrane and 4.6e-4 for an fp16 one. The fused Triton kernel writes and reads exactly these codes;
this module is their plain-torch twin, used by the tests.
"""
from __future__ import annotations

import torch

LEVELS = 127          # bins per half-window
ABOVE = 255           # v >= V_th + h
FIRST_SPIKE = 128     # codes >= this carry a spike


def encode(v: torch.Tensor, v_th: float, h: float) -> torch.Tensor:
    """uint8 codes of float32 membranes ``v``."""
    v = v.float()
    bins_per_h = LEVELS / h                   # one float32 multiply, as in the kernel: codes agree bitwise
    below = ((v - (v_th - h)) * bins_per_h).to(torch.int32).clamp(max=LEVELS - 1) + 1
    above = ((v - v_th) * bins_per_h).to(torch.int32).clamp(max=LEVELS - 1) + FIRST_SPIKE
    code = torch.where(v > v_th, above, below)
    code = torch.where(v <= v_th - h, 0, code)
    code = torch.where(v >= v_th + h, ABOVE, code)
    return code.to(torch.uint8)


def decode(code: torch.Tensor, v_th: float, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(spikes, v)`` in float32; ``v`` is the bin centre, and meaningless where ``sg`` is zero."""
    c = code.to(torch.float32)
    spikes = (c >= FIRST_SPIKE).to(torch.float32)
    v = torch.where(c >= FIRST_SPIKE, v_th + (c - FIRST_SPIKE + 0.5) * (h / LEVELS),
                    v_th - h + (c - 0.5) * (h / LEVELS))
    return spikes, v


def surrogate_of(code: torch.Tensor, v_th: float, h: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(spikes, v, sg)`` from codes: Eq. 6 on the decoded membrane, zero outside the window."""
    spikes, v = decode(code, v_th, h)
    inside = (code > 0) & (code < ABOVE)
    sg = torch.where(inside, torch.clamp(h - (v - v_th).abs(), min=0.0) / (h * h), 0.0)
    return spikes, v, sg


def backward(grad_spikes: torch.Tensor, code: torch.Tensor, tau: float, v_th: float, h: float) -> torch.Tensor:
    """dL/dI from the codes: the recursion of Eq. 12-15, backwards in time, in float32."""
    spikes, v, sg = surrogate_of(code, v_th, h)
    grad = grad_spikes.float() * sg
    carry = tau * ((1.0 - spikes) - v * sg)
    for t in range(code.shape[0] - 2, -1, -1):
        grad[t] += carry[t] * grad[t + 1]
    return grad
