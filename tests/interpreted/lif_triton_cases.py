"""The fused Triton LIF against the torch reference: on the CPU under TRITON_INTERPRET=1 (CI), or on a GPU.

Under the interpreter these run in a process of their own (tests/test_lif_triton.py): Triton reads
TRITON_INTERPRET when it is first imported, and other tests (through torch) may import it earlier in
the main test process. On a machine with CUDA, `PYTHONPATH=. pytest tests/interpreted/lif_triton_cases.py
-o python_files=*.py` runs the same cases on the GPU, bfloat16 included.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest  # noqa: E402
import torch  # noqa: E402

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
if not INTERPRETED and not torch.cuda.is_available():
    raise RuntimeError("run these cases with TRITON_INTERPRET=1 (tests/test_lif_triton.py does) or on a CUDA device")
DEVICE = torch.device("cpu" if INTERPRETED else "cuda")

from tfsnn.kernels import membrane_code  # noqa: E402
from tfsnn.memory import saved_activation_bytes  # noqa: E402
from tfsnn.models import build_model  # noqa: E402
from tfsnn.neuron import LIF, lif_multistep, replace_lifs, resolve_backend  # noqa: E402

pytest.importorskip("triton")
# the kernel must pass its self-check (tfsnn.kernels.self_check) here: a fallback to the reference would
# make every comparison below trivially true
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def randn(*shape, seed):
    """Seeded normal values drawn on the CPU (the same numbers everywhere), then moved to DEVICE."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(DEVICE)


def reference_and_fused(x, **kw):
    xa = x.detach().clone().requires_grad_(True)
    xb = x.detach().clone().requires_grad_(True)
    sa = lif_multistep(xa, backend="torch", **kw)
    sb = lif_multistep(xb, backend="triton", **kw)
    w = randn(*sa.shape, seed=3)
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    return sa, sb, xa.grad, xb.grad


@pytest.mark.parametrize("kw", [{}, {"tau": 0.25, "v_th": 0.5, "h": 0.5}])
def test_spikes_identical_and_gradients_close_fp32(kw):
    x = randn(6, 3, 5, 7, seed=0) * 1.3
    x[1, 0, 0, :3] = torch.tensor([1.0, 0.5, 0.25])          # values that land on the threshold
    sa, sb, ga, gb = reference_and_fused(x, **kw)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_threshold_exact_inputs():
    x = (torch.randint(-2, 6, (5, 4, 9), generator=torch.Generator().manual_seed(1)) * 0.25).float().to(DEVICE)
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_channels_last_layout_is_kept():
    frames = [randn(2, 3, 4, 5, seed=2 + i).contiguous(memory_format=torch.channels_last) for i in range(4)]
    x = torch.stack(frames)                                   # [T, B, C, H, W], each frame channels_last
    assert not x.is_contiguous()
    s = lif_multistep(x, backend="triton")
    assert s.stride() == x.stride()                           # written in the layout it arrived in
    assert torch.equal(s, lif_multistep(x.contiguous(), backend="torch"))
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_input_broadcast_over_time_is_read_in_place():
    frame = randn(3, 4, seed=4)
    x = frame.unsqueeze(0).expand(5, 3, 4)                    # stride 0 along T (a direct-encoded stem output)
    assert x.stride(0) == 0
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


def test_non_dense_input_falls_back_to_a_copy():
    x = randn(4, 6, 8, seed=5)[:, :, ::2]
    sa, sb, ga, gb = reference_and_fused(x)
    assert torch.equal(sa, sb)
    torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, pytest.param(torch.bfloat16, marks=pytest.mark.skipif(
    INTERPRETED, reason="Triton's CPU interpreter cannot load bfloat16 (numpy has "
    "no bfloat16); these cases check it on a GPU"))])
def test_low_precision_saves_one_byte_codes_spikes_identical(dtype):
    kw = dict(tau=0.5, v_th=1.0, h=1.0)
    x = (randn(6, 4, 64, seed=6) * 1.3).to(dtype)
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
    w = randn(*ref.shape, seed=7)
    (ref * w).sum().backward()
    (out.float() * w).sum().backward()
    twin = membrane_code.backward(w.to(dtype), state, **kw)        # the kernel's arithmetic, on what it received
    torch.testing.assert_close(xb.grad.float(), twin.to(dtype).float(), rtol=1e-3, atol=1e-4)
    err = ((xb.grad.float() - ref_in.grad).abs().max() / ref_in.grad.abs().max()).item()
    print(f"\n{dtype} one-byte membrane: max gradient error {err:.2e} of the largest fp32 gradient")
    assert err < 2e-2


def test_float32_saves_the_membrane_only():
    x = randn(5, 3, 8, seed=8).requires_grad_(True)
    out = lif_multistep(x, backend="triton")
    (state,) = out.grad_fn.saved_tensors
    assert state.dtype == torch.float32
    ref = lif_multistep(x, backend="torch")   # held: torch 2.11 on CUDA frees a dropped output's saved tensors
    torch.testing.assert_close(state, ref.grad_fn.saved_tensors[0], rtol=0, atol=0)


def test_half_precision_resnet_step_keeps_little_more_than_its_relu_twin():
    """Activation bytes a ResNet-19 forward keeps for backward under half-precision autocast: the fused LIF
    adds one byte per neuron-step to the conv output and spikes the network keeps anyway (the ReLU twin
    keeps conv output and ReLU output), so about 1.25x; the peak-memory bar is 1.5x."""
    dtype = torch.float16 if INTERPRETED else torch.bfloat16
    x = randn(4, 3, 16, 16, seed=10)
    y = torch.arange(4, device=DEVICE)

    def saved(make):
        torch.manual_seed(0)
        net = replace_lifs(build_model("resnet19", 10, width=0.125), make).to(DEVICE)

        def forward():
            with torch.autocast(DEVICE.type, dtype=dtype):
                return torch.nn.functional.cross_entropy(net(x, 6).float(), y)

        return saved_activation_bytes(net, forward)

    relu = saved(lambda lif: torch.nn.ReLU())
    fused = saved(lambda lif: LIF(backend="triton"))
    reference = saved(lambda lif: LIF(backend="torch"))
    print(f"\nsaved for backward, x the ReLU twin: fused {fused / relu:.3f}, reference {reference / relu:.3f}")
    assert fused < reference and fused / relu < 1.3


def test_module_and_backend_choice():
    lif = LIF(backend="triton")
    x = randn(3, 2, 4, seed=9)
    assert torch.equal(lif(x), LIF(backend="torch")(x))
    assert resolve_backend("triton", x) == "triton"           # on the CPU only because of the interpreter
    assert resolve_backend("auto", x) == ("torch" if INTERPRETED else "triton")   # auto: Triton on CUDA
