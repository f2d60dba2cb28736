"""Whole networks against an independent reference: every LIF replaced by a step-by-step autograd LIF.

The fused backward (Eq. 12-15), the stem computed once and broadcast over T, and the TTMs between stages
must give a network the same loss and parameter gradients as plain autograd through a loop over time.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tfsnn.models import build_model
from tfsnn.neuron import LIF, replace_lifs

from test_neuron import lif_reference


class StepByStepLIF(nn.Module):
    """tests/test_neuron.py's reference LIF (Eq. 1-4 one step at a time, autograd through the reset) as a layer."""

    def __init__(self, lif: LIF):
        super().__init__()
        self.tau, self.v_th, self.h = lif.tau, lif.v_th, lif.h

    def forward(self, x_seq):
        return lif_reference(x_seq, self.tau, self.v_th, self.h)


@pytest.mark.parametrize("arch", ["resnet19", "resnet34", "vgg14"])   # CIFAR stem, ImageNet stem, VGG
def test_loss_and_gradients_equal_a_step_by_step_autograd_network(arch):
    torch.manual_seed(0)
    net = build_model(arch, 10, width=0.0625).double()
    ref = replace_lifs(build_model(arch, 10, width=0.0625), StepByStepLIF).double()
    ref.load_state_dict(net.state_dict())
    x = torch.randn(4, 3, 16, 16, dtype=torch.float64)
    y = torch.randint(0, 10, (4,))
    g = torch.Generator().manual_seed(1)
    configs = [3, tuple(torch.randint(1, 7, (net.n_stages,), generator=g).tolist())]   # uniform and mixed
    for t in configs:
        net.zero_grad()
        ref.zero_grad()
        loss, loss_ref = F.cross_entropy(net(x, t), y), F.cross_entropy(ref(x, t), y)
        loss.backward()
        loss_ref.backward()
        assert loss.item() == pytest.approx(loss_ref.item(), rel=1e-12)
        for (name, p), q in zip(net.named_parameters(), ref.parameters()):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-12, msg=lambda m: f"{arch} {t} {name}: {m}")
