"""The fused kernel's self-check (tfsnn.kernels.self_check), under TRITON_INTERPRET=1 on the CPU or on a GPU.

Run in a process of their own by tests/test_lif_triton.py, like lif_triton_cases.py.
"""
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest  # noqa: E402
import torch  # noqa: E402
import triton  # noqa: E402
import triton.language as tl  # noqa: E402

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
if not INTERPRETED and not torch.cuda.is_available():
    raise RuntimeError("run these cases with TRITON_INTERPRET=1 (tests/test_lif_triton.py does) or on a CUDA device")
DEVICE = torch.device("cpu" if INTERPRETED else "cuda")

from tfsnn.kernels import lif_triton as fused  # noqa: E402
from tfsnn.kernels import self_check  # noqa: E402
from tfsnn.neuron import LIF, lif_multistep  # noqa: E402


@triton.jit
def _broken_forward(x_ptr, x_tstride, out_ptr, state_ptr, T, S, tau, v_th, lo, hi, bins_per_h,
                    CODE: tl.constexpr, LEVELS: tl.constexpr, BLOCK: tl.constexpr):
    """A deliberately broken forward kernel: it never resets the membrane after a spike (Eq. 4 dropped)."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < S
    x_p, o_p, st_p = x_ptr + offs, out_ptr + offs, state_ptr + offs
    u = tl.zeros([BLOCK], dtype=tl.float32)
    for _ in range(T):
        v = tau * u + tl.load(x_p, mask=mask, other=0.0).to(tl.float32)
        tl.store(o_p, (v > v_th).to(out_ptr.dtype.element_ty), mask=mask)
        tl.store(st_p, v, mask=mask)
        u = v
        x_p += x_tstride
        o_p += S
        st_p += S


@pytest.fixture
def fresh_verdicts():
    self_check.forget_verdicts()
    yield
    self_check.forget_verdicts()


@pytest.fixture
def broken_kernel(monkeypatch, fresh_verdicts):
    monkeypatch.setattr(fused, "_lif_forward", _broken_forward)


def x_seq(seed=0):
    return torch.randn(4, 3, 8, generator=torch.Generator().manual_seed(seed)).mul(1.5).to(DEVICE)


def test_the_real_kernel_passes_and_runs(fresh_verdicts):
    x = x_seq()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # no warning at all
        out = lif_multistep(x, backend="triton")
    assert self_check.failed_check(fused.lif_triton, DEVICE, torch.float32) is None
    assert self_check.kernel_trusted(DEVICE, torch.float32)
    assert out.grad_fn is None or type(out.grad_fn).__name__.startswith("LIFTriton")


def test_a_broken_kernel_warns_once_names_the_check_and_the_reference_takes_over(broken_kernel):
    x = x_seq().requires_grad_(True)
    with pytest.warns(RuntimeWarning, match=r"failed its self-check .*spikes identical to the reference") as w:
        out = lif_multistep(x, backend="triton")
    assert len(w) == 1
    assert torch.equal(out, lif_multistep(x, backend="torch"))   # the reference's spikes, not the broken ones
    assert "LIFTorch" in type(out.grad_fn).__name__
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # never again in this process
        for seed in range(3):
            LIF(backend="triton")(x_seq(seed))
    assert not self_check.kernel_trusted(DEVICE, torch.float32)


def test_the_broken_kernel_really_is_broken(broken_kernel):
    """Without the check the broken kernel's spikes differ: the check is what keeps them out."""
    x = x_seq()
    assert not torch.equal(fused.lif_triton(x, 0.5, 1.0, 1.0), lif_multistep(x, backend="torch"))


def test_a_kernel_that_raises_fails_the_first_check(fresh_verdicts):
    def crashing(x, tau, v_th, h):
        raise RuntimeError("no kernel image is available for execution on the device")

    failed = self_check.failed_check(crashing, DEVICE, torch.float32)
    assert failed.startswith("runs (RuntimeError: no kernel image")
