"""The training iteration (Algorithm 1) against an independent loop: s passes, losses summed, one step."""
import pytest
import torch
import torch.nn.functional as F

from tfsnn.bn import bn_layers
from tfsnn.engine import train_one_epoch
from tfsnn.models import build_model
from tfsnn.temporal import make_sampler


def batches(n=3, b=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(b, 3, 8, 8, generator=g) * 2, torch.randint(0, 10, (b,), generator=g)) for _ in range(n)]


def net_and_opt():
    torch.manual_seed(0)
    net = build_model("resnet19", 10, width=1 / 16)
    return net, torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


def reference_epoch(net, opt, data, sampler, s):
    """Algorithm 1 written out: every one of the s passes runs forward and backward."""
    net.train()
    losses, correct = [], 0
    for x, y in data:
        opt.zero_grad(set_to_none=True)
        for _ in range(s):
            logits = net(x, sampler.sample())
            loss = F.cross_entropy(logits, y)
            loss.backward()
            losses.append(loss.item())
            correct += int((logits.argmax(1) == y).sum())
        opt.step()
    return losses, correct


@pytest.mark.parametrize("method", ["sdt", "mtt"])
def test_an_epoch_is_algorithm_1(method):
    """Parameters after an epoch are the reference loop's to the bit, SDT's one-pass shortcut included;
    BN statistics too (SDT's to rounding: one update stands for three); the loss and accuracy agree."""
    data, s = batches(), 3
    ref_net, ref_opt = net_and_opt()
    losses, correct = reference_epoch(ref_net, ref_opt, data, make_sampler(method, 8, 4, seed=7), s)
    net, opt = net_and_opt()
    stats = train_one_epoch(net, data, opt, make_sampler(method, 8, 4, seed=7), s, torch.device("cpu"))
    for (name, p), q in zip(net.named_parameters(), ref_net.parameters()):
        assert torch.equal(p, q), name
    for m, r in zip(bn_layers(net), bn_layers(ref_net)):
        check = torch.equal if method == "mtt" else (lambda a, b: torch.allclose(a, b, rtol=1e-5, atol=1e-6))
        assert check(m.running_mean, r.running_mean) and check(m.running_var, r.running_var)
        assert int(m.num_batches_tracked) == int(r.num_batches_tracked) == s * len(data)
    assert stats["passes"] == len(losses) == s * len(data)
    assert stats["loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-6)
    assert stats["train_acc"] == correct / (s * sum(len(y) for _, y in data))


@pytest.mark.parametrize("method,forwards", [("sdt", 1), ("mtt", 3)])
def test_sdt_runs_one_forward_pass_per_iteration(method, forwards):
    net, opt = net_and_opt()
    calls = []
    net.stages[0].register_forward_hook(lambda *a: calls.append(1))
    train_one_epoch(net, batches(2), opt, make_sampler(method, 8, 4, seed=0), 3, torch.device("cpu"))
    assert len(calls) == 2 * forwards
