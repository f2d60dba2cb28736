"""Multi-step LIF neuron with the triangle surrogate gradient.

Forward, Eq. 1-4 of the paper, on time-first tensors ``[T, ...]``::

    v[t] = tau * u[t-1] + I[t]          u[-1] = 0
    s[t] = H(v[t] - V_th)               strict: a spike needs v > V_th
    u[t] = v[t] * (1 - s[t])            hard reset, *not* detached

Backward, Eq. 12-15, one pass backwards in time. With the surrogate (Eq. 6)
``sg[t] = max(0, h - |V_th - v[t]|) / h^2`` standing for ``ds/dv``::

    du[t]/dv[t] = 1 - s[t] - v[t] * sg[t]                        (Eq. 12)
    dL/dv[t]    = dL/ds[t] * sg[t] + tau * dL/dv[t+1] * du[t]/dv[t]
    dL/dI[t]    = dL/dv[t]

The second line is the recursion whose unrolled form is Eq. 15.
"""
from __future__ import annotations

import os

import torch
from torch import nn

BACKENDS = ("auto", "torch", "triton")


def surrogate(v: torch.Tensor, v_th: float, h: float) -> torch.Tensor:
    """Triangle surrogate of ds/dv (Eq. 6)."""
    return torch.clamp(h - (v - v_th).abs(), min=0.0) / (h * h)


class _LIFTorch(torch.autograd.Function):
    """Reference LIF in plain torch ops: a loop over T forward, one loop backwards in time.

    Only the membrane potentials ``v`` are saved; spikes and surrogate values are recomputed from
    them for all steps at once, so each loop iteration is a single fused-ish update.
    """

    @staticmethod
    def forward(ctx, x_seq: torch.Tensor, tau: float, v_th: float, h: float):
        v_seq = torch.empty_like(x_seq)
        v_seq[0] = x_seq[0]
        for t in range(1, x_seq.shape[0]):
            u = v_seq[t - 1].masked_fill(v_seq[t - 1] > v_th, 0.0)       # Eq. 4, u[t-1]
            torch.add(x_seq[t], u, alpha=tau, out=v_seq[t])                # Eq. 1
        ctx.save_for_backward(v_seq)
        ctx.tau, ctx.v_th, ctx.h = tau, v_th, h
        return (v_seq > v_th).to(x_seq.dtype)                              # Eq. 3, strict

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor):
        (v_seq,) = ctx.saved_tensors
        tau, v_th, h = ctx.tau, ctx.v_th, ctx.h
        sg = surrogate(v_seq, v_th, h)
        no_spike = (v_seq <= v_th).to(v_seq.dtype)
        carry = (no_spike - v_seq * sg).mul_(tau)      # tau * du[t]/dv[t], Eq. 12-13
        grad_x = grad_spikes * sg                      # direct path dL/ds[t] * ds[t]/dv[t]
        for t in range(v_seq.shape[0] - 2, -1, -1):    # dL/dv[t] += tau * du[t]/dv[t] * dL/dv[t+1]
            grad_x[t].addcmul_(carry[t], grad_x[t + 1])
        return grad_x, None, None, None


def _triton_available() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str, x_seq: torch.Tensor) -> str:
    """``auto``: the fused Triton kernel on CUDA tensors, the torch reference elsewhere."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown LIF backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "triton" if x_seq.is_cuda and _triton_available() else "torch"
    if backend == "triton":
        if not _triton_available():
            raise ValueError("the triton LIF backend needs the triton package; use backend='torch'")
        if not x_seq.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
            raise ValueError("the triton LIF backend runs on CUDA tensors (or on the CPU under "
                             "TRITON_INTERPRET=1, for tests); use backend='torch' or 'auto' on the CPU")
    return backend


def lif_multistep(x_seq: torch.Tensor, tau: float = 0.5, v_th: float = 1.0, h: float = 1.0,
                  backend: str = "auto") -> torch.Tensor:
    """Spikes ``[T, ...]`` of a LIF layer driven by the input currents ``x_seq`` ``[T, ...]``."""
    if x_seq.dim() < 2:
        raise ValueError(f"lif_multistep expects a time-first tensor [T, ...], got shape {tuple(x_seq.shape)}")
    if resolve_backend(backend, x_seq) == "triton":
        from .kernels.lif_triton import lif_triton
        from .kernels.self_check import kernel_trusted

        if kernel_trusted(x_seq.device, x_seq.dtype):     # checked against the reference once per device, dtype
            return lif_triton(x_seq, tau, v_th, h)
    return _LIFTorch.apply(x_seq, float(tau), float(v_th), float(h))


class LIF(nn.Module):
    """LIF layer on ``[T, B, ...]`` tensors; counts its spikes while ``recording`` is on."""

    def __init__(self, tau: float = 0.5, v_th: float = 1.0, h: float = 1.0, backend: str = "auto"):
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"unknown LIF backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.tau, self.v_th, self.h, self.backend = float(tau), float(v_th), float(h), backend
        self.recording = False
        self.spike_count = 0.0
        self.neuron_steps = 0

    def reset_counts(self) -> None:
        self.spike_count = 0.0
        self.neuron_steps = 0

    def fire(self, x_seq: torch.Tensor) -> torch.Tensor:
        """The spikes of ``x_seq`` (subclasses with other dynamics override this, and keep the counting)."""
        return lif_multistep(x_seq, self.tau, self.v_th, self.h, self.backend)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        spikes = self.fire(x_seq)
        if self.recording:
            self.spike_count = self.spike_count + spikes.detach().sum(dtype=torch.float64)
            self.neuron_steps += spikes.numel()
        return spikes

    def extra_repr(self) -> str:
        return f"tau={self.tau}, v_th={self.v_th}, h={self.h}, backend={self.backend!r}"


def replace_lifs(module: nn.Module, make) -> nn.Module:
    """Swap every :class:`LIF` inside ``module`` for ``make(lif)`` (a ReLU floor, another implementation, a
    reference); returns ``module``."""
    for name, child in module.named_children():
        if isinstance(child, LIF):
            setattr(module, name, make(child))
        else:
            replace_lifs(child, make)
    return module
