"""The one-byte membrane code the fused kernel saves for half-precision runs (tfsnn.kernels.membrane_code)."""
from types import SimpleNamespace

import pytest
import torch

from tfsnn.kernels import membrane_code as mc
from tfsnn.neuron import _LIFTorch, lif_multistep


def test_codes_by_hand():
    v = torch.tensor([-0.5, 0.0, 0.004, 0.5, 1.0, 1.0001, 1.5, 1.999, 2.0, 5.0])
    #  v <= 0: 0 | 0.004*127 = 0.51 -> bin 0 -> 1 | 0.5*127 = 63.5 -> 64 | v = V_th: last bin below, 127
    #  just above V_th: 128 | 1.5: 128 + 63 | 1.999: 128 + 126 | v >= V_th + h: 255
    assert mc.encode(v, 1.0, 1.0).tolist() == [0, 0, 1, 64, 127, 128, 191, 254, 255, 255]


@pytest.mark.parametrize("v_th,h", [(1.0, 1.0), (0.5, 0.5), (1.0, 0.25)])
def test_spikes_exact_and_membrane_within_half_a_bin(v_th, h):
    v = torch.linspace(v_th - 2 * h, v_th + 2 * h, 20001)
    spikes, dv = mc.decode(mc.encode(v, v_th, h), v_th, h)
    assert torch.equal(spikes, (v > v_th).float())
    inside = (v > v_th - h) & (v < v_th + h)
    assert (dv - v)[inside].abs().max() <= h / 254 * (1 + 1e-5)
    _, _, sg = mc.surrogate_of(mc.encode(v, v_th, h), v_th, h)
    assert torch.all(sg[~inside] == 0)


def test_backward_is_eq_12_15_on_the_decoded_membrane():
    """The twin's recursion equals the reference backward run on the decoded membrane."""
    g = torch.Generator().manual_seed(0)
    v = torch.randn(6, 5, 7, generator=g) * 1.3 + 0.8
    code = mc.encode(v, 1.0, 1.0)
    _, dv = mc.decode(code, 1.0, 1.0)
    grad = torch.randn(v.shape, generator=g)
    ctx = SimpleNamespace(saved_tensors=(dv,), tau=0.5, v_th=1.0, h=1.0)
    ref, *_ = _LIFTorch.backward(ctx, grad.clone())
    torch.testing.assert_close(mc.backward(grad, code, 0.5, 1.0, 1.0), ref, rtol=1e-5, atol=1e-6)


def test_gradient_error_against_float32_is_small():
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(6, 64, 256, generator=g) * 1.3).requires_grad_(True)
    s = lif_multistep(x, backend="torch")
    w = torch.randn(s.shape, generator=g)
    (v,) = s.grad_fn.saved_tensors
    (s * w).sum().backward()
    approx = mc.backward(w, mc.encode(v, 1.0, 1.0), 0.5, 1.0, 1.0)
    err = ((approx - x.grad).abs().max() / x.grad.abs().max()).item()
    assert 0 < err < 1e-2
