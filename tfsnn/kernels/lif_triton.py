"""Fused LIF in Triton: the whole forward over T in one kernel, the whole backward over T in another.

Each program owns ``BLOCK`` neurons and loops over time with the membrane in registers (float32), so
the tensor is read and written once per step, in whatever dense layout it arrives in: every time
step of a ``[T, ...]`` tensor is a dense block of ``S`` elements (contiguous, channels_last, any
permutation), addressed through its storage; no ``.contiguous()`` copy. A stem output broadcast over
time (stride 0 along T) is read without materialising it.

Saved for the backward pass: for float32 inputs the membrane ``v`` (Eq. 1) in float32, from which the
spikes are recomputed (bitwise the forward's); for bfloat16/float16 inputs one byte per neuron-step,
the code of ``tfsnn.kernels.membrane_code``: the exact spike and the membrane to within ``h / 254``
inside the surrogate's window (all the backward pass reads of it). A bf16 training step thus keeps
one byte per neuron-step beyond the spikes the next convolution saves anyway.

The arithmetic is that of ``tfsnn.neuron`` (Eq. 1-4, 6, 12-15); tests compare the two under
``TRITON_INTERPRET=1`` on the CPU.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from ..temporal import dense_frame
from . import membrane_code

BLOCK = 1024


@triton.jit
def _lif_forward(x_ptr, x_tstride, out_ptr, state_ptr, T, S, tau, v_th, lo, hi, bins_per_h,
                 CODE: tl.constexpr, LEVELS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < S
    # pointers advance by one step per iteration (64-bit addresses: no index overflow for large T * S)
    x_p, o_p, st_p = x_ptr + offs, out_ptr + offs, state_ptr + offs
    u = tl.zeros([BLOCK], dtype=tl.float32)
    for _ in range(T):
        x = tl.load(x_p, mask=mask, other=0.0).to(tl.float32)
        v = tau * u + x                                   # Eq. 1
        spike = v > v_th                                  # Eq. 3, strict
        tl.store(o_p, spike.to(out_ptr.dtype.element_ty), mask=mask)
        if CODE:                                          # membrane_code.encode, one byte
            below = tl.minimum(((v - lo) * bins_per_h).to(tl.int32), LEVELS - 1) + 1
            above = tl.minimum(((v - v_th) * bins_per_h).to(tl.int32), LEVELS - 1) + LEVELS + 1
            code = tl.where(spike, above, below)
            code = tl.where(v <= lo, 0, code)
            code = tl.where(v >= hi, 2 * LEVELS + 1, code)
            tl.store(st_p, code.to(tl.uint8), mask=mask)
        else:
            tl.store(st_p, v, mask=mask)
        u = tl.where(spike, 0.0, v)                       # Eq. 4, hard reset
        x_p += x_tstride
        o_p += S
        st_p += S


@triton.jit
def _lif_backward(gs_ptr, state_ptr, gx_ptr, T, S, last, tau, v_th, h,
                  CODE: tl.constexpr, LEVELS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < S
    # start at the last step (offset ``last`` = (T-1) * S, passed from the host) and walk back
    g_p, st_p, x_p = gs_ptr + last + offs, state_ptr + last + offs, gx_ptr + last + offs
    carry = tl.zeros([BLOCK], dtype=tl.float32)          # dL/dv[t+1]
    for _ in range(T):
        if CODE:                                          # membrane_code.surrogate_of
            c = tl.load(st_p, mask=mask, other=0).to(tl.float32)
            spike = (c >= LEVELS + 1).to(tl.float32)
            v = tl.where(c >= LEVELS + 1, v_th + (c - LEVELS - 0.5) * (h / LEVELS), v_th - h + (c - 0.5) * (h / LEVELS))
            inside = (c > 0.0) & (c < 2 * LEVELS + 1)
            sg = tl.where(inside, tl.maximum(h - tl.abs(v - v_th), 0.0) / (h * h), 0.0)     # Eq. 6
        else:
            v = tl.load(st_p, mask=mask, other=0.0)
            spike = (v > v_th).to(tl.float32)
            sg = tl.maximum(h - tl.abs(v - v_th), 0.0) / (h * h)                         # Eq. 6
        gs = tl.load(g_p, mask=mask, other=0.0).to(tl.float32)
        g = gs * sg + tau * carry * ((1.0 - spike) - v * sg)                          # Eq. 12-15
        tl.store(x_p, g.to(gx_ptr.dtype.element_ty), mask=mask)
        carry = g
        g_p -= S
        st_p -= S
        x_p -= S


def _like_frames(frame: torch.Tensor, T: int, dtype: torch.dtype) -> torch.Tensor:
    """A ``[T, *frame.shape]`` tensor whose every step has ``frame``'s (dense) layout."""
    S = frame.numel()
    return torch.empty_strided((T,) + tuple(frame.shape), (S,) + tuple(frame.stride()), dtype=dtype,
                               device=frame.device)


class LIFTriton(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_seq: torch.Tensor, tau: float, v_th: float, h: float):
        T, frame = x_seq.shape[0], x_seq[0]
        if not dense_frame(frame) or x_seq.stride(0) not in (0, frame.numel()):
            x_seq = x_seq.contiguous()
            frame = x_seq[0]
        S = frame.numel()
        code = x_seq.dtype in (torch.bfloat16, torch.float16)
        out = _like_frames(frame, T, x_seq.dtype)
        state = _like_frames(frame, T, torch.uint8 if code else torch.float32)
        grid = (triton.cdiv(S, BLOCK),)
        _lif_forward[grid](frame, x_seq.stride(0), out, state, T, S, tau, v_th, v_th - h, v_th + h,
                           membrane_code.LEVELS / h, CODE=code, LEVELS=membrane_code.LEVELS, BLOCK=BLOCK)
        ctx.save_for_backward(state)
        ctx.code, ctx.tau, ctx.v_th, ctx.h = code, tau, v_th, h
        ctx.in_dtype = x_seq.dtype
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (state,) = ctx.saved_tensors
        T, frame = state.shape[0], state[0]
        S = frame.numel()
        if grad_out.stride() != state.stride():
            grad_out = _like_frames(frame, T, grad_out.dtype).copy_(grad_out)
        grad_x = _like_frames(frame, T, ctx.in_dtype)
        grid = (triton.cdiv(S, BLOCK),)
        _lif_backward[grid](grad_out, state, grad_x, T, S, (T - 1) * S, ctx.tau, ctx.v_th, ctx.h,
                            CODE=ctx.code, LEVELS=membrane_code.LEVELS, BLOCK=BLOCK)
        return grad_x, None, None, None


def lif_triton(x_seq: torch.Tensor, tau: float, v_th: float, h: float) -> torch.Tensor:
    return LIFTriton.apply(x_seq, float(tau), float(v_th), float(h))
