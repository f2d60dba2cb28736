"""Operation counts: SOPs of spiking layers counted exactly, MACs of the analog first layer per step."""
import pytest
import torch
from torch import nn

from tfsnn.analysis.energy import E_AC_PJ, E_MAC_PJ, count_ops, stage_rates
from tfsnn.models import build_model


def test_sops_of_a_linear_layer_and_macs_of_the_first():
    net = build_model("fc_shd", 4, width=1 / 16)   # 70 -> 8 -> 8 -> 8 -> 4
    x = torch.zeros(2, 5, 70)
    x[0, :, 3] = 1.0                                # sample 0: one input spike per step (counts, not analog)
    with torch.no_grad():
        ops = count_ops(net, [(x, torch.zeros(2))], (5, 5, 5), torch.device("cpu"))
    # the first layer is fed by counts too: 5 input spikes x 8 outputs, averaged over 2 samples
    assert ops["macs"] == 0
    assert ops["sops"] >= 5 * 8 / 2
    assert ops["energy_pj"] == pytest.approx(ops["sops"] * E_AC_PJ)


def test_conv_sops_equal_a_direct_count():
    conv = nn.Conv2d(2, 3, 3, stride=1, padding=1, bias=False)
    x = (torch.rand(1, 2, 5, 5) > 0.7).float()
    # every input spike reaches (number of output positions whose window covers it) x out_channels
    direct = 0
    for c in range(2):
        for i in range(5):
            for j in range(5):
                if x[0, c, i, j]:
                    covered = sum(1 for a in range(5) for b in range(5) if abs(a - i) <= 1 and abs(b - j) <= 1)
                    direct += covered * 3
    from tfsnn.analysis import energy

    assert energy.layer_sops(conv, x) == direct
    assert energy.layer_sops(nn.Linear(4, 7), torch.tensor([[1.0, 0.0, 2.0, 0.0]])) == 3 * 7
    assert energy._is_counts(x) and not energy._is_counts(torch.randn(2, 2))


def test_static_first_layer_counts_macs_per_time_step():
    net = build_model("resnet19", 10, width=1 / 16).eval()
    x = torch.randn(2, 3, 8, 8)
    a = count_ops(net, [(x, torch.zeros(2))], 2, torch.device("cpu"))
    b = count_ops(net, [(x, torch.zeros(2))], (4, 2, 2, 2, 2, 2, 2, 2), torch.device("cpu"))
    stem_macs_per_step = 8 * 8 * 8 * 3 * 9              # 8x8 outputs x 8 channels x (3 x 3x3) inputs
    assert a["macs"] == 2 * stem_macs_per_step and b["macs"] == 4 * stem_macs_per_step
    assert a["energy_pj"] == pytest.approx(a["sops"] * E_AC_PJ + a["macs"] * E_MAC_PJ)


def test_stage_rates():
    net = build_model("resnet19", 10, width=1 / 16)
    rates = stage_rates(net, [(torch.randn(3, 3, 8, 8) * 2, None)], 3, torch.device("cpu"))
    assert len(rates) == 8 and all(0 <= r <= 1 for r in rates)
