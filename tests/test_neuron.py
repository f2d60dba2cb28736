"""LIF (Eq. 1-4, 6) against hand-computed values and an independent step-by-step autograd reference."""
import pytest
import torch

from tfsnn.neuron import LIF, lif_multistep, surrogate


class Heaviside(torch.autograd.Function):
    """Spike with the triangle surrogate as its derivative (Eq. 6), for the reference only."""

    @staticmethod
    def forward(ctx, v, v_th, h):
        ctx.save_for_backward(v)
        ctx.v_th, ctx.h = v_th, h
        return (v > v_th).to(v.dtype)

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        return g * torch.clamp(ctx.h - (ctx.v_th - v).abs(), min=0) / ctx.h ** 2, None, None


def lif_reference(x, tau=0.5, v_th=1.0, h=1.0):
    """Eq. 1-4 one step at a time; autograd differentiates through the (not detached) reset."""
    u = torch.zeros_like(x[0])
    out = []
    for t in range(x.shape[0]):
        v = tau * u + x[t]
        s = Heaviside.apply(v, v_th, h)
        u = v * (1 - s)
        out.append(s)
    return torch.stack(out)


def test_hand_computed_spikes():
    # v: 0.6 -> 0.3+0.6=0.9 -> 0.45+0.6=1.05 (spike, reset) -> 0+1.2=1.2 (spike)
    x = torch.tensor([0.6, 0.6, 0.6, 1.2]).view(4, 1)
    assert lif_multistep(x).flatten().tolist() == [0.0, 0.0, 1.0, 1.0]


def test_threshold_is_strict():
    # v = 1.0 exactly does not spike; 0.5 then 0.75 gives v = 0.25 + 0.75 = 1.0 exactly
    assert lif_multistep(torch.tensor([[1.0]])).item() == 0.0
    assert lif_multistep(torch.tensor([[0.5], [0.75]])).flatten().tolist() == [0.0, 0.0]
    assert lif_multistep(torch.tensor([[0.5], [0.7500001]])).flatten().tolist() == [0.0, 1.0]


def test_hand_computed_gradient_eq15():
    # two steps, one neuron: ds(1)/dI(0) = sg(v1) * tau * [(1 - s0) - v0 * sg(v0)]   (Eq. 15, n = 1)
    tau = 0.5
    x = torch.tensor([[0.8], [0.9]], dtype=torch.float64, requires_grad=True)
    s = lif_multistep(x, tau=tau)
    s[1].sum().backward()
    v0 = 0.8
    v1 = tau * v0 + 0.9  # 1.3, no spike at t=0 so no reset
    def sg(v):
        return max(0.0, 1 - abs(1 - v))
    expected = sg(v1) * tau * ((1 - 0) - v0 * sg(v0))
    assert x.grad[0].item() == pytest.approx(expected, abs=1e-12)
    assert x.grad[1].item() == pytest.approx(sg(v1), abs=1e-12)


def test_reset_path_not_detached():
    # a spike at t=0 (v0 = 1.2): du0/dv0 = 1 - s0 - v0*sg(v0) = -v0*sg(v0) = -1.2*0.8, not 0
    x = torch.tensor([[1.2], [0.5]], dtype=torch.float64, requires_grad=True)
    lif_multistep(x)[1].sum().backward()
    sg_v1 = max(0.0, 1 - abs(1 - 0.5))  # v1 = 0 + 0.5
    assert x.grad[0].item() == pytest.approx(sg_v1 * 0.5 * (-1.2 * 0.8), abs=1e-12)


def _grid_inputs(shape, seed):
    g = torch.Generator().manual_seed(seed)
    # dyadic values: with tau = 0.5 the arithmetic is exact and v lands on V_th = 1 often
    return torch.randint(-2, 6, shape, generator=g).to(torch.float64) * 0.25


@pytest.mark.parametrize("tau,v_th,h", [(0.5, 1.0, 1.0), (0.25, 0.5, 0.5), (0.9, 1.0, 2.0)])
def test_matches_reference_forward_and_gradient(tau, v_th, h):
    g = torch.Generator().manual_seed(0)
    for seed, x in enumerate([torch.randn(7, 5, 11, generator=g, dtype=torch.float64) * 1.2,
                              _grid_inputs((6, 4, 9), 1)]):
        x1 = x.clone().requires_grad_(True)
        x2 = x.clone().requires_grad_(True)
        s1 = lif_multistep(x1, tau, v_th, h)
        s2 = lif_reference(x2, tau, v_th, h)
        assert torch.equal(s1, s2)
        w = torch.randn(s1.shape, generator=g, dtype=torch.float64)
        (s1 * w).sum().backward()
        (s2 * w).sum().backward()
        torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=1e-6)


def test_inputs_on_threshold_are_exercised():
    x = _grid_inputs((6, 4, 9), 1)
    v = torch.zeros_like(x[0])
    hits = 0
    for t in range(x.shape[0]):
        v = 0.5 * v + x[t]
        hits += int((v == 1.0).sum())
        v = v * (v <= 1.0)
    assert hits > 0


def test_float32_and_channels_last_layout():
    x = torch.randn(3, 2, 4, 5, 5).mul(2)
    x_cl = torch.stack([f.contiguous(memory_format=torch.channels_last) for f in x])
    assert torch.equal(lif_multistep(x), lif_multistep(x_cl))


def test_surrogate_shape():
    v = torch.tensor([-0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    assert surrogate(v, 1.0, 1.0).tolist() == [0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    assert surrogate(torch.tensor([1.0]), 1.0, 0.5).item() == pytest.approx(2.0)  # 0.5 / 0.5^2


def test_module_counts_spikes_and_rejects_unknown_backend():
    lif = LIF()
    x = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    lif.recording = True
    lif(x)
    assert float(lif.spike_count) == 2.0 and lif.neuron_steps == 4
    with pytest.raises(ValueError, match="backend"):
        LIF(backend="cuda-magic")
    with pytest.raises(ValueError, match="backend"):
        lif_multistep(x, backend="nope")
