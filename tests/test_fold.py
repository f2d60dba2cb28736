"""Bias removal and BN folding (tfsnn.fold), a run that starts from its parent (tfsnn.deploy), and the
deployment settings of RunConfig."""
import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tfsnn.config import RunConfig, RunConfigError
from tfsnn.deploy import parent_model_path, start_from_parent
from tfsnn.errors import TfsnnError
from tfsnn.fold import LockedBN, fold_bn, has_bn, remove_biases
from tfsnn.io import torch_save
from tfsnn.models import build_model


def randomise_bn(net: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g))
                m.running_var.copy_(torch.rand(n, generator=g) * 0.3 + 0.05)
                m.weight.copy_(torch.rand(n, generator=g) + 3.0)
                m.bias.copy_(torch.randn(n, generator=g))
    return net


# float64: the spike counts are floors, so a float32 rounding difference at a threshold would flip a spike
CASES = [("nmnist_net", dict(in_channels=2, input_size=16, neuron="iaf_multispike"), (3, 4, 2, 16, 16), 4),
         ("nmnist_net", dict(in_channels=2, input_size=16), (3, 4, 2, 16, 16), 4),
         ("resnet19", dict(width=1 / 16), (3, 3, 8, 8), 2)]


@pytest.mark.parametrize("arch,kw,shape,T", CASES, ids=["nmnist-iaf", "nmnist-lif", "resnet19-lif"])
def test_folded_network_computes_what_the_bias_free_one_did(arch, kw, shape, T):
    torch.manual_seed(0)
    net = remove_biases(randomise_bn(build_model(arch, 10, **kw))).double().eval()
    folded = fold_bn(copy.deepcopy(net)).eval()
    assert has_bn(net) and not has_bn(folded)
    assert any(isinstance(m, LockedBN) for m in folded.modules())
    x = torch.rand(*shape, dtype=torch.float64) * 3
    with torch.no_grad():
        a, b = net(x, T), folded(x, T)
    assert a.abs().max() > 0
    assert (a - b).abs().max().item() < 1e-5


def test_fold_needs_the_shift_removed_first_and_removal_drops_it():
    net = randomise_bn(build_model("nmnist_net", 10, input_size=16))
    with pytest.raises(ValueError, match="remove_biases"):
        fold_bn(copy.deepcopy(net))
    remove_biases(net)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.running_mean.abs().max() == 0 and m.bias.abs().max() == 0 for m in bns)
    assert all(m.running_var.min() >= 0.05 for m in bns)                # the scale stays, to be folded


def test_folded_build_loads_a_folded_state_and_has_no_biases():
    net = fold_bn(remove_biases(randomise_bn(build_model("resnet19", 10, width=1 / 16))))
    rebuilt = build_model("resnet19", 10, width=1 / 16, folded=True)
    rebuilt.load_state_dict(net.state_dict())                          # strict: same keys and shapes
    assert rebuilt.arch_kwargs["folded"] is True and not has_bn(rebuilt)
    assert not any(n.endswith("bias") for n, _ in rebuilt.named_parameters())
    scales = [m.weight for m in rebuilt.modules() if isinstance(m, LockedBN)]
    assert scales and all(s.requires_grad for s in scales)            # BN locked: its scale still trains


def _write_parent(run_dir, cfg: RunConfig, net: nn.Module) -> None:
    run_dir.mkdir(parents=True)
    torch_save({"arch": net.arch, "arch_kwargs": net.arch_kwargs, "config": cfg.to_dict(),
                "state_dict": net.state_dict()}, run_dir / "model.pt")


def test_a_run_starts_from_its_parent_folded(tmp_path):
    kw = dict(in_channels=2, input_size=16, neuron="iaf_multispike")
    parent_cfg = RunConfig(arch="nmnist_net", method="sdt", neuron="iaf_multispike")
    parent = randomise_bn(build_model("nmnist_net", 10, **kw))
    _write_parent(tmp_path / parent_cfg.run_id(), parent_cfg, parent)
    cfg = parent_cfg.replace(init_from=parent_cfg.run_id(), fold_bn=True, calib_batches=0, epochs=2)
    st = SimpleNamespace(cfg=cfg, model=build_model("nmnist_net", 10, folded=True, **kw))
    out = tmp_path / cfg.run_id()
    assert parent_model_path(cfg, out) == tmp_path / parent_cfg.run_id() / "model.pt"
    logs = []
    start_from_parent(st, out, logs.append)
    expected = fold_bn(remove_biases(copy.deepcopy(parent))).state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in st.model.state_dict().items())
    assert "BN folded" in logs[0]
    missing = cfg.replace(init_from="digits10-nmnist_net-sdt-T6-e300-seed1000-00000000")
    with pytest.raises(TfsnnError, match="digits10-nmnist_net-sdt-T6-e300-seed1000-00000000/model.pt"):
        start_from_parent(SimpleNamespace(cfg=missing, model=st.model), out)


def test_deployment_settings_keep_old_run_ids_and_name_their_choices():
    assert RunConfig().changed_settings() == {}                        # defaults: today's behaviour
    with pytest.raises(RunConfigError, match="neuron 'iaf' is not one of lif, iaf_multispike"):
        RunConfig.from_dict({"neuron": "iaf"})
    with pytest.raises(RunConfigError, match="fold_bn .* set init_from"):
        RunConfig.from_dict({"fold_bn": True, "calib_batches": 0})
    with pytest.raises(RunConfigError, match="nothing to calibrate; set calib_batches: 0"):
        RunConfig.from_dict({"fold_bn": True, "init_from": "parent-run"})
    with pytest.raises(RunConfigError, match="init_from '../x' is not a run id"):
        RunConfig.from_dict({"init_from": "../x"})
    ok = RunConfig.from_dict({"fold_bn": True, "init_from": "parent-run", "calib_batches": 0})
    assert ok.run_id() != ok.replace(init_from="other-run").run_id()    # the parent is part of the run id
