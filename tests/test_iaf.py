"""The multi-spike integrate-and-fire neuron (tfsnn.iaf): hand-computed traces, and gradients against a
step-by-step autograd reference written independently here."""
import pytest
import torch

from tfsnn.iaf import IAF, iaf_multistep, single_exponential
from tfsnn.models import build_model
from tfsnn.neuron import LIF


def test_trace_threshold_one_with_the_official_floor():
    # I:            0.5   0.75   2.5    -3.0   0.25   1.75
    # v = r + I:    0.5   1.25   2.75   -2.25  -0.75  1.0     (1.0 = V_th fires: floor(1.0) = 1)
    # s:            0     1      2      0      0      1
    # r = v - s:    0.5   0.25   0.75   -1.0   -0.75  0.0     (-2.25 floored at v_min = -1)
    x = torch.tensor([0.5, 0.75, 2.5, -3.0, 0.25, 1.75]).unsqueeze(1)
    assert iaf_multistep(x, v_th=1.0, v_min=-1.0).flatten().tolist() == [0, 1, 2, 0, 0, 1]


def test_trace_half_threshold_with_and_without_floor():
    # V_th = 0.5, I: 1.25 -2.0 2.5 0.75
    # no floor:   v = 1.25 (s 2, r 0.25), -1.75 (s 0, r -1.75), 0.75 (s 1, r 0.25), 1.0 (s 2, r 0)
    # floor -1:   v = 1.25 (s 2, r 0.25), -1.75 (s 0, r -1.0),  1.5  (s 3, r 0),    0.75 (s 1, r 0.25)
    x = torch.tensor([1.25, -2.0, 2.5, 0.75])
    both = torch.stack([x, x], dim=1)  # two neurons, same drive
    assert iaf_multistep(both, v_th=0.5, v_min=None)[:, 0].tolist() == [2, 0, 1, 2]
    assert iaf_multistep(both, v_th=0.5, v_min=-1.0)[:, 1].tolist() == [2, 0, 3, 1]


def test_no_spikes_below_zero_and_none_below_threshold():
    x = torch.tensor([[-0.5], [0.25], [0.5]])  # v: -0.5, -0.25, 0.25: never reaches 1
    assert iaf_multistep(x).flatten().tolist() == [0, 0, 0]


# ---------------------------------------------------------------- the reference, one step at a time

def ref_single_exponential(v, v_th):
    return 2.0 / v_th * torch.exp(-2.0 * (v - v_th).abs() / v_th)  # width 0.5 * V_th, area 1


class StepSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v, v_th):
        ctx.save_for_backward(v)
        ctx.v_th = v_th
        return torch.clamp(torch.floor(v / v_th), min=0.0)

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        return grad * ref_single_exponential(v, ctx.v_th), None


def reference(x_seq, v_th, v_min):
    r, out = torch.zeros_like(x_seq[0]), []
    for t in range(x_seq.shape[0]):
        v = r + x_seq[t]
        s = StepSpike.apply(v, v_th)
        r = v - s * v_th                                   # the reset is part of the graph
        if v_min is not None:
            r = torch.relu(r - v_min) + v_min              # sinabs' min_v_mem
        out.append(s)
    return torch.stack(out)


@pytest.mark.parametrize("v_th,v_min", [(1.0, -1.0), (0.7, None), (1.3, -0.5)])
def test_gradients_match_the_step_by_step_reference(v_th, v_min):
    g = torch.Generator().manual_seed(7)
    x = (torch.randn(7, 3, 4, generator=g, dtype=torch.float64) * 1.5 + 0.4).requires_grad_()
    w = torch.randn(7, 3, 4, generator=g, dtype=torch.float64)
    x_ref = x.detach().clone().requires_grad_()
    out = iaf_multistep(x, v_th, v_min)
    ref = reference(x_ref, v_th, v_min)
    assert torch.equal(out, ref)
    assert out.max() >= 2                                  # several spikes in one step happen
    (out * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-10, atol=1e-12)


def test_surrogate_is_sinabs_single_exponential():
    v = torch.tensor([-0.5, 0.5, 1.0, 1.5, 2.0], dtype=torch.float64)
    torch.testing.assert_close(single_exponential(v, 1.0), ref_single_exponential(v, 1.0))
    torch.testing.assert_close(single_exponential(v, 0.5), ref_single_exponential(v, 0.5))
    assert single_exponential(torch.tensor(1.0), 1.0) == 2.0    # peak 1 / (0.5 * V_th)
    assert single_exponential(torch.tensor(2.0), 1.0) < 0.3      # one bump: none at 2 V_th


def test_half_precision_input_integrates_in_float32():
    x = torch.full((300, 1), 0.25).to(torch.bfloat16)      # 300 * 0.25 = 75: exact in float32
    out = iaf_multistep(x)
    assert out.dtype == torch.bfloat16 and out.float().sum() == 75


def test_iaf_layer_counts_every_spike_and_networks_swap_their_lifs():
    layer = IAF()
    assert isinstance(layer, LIF)
    layer.recording = True
    layer(torch.tensor([[2.5], [0.75]]))                     # 2 spikes, then 1 (0.5 + 0.75)
    assert layer.spike_count == 3 and layer.neuron_steps == 2
    net = build_model("nmnist_net", 10, input_size=16, neuron="iaf_multispike")
    lifs = [m for m in net.modules() if isinstance(m, LIF)]
    assert lifs and all(isinstance(m, IAF) for m in lifs)
    assert net.arch_kwargs["neuron"] == "iaf_multispike"
    assert "neuron" not in build_model("nmnist_net", 10, input_size=16).arch_kwargs  # the default adds nothing
    with pytest.raises(KeyError, match="iaf_multispike"):
        build_model("nmnist_net", 10, neuron="iaf")
