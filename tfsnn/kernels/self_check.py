"""The fused kernel checks itself where it runs.

The first time the Triton LIF runs on a device and dtype, it is compared with the torch reference on
a small seeded input: the spikes must be identical and the input gradients close. A kernel that fails
(a miscompile on a new GPU or Triton version, an unsupported dtype) is not trusted again in this
process: one warning names the failed check, and every later call uses the torch reference.
"""
from __future__ import annotations

import warnings
from typing import Callable

import torch

# max |grad_fused - grad_reference| / max |grad_reference|: float32 keeps the membrane exactly; half
# precision keeps one byte per neuron-step (membrane to within h / 254 in the surrogate's window)
GRADIENT_TOLERANCE = {torch.float32: 1e-4, torch.float16: 3e-2, torch.bfloat16: 3e-2}
SHAPE = (5, 2, 3, 41)  # [T, ...]: more neurons than fit a warp, fewer than one block
PARAMS = dict(tau=0.5, v_th=1.0, h=1.0)

_verdicts: dict[tuple[str, torch.dtype], bool] = {}


def failed_check(kernel: Callable, device: torch.device, dtype: torch.dtype) -> str | None:
    """The name of the first check ``kernel(x_seq, tau, v_th, h)`` fails on ``device`` and ``dtype``
    (with what it measured), or None when it passes them all."""
    from ..neuron import lif_multistep

    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(SHAPE, generator=gen) * 1.3).to(device=device, dtype=dtype)
    weight = torch.randn(SHAPE, generator=gen).to(device)
    ref_in = x.float().clone().requires_grad_(True)   # (x.float() is x itself for float32)
    ref = lif_multistep(ref_in, backend="torch", **PARAMS)
    (ref * weight).sum().backward()
    fused_in = x.clone().requires_grad_(True)
    try:
        out = kernel(fused_in, PARAMS["tau"], PARAMS["v_th"], PARAMS["h"])
        (out.float() * weight).sum().backward()
    except Exception as e:  # a kernel that does not run at all fails the first check
        return f"runs ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    if out.shape != ref.shape or out.dtype != dtype:
        return f"output shape and dtype ({tuple(out.shape)}, {out.dtype}; expected {tuple(ref.shape)}, {dtype})"
    wrong = (out.float() != ref).sum().item()
    if wrong:
        return f"spikes identical to the reference ({wrong} of {ref.numel()} differ)"
    if fused_in.grad is None:
        return "input gradient (none computed)"
    err = ((fused_in.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max().clamp_min(1e-12)).item()
    if not err <= GRADIENT_TOLERANCE[dtype]:
        return f"input gradients close to the reference (relative error {err:.2e} > {GRADIENT_TOLERANCE[dtype]:.0e})"
    return None


def kernel_trusted(device: torch.device, dtype: torch.dtype, kernel: Callable | None = None) -> bool:
    """Whether the fused kernel passed its self-check on ``device`` and ``dtype`` (run once per process)."""
    key = (str(device), dtype)
    if key not in _verdicts:
        if dtype not in GRADIENT_TOLERANCE:
            return False  # the reference handles other dtypes; no check, no warning
        if kernel is None:
            from .lif_triton import lif_triton as kernel
        with torch.inference_mode(False), torch.enable_grad(), torch.autocast(torch.device(device).type, enabled=False):
            failed = failed_check(kernel, torch.device(device), dtype)
        _verdicts[key] = failed is None
        if failed:
            warnings.warn(f"tfsnn: the fused Triton LIF kernel failed its self-check on {device} with {dtype}: "
                          f"{failed}. This process uses the torch reference (backend='torch') from now on; "
                          "please report this with your GPU, torch and triton versions.", RuntimeWarning, stacklevel=3)
    return _verdicts[key]


def forget_verdicts() -> None:
    """Check again on next use (tests; a process that swapped its Triton)."""
    _verdicts.clear()
