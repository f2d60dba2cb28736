"""BN calibration: reset, cumulative average over the calibration batches, at a chosen configuration."""
import pytest
import torch
from torch import nn

from tfsnn.bn import bn_layers, calibrate_bn, updates_as_repeated
from tfsnn.models import build_model


def batches(n, seed=0, b=6):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(b, 3, 8, 8, generator=g) * 2, torch.zeros(b, dtype=torch.long)) for _ in range(n)]


def test_running_stats_are_the_average_of_batch_statistics():
    torch.manual_seed(0)
    net = build_model("resnet19", 10, width=1 / 16)
    target = net.stages[3].layers.conv1[1]  # a BN deep inside, after a TTM
    seen = []
    hook = target.register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
    data = batches(4)
    t = (2, 3, 1, 4, 4, 2, 5, 3)
    calibrate_bn(net, data, t, n_batches=3)
    hook.remove()
    assert len(seen) == 3                                      # only n_batches are used
    assert seen[0].shape[0] == 4 * 6                           # stage 3 runs t[3] = 4 steps of 6 images
    expected_mean = torch.stack([s.mean((0, 2, 3)) for s in seen]).mean(0)
    expected_var = torch.stack([s.var((0, 2, 3), unbiased=True) for s in seen]).mean(0)
    torch.testing.assert_close(target.running_mean, expected_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(target.running_var, expected_var, rtol=1e-5, atol=1e-6)
    assert int(target.num_batches_tracked) == 3
    assert not net.training
    assert all(m.momentum == 0.1 for m in bn_layers(net))      # momentum restored


def test_statistics_depend_on_the_configuration():
    torch.manual_seed(0)
    net = build_model("resnet19", 10, width=1 / 16)
    calibrate_bn(net, batches(2), 6, n_batches=2)
    at6 = net.stages[5].layers.conv1[1].running_mean.clone()
    calibrate_bn(net, batches(2), 1, n_batches=2)
    at1 = net.stages[5].layers.conv1[1].running_mean.clone()
    assert not torch.allclose(at6, at1)
    calibrate_bn(net, batches(2), 6, n_batches=2)
    torch.testing.assert_close(net.stages[5].layers.conv1[1].running_mean, at6)  # reset, not accumulated


def test_no_gradients_and_errors():
    net = build_model("resnet19", 10, width=1 / 16)
    calibrate_bn(net, batches(1), 2, n_batches=1)
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="at least one batch"):
        calibrate_bn(net, batches(1), 2, n_batches=0)
    with pytest.raises(ValueError, match="no batches"):
        calibrate_bn(net, [], 2, n_batches=3)
    assert isinstance(bn_layers(net)[0], nn.BatchNorm2d)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_pass_updates_running_stats_as_n_passes(momentum, n):
    """updates_as_repeated: one train-mode pass moves the statistics as n passes over the batch do."""
    def bn():
        torch.manual_seed(0)
        m = nn.BatchNorm2d(4, momentum=momentum)
        for _ in range(2):  # some history, so the average has something to move from
            m(torch.randn(5, 4, 3, 3) * 3 + 1)
        return m

    x = torch.randn(5, 4, 3, 3) * 2 - 1
    repeated, once = bn(), bn()
    for _ in range(n):
        repeated(x)
    with updates_as_repeated(once, n):
        once(x)
    torch.testing.assert_close(once.running_mean, repeated.running_mean, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(once.running_var, repeated.running_var, rtol=1e-6, atol=1e-7)
    assert int(once.num_batches_tracked) == int(repeated.num_batches_tracked) == 2 + n
    assert once.momentum == momentum                           # restored
    if n == 1:                                                 # nothing changes, to the bit
        assert torch.equal(once.running_mean, repeated.running_mean)
        assert torch.equal(once.running_var, repeated.running_var)
