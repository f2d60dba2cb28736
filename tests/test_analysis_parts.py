"""Noise injection, filter-normalised directions, landscape scans, gradient metrics on small models."""
import pytest
import torch
import torch.nn.functional as F

from tfsnn.analysis.gradients import conv_weights, gradient_cosines, gradient_lengths
from tfsnn.analysis.landscape import filter_normalized_direction, scan
from tfsnn.analysis.noise import input_noise, weight_noise
from tfsnn.models import build_model

CPU = torch.device("cpu")


def batch(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=g) * 2, torch.randint(0, 5, (n,), generator=g)


def small_net():
    """A small network whose BN statistics are calibrated, so spikes reach the classifier."""
    from tfsnn.bn import calibrate_bn

    torch.manual_seed(0)
    net = build_model("resnet19", 5, width=1 / 8)
    calibrate_bn(net, [batch(32, s) for s in range(3)], 4, n_batches=3)
    return net


def test_weight_noise_touches_conv_and_linear_weights_only_and_restores():
    net = small_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    with weight_noise(net, 0.01, g):
        changed = {k for k, v in net.state_dict().items() if not torch.equal(v, before[k])}
        w = net.stages[0].layers[0].conv[0].weight
        diff = w - before["stages.0.layers.0.conv.0.weight"]
        assert diff.var().item() == pytest.approx(0.01, rel=0.35)
    assert all(k.endswith("weight") for k in changed)
    assert not any("conv.1" in k for k in changed)          # BN weights are untouched
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_input_noise_variance():
    x = torch.zeros(1000, 10)
    (noisy, _), = list(input_noise([(x, None)], 0.25, torch.Generator().manual_seed(0)))
    assert noisy.var().item() == pytest.approx(0.25, rel=0.05)


def test_filter_normalised_direction():
    net = small_net()
    d = filter_normalized_direction(net, torch.Generator().manual_seed(0))
    params = dict(net.named_parameters())
    assert d and all(params[k].dim() > 1 for k in d)       # weights only: biases and BN have no direction
    for k, v in d.items():
        w = params[k].detach()
        torch.testing.assert_close(v.flatten(1).norm(dim=1), w.flatten(1).norm(dim=1), rtol=1e-5, atol=1e-7)


def test_scan_restores_weights_and_alpha_zero_is_the_model():
    net = small_net()
    x, y = batch()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    d = filter_normalized_direction(net, torch.Generator().manual_seed(0))
    res = scan(net, d, [-1.0, 0.0, 1.0], [(x, y)], 3, CPU)
    with torch.no_grad():
        loss0 = F.cross_entropy(net(x, 3), y).item()
    assert res[1]["alpha"] == 0.0 and res[1]["loss"] == pytest.approx(loss0, rel=1e-5)
    assert res[0]["loss"] != res[1]["loss"]
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_gradient_lengths_match_a_manual_computation():
    net = small_net()
    (x1, y1), (x2, y2) = batch(4, 0), batch(3, 1)
    res = gradient_lengths(net, [(x1, y1), (x2, y2)], 4, CPU)
    net.zero_grad()
    x = torch.cat([x1, x2]).requires_grad_(True)
    F.cross_entropy(net(x, 4), torch.cat([y1, y2])).backward()     # mean over all 7 samples
    w_norm = torch.sqrt(sum((w.grad ** 2).sum() for w in conv_weights(net))).item()
    assert res["weight_grad_norm"] == pytest.approx(w_norm, rel=1e-4)
    per_input = (x.grad * 7).flatten(1).norm(dim=1).mean().item()   # d(sum of losses)/dx_i = dL_i/dx_i
    assert res["input_grad_norm"] == pytest.approx(per_input, rel=1e-4) and res["samples"] == 7


def test_gradient_cosines():
    net = small_net()
    bn = net.stages[0].layers[0].conv[1]
    mean_before = bn.running_mean.clone()
    same = gradient_cosines(net, [batch()], 3, 3, CPU)
    assert same[0] == pytest.approx(1.0, abs=1e-4)
    other = gradient_cosines(net, [batch()], 3, 6, CPU)
    assert -1.0 <= other[0] <= 1.0
    assert torch.equal(bn.running_mean, mean_before)                # the model's statistics untouched
