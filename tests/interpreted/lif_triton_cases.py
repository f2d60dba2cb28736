"""The fused Triton LIF against the torch reference, on the CPU under TRITON_INTERPRET=1.

Run by tests/test_lif_triton.py in a process of its own: Triton reads TRITON_INTERPRET when it is
first imported, and other tests (through torch) may import it earlier in the main test process.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
if os.environ.get("TRITON_INTERPRET") != "1":
    raise RuntimeError("run these cases with TRITON_INTERPRET=1 (tests/test_lif_triton.py does)")

import pytest  # noqa: E402
import torch  # noqa: E402

from tfsnn.kernels import membrane_code  # noqa: E402
from tfsnn.neuron import LIF, lif_multistep, resolve_backend  # noqa: E402

pytest.importorskip("triton")


def reference_and_fused(x, **kw):
    xa = x.detach().clone().requires_grad_(True)
    xb = x.detach().clone().requires_grad_(True)
    sa = lif_multistep(xa, backend="torch", **kw)
    sb = lif_multistep(xb, backend="triton", **kw)
    w = torch.randn(sa.shape, generator=torch.Generator().manual_seed(3))
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    return sa, sb, xa.grad, xb.grad


@pytest.mark.parametrize("kw", [{}, {"tau": 0.25, "v_th": 0.5, "h": 0.5}])
def test_spikes_identical_and_gradients_close_fp32(kw):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 5, 7, generator=g) * 1.3
    x[1, 0, 0, :3] = torch.tensor([1.0, 0.5, 0.25])          # values that land on the threshold
    sa, sb, ga, gb = reference_and_fused(x, **kw)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_threshold_exact_inputs():
    x = (torch.randint(-2, 6, (5, 4, 9), generator=torch.Generator().manual_seed(1)) * 0.25).float()
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_channels_last_layout_is_kept():
    g = torch.Generator().manual_seed(2)
    frames = [torch.randn(2, 3, 4, 5, generator=g).contiguous(memory_format=torch.channels_last) for _ in range(4)]
    x = torch.stack(frames)                                   # [T, B, C, H, W], each frame channels_last
    assert not x.is_contiguous()
    s = lif_multistep(x, backend="triton")
    assert s.stride() == x.stride()                           # written in the layout it arrived in
    assert torch.equal(s, lif_multistep(x.contiguous(), backend="torch"))
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_input_broadcast_over_time_is_read_in_place():
    frame = torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    x = frame.unsqueeze(0).expand(5, 3, 4)                    # stride 0 along T (a direct-encoded stem output)
    assert x.stride(0) == 0
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_non_dense_input_falls_back_to_a_copy():
    x = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(5))[:, :, ::2]
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, pytest.param(torch.bfloat16, marks=pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") == "1", reason="Triton's CPU interpreter cannot load bfloat16 (numpy has "
    "no bfloat16); bench/ checks bf16 on the GPU"))])
def test_low_precision_saves_one_byte_codes_spikes_identical(dtype):
    kw = dict(tau=0.5, v_th=1.0, h=1.0)
    x = (torch.randn(6, 4, 64, generator=torch.Generator().manual_seed(6)) * 1.3).to(dtype)
    x[2, 0, :4] = torch.tensor([1.0, 0.0, 2.0, -1.0], dtype=dtype)   # threshold and window edges
    ref_in = x.float().requires_grad_(True)
    ref = lif_multistep(ref_in, backend="torch", **kw)
    xb = x.clone().requires_grad_(True)
    out = lif_multistep(xb, backend="triton", **kw)
    assert out.dtype == dtype and torch.equal(out.float(), ref)   # spikes identical
    (state,) = out.grad_fn.saved_tensors                           # all the backward pass keeps
    assert state.dtype == torch.uint8 and state.shape == x.shape
    v_ref = ref.grad_fn.saved_tensors[0]                           # the reference's float32 membrane
    assert torch.equal(state, membrane_code.encode(v_ref, 1.0, 1.0))
    w = torch.randn(ref.shape, generator=torch.Generator().manual_seed(7))
    (ref * w).sum().backward()
    (out.float() * w).sum().backward()
    twin = membrane_code.backward(w.to(dtype), state, **kw)        # the kernel's arithmetic, on what it received
    torch.testing.assert_close(xb.grad.float(), twin.to(dtype).float(), rtol=1e-3, atol=1e-4)
    err = ((xb.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max()).item()
    print(f"\n{dtype} one-byte membrane: max gradient error {err:.2e} of the largest fp32 gradient")
    assert err < 2e-2


def test_float32_saves_the_membrane_only():
    x = torch.randn(5, 3, 8, generator=torch.Generator().manual_seed(8)).requires_grad_(True)
    out = lif_multistep(x, backend="triton")
    (state,) = out.grad_fn.saved_tensors
    assert state.dtype == torch.float32
    torch.testing.assert_close(state, lif_multistep(x, backend="torch").grad_fn.saved_tensors[0], rtol=0, atol=0)


def test_module_and_backend_choice():
    lif = LIF(backend="triton")
    x = torch.randn(3, 2, 4)
    assert torch.equal(lif(x), LIF(backend="torch")(x))
    assert resolve_backend("auto", x) == "torch"              # CPU tensors use the reference
    assert resolve_backend("triton", x) == "triton"           # allowed here only because of the interpreter
