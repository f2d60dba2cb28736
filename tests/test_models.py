"""Every architecture: shapes, per-stage time steps (forward hooks), TTM placement, parameter counts, causality."""
import pytest
import torch
from torch import nn

from tfsnn.models import ARCHS, build_model
from tfsnn.neuron import LIF
from tfsnn.temporal import ConfigError

# small inputs per architecture: (input shape without batch, t_max, width)
CASES = {
    "resnet18": ((3, 8, 8), 6, 1 / 16),
    "resnet19": ((3, 8, 8), 6, 1 / 16),
    "resnet34": ((3, 32, 32), 6, 1 / 16),
    "bresnet50": ((3, 8, 8), 4, 1 / 16),
    "bresnet72": ((3, 8, 8), 4, 1 / 16),
    "vgg14": ((3, 32, 32), 5, 1 / 16),
    "dvs_resnet18": ((10, 2, 12, 12), 10, 1 / 16),
    "fc_seqmnist": ((12, 1), 12, 1.0),
    "fc_shd": ((9, 70), 9, 0.25),
    "rnn_seqmnist": ((12, 1), 12, 1.0),
    "nmnist_net": ((10, 2, 34, 34), 10, 0.5),
}
N_STAGES = {"resnet18": 8, "resnet19": 8, "resnet34": 16, "bresnet50": 24, "bresnet72": 35, "vgg14": 13,
            "dvs_resnet18": 8, "fc_seqmnist": 2, "fc_shd": 3, "rnn_seqmnist": 2, "nmnist_net": 3}


# architectures without spiking neurons: no LIF whose time steps could be counted per stage
NON_SPIKING = {"rnn_seqmnist"}


def random_config(n, t_max, seed, first=None):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(1, t_max + 1, (n,), generator=g).tolist()
    if first is not None:
        t[0] = first
    return tuple(t)


def test_registry_covers_the_paper():
    assert set(ARCHS) == set(CASES)


@pytest.mark.parametrize("arch", list(CASES))
def test_stages_run_their_own_time_steps(arch):
    shape, t_max, width = CASES[arch]
    net = build_model(arch, num_classes=7, width=width)
    assert net.n_stages == N_STAGES[arch]
    if arch in NON_SPIKING:
        pytest.skip("no LIF neurons (tests/test_datasets_seq.py counts its RNN layers' steps)")
    seq = net.input_kind == "sequence"
    t = random_config(net.n_stages, t_max, seed=len(arch), first=shape[0] if seq else None)
    lif_steps = {i: [] for i in range(net.n_stages)}
    ttm_calls = {}
    hooks = []
    for i, stage in enumerate(net.stages):
        for m in stage.modules():
            if isinstance(m, LIF):
                hooks.append(m.register_forward_hook(lambda mod, inp, out, i=i: lif_steps[i].append(inp[0].shape[0])))
        if stage.ttm is not None:
            hooks.append(stage.ttm.register_forward_hook(
                lambda mod, inp, out, i=i: ttm_calls.__setitem__(i, (inp[0].shape[0], out.shape[0], out is not inp[0]))))
    x = torch.rand((3,) + shape)
    out = net(x, t)
    assert out.shape == (3, 7)
    assert net(x, t, return_steps=True).shape == (t[-1], 3, 7)
    for i in range(net.n_stages):
        assert lif_steps[i] and set(lif_steps[i]) == {t[i]}, f"stage {i} ran {lif_steps[i]} steps, wanted {t[i]}"
    assert 0 not in ttm_calls
    for i in range(1, net.n_stages):
        t_in, t_out, acted = ttm_calls[i]
        assert (t_in, t_out) == (t[i - 1], t[i])
        assert acted == (t[i - 1] != t[i])
    for h in hooks:
        h.remove()


def conv(cin, cout, k):
    return k * k * cin * cout + 2 * cout  # bias-free conv + BN (weight, bias)


def resnet_count(stem_in, stem_out, stem_k, groups, classes):
    """groups: (channels, blocks, first stride) as in the paper's tables; counted independently."""
    total, cin = conv(stem_in, stem_out, stem_k), stem_out
    for c, n, stride in groups:
        for j in range(n):
            s = stride if j == 0 else 1
            total += conv(cin, c, 3) + conv(c, c, 3)
            if s != 1 or cin != c:
                total += conv(cin, c, 1)
            cin = c
    return total + cin * classes + classes


PARAM_TABLE = {
    "resnet18": lambda k: resnet_count(3, 64, 3, [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)], k),
    "resnet19": lambda k: resnet_count(3, 128, 3, [(128, 3, 1), (256, 3, 2), (512, 2, 2)], k),
    "resnet34": lambda k: resnet_count(3, 64, 7, [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 2)], k),
    # Table 10
    "bresnet50": lambda k: resnet_count(3, 64, 3, [(64, 3, 1), (128, 6, 2), (256, 9, 2), (512, 6, 2)], k),
    "bresnet72": lambda k: resnet_count(3, 64, 3, [(64, 3, 1), (128, 8, 2), (256, 16, 2), (512, 8, 2)], k),
    "dvs_resnet18": lambda k: resnet_count(2, 64, 3, [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)], k),
    "vgg14": lambda k: sum(conv(a, b, 3) for a, b in zip(
        [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512],
        [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512])) + 512 * k + k,
    "fc_seqmnist": lambda k: (1 * 64 + 64) + (64 * 64 + 64) + 64 * k + k,
    "fc_shd": lambda k: (70 * 128 + 128) + 2 * (128 * 128 + 128) + 128 * k + k,
    # tanh RNN layers: input and recurrent weights, two bias vectors each
    "rnn_seqmnist": lambda k: (1 * 64 + 64 * 64 + 2 * 64) + (64 * 64 + 64 * 64 + 2 * 64) + 64 * k + k,
    # 34x34 input: convs 2-8 (stride 2), 8-16, 16-32, 32-32 with BN; 32 x 2 x 2 -> 64 -> k, no biases
    "nmnist_net": lambda k: conv(2, 8, 3) + conv(8, 16, 3) + conv(16, 32, 3) + conv(32, 32, 3) + 128 * 64 + 64 * k,
}


@pytest.mark.parametrize("arch", list(PARAM_TABLE))
def test_parameter_counts(arch):
    net = build_model(arch, num_classes=100)
    assert sum(p.numel() for p in net.parameters()) == PARAM_TABLE[arch](100)


def test_resnet34_matches_torchvision_plus_stride2_shortcut():
    from torchvision.models import resnet34

    ours = sum(p.numel() for p in build_model("resnet34", 1000).parameters())
    tv = sum(p.numel() for p in resnet34().parameters())
    assert ours == tv + conv(64, 64, 1)  # first block has stride 2 (A.2), so it gains a 1x1 shortcut


def test_width_multiplier_scales_channels():
    net = build_model("resnet19", 10, width=0.25)
    assert net.classifier[0].in_features == 128
    assert net.stages[0].layers[0].conv[0].out_channels == 32


@pytest.mark.parametrize("arch", list(CASES))
def test_uniform_evaluation_is_causal(arch):
    """At every uniform T the per-step logits are the first T steps of a T_max pass (eval mode)."""
    shape, t_max, width = CASES[arch]
    torch.manual_seed(0)
    net = build_model(arch, num_classes=5, width=width).double().eval()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.2, 0.6)
    x = torch.rand((2,) + shape, dtype=torch.float64) * 2
    with torch.no_grad():
        full = net(x, t_max, return_steps=True)
        for T in range(1, t_max + 1):
            assert torch.equal(net(x, T, return_steps=True), full[:T]), f"T={T}"


def test_firing_rates_per_stage():
    net = build_model("resnet19", 10, width=1 / 16).eval()
    with net.recording_rates():
        net(torch.rand(4, 3, 8, 8) * 3, 4)
    rates = net.firing_rates()
    assert len(rates) == 8 and all(0.0 <= r <= 1.0 for r in rates) and max(rates) > 0
    counts = net.spike_counts()
    assert counts[0][1] > 0


def test_bad_configurations():
    net = build_model("resnet19", 10, width=1 / 16)
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(ConfigError, match="8 stages"):
        net(x, (1, 2, 3))
    with pytest.raises(ConfigError, match="below 1"):
        net(x, (0,) * 8)
    dvs = build_model("dvs_resnet18", 10, width=1 / 16)
    with pytest.raises(ConfigError, match="only 10"):
        dvs(torch.rand(1, 10, 2, 8, 8), (11,) * 8)
    with pytest.raises(KeyError, match="unknown architecture"):
        build_model("resnet1000", 10)


def test_dvs_input_uses_first_frames():
    torch.manual_seed(0)
    net = build_model("dvs_resnet18", 4, width=1 / 16).eval()
    x = torch.rand(2, 10, 2, 8, 8)
    y = x.clone()
    y[:, 3:] = torch.rand(2, 7, 2, 8, 8)  # later frames differ
    with torch.no_grad():
        assert torch.equal(net(x, 3), net(y, 3))


def _dvs_pair(width=1 / 16):
    """dvs_resnet18 with dvs_stem_frames 't1' and 'all', the same weights and random BN statistics."""
    torch.manual_seed(0)
    t1 = build_model("dvs_resnet18", 5, width=width).double()
    for m in t1.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.2, 0.6)
    every = build_model("dvs_resnet18", 5, width=width, stem_frames="all").double()
    every.load_state_dict(t1.state_dict())  # the same parameter names either way
    return t1, every


def test_dvs_stem_frames_all_is_recorded_and_rebuilt():
    t1, every = _dvs_pair()
    assert (t1.stem_frames, every.stem_frames) == ("t1", "all")
    assert "stem_frames" not in t1.arch_kwargs and every.arch_kwargs["stem_frames"] == "all"
    kwargs = dict(every.arch_kwargs)
    assert build_model("dvs_resnet18", kwargs.pop("num_classes"), **kwargs).stem_frames == "all"
    with pytest.raises(ValueError, match="event-frame input"):
        build_model("resnet18", 5, width=1 / 16, stem_frames="all")


def _bn_weights(net: nn.Module) -> dict[str, float]:
    """Every BN's initial weight, by module name (each BN's weight is one constant at initialisation)."""
    out = {}
    for name, m in net.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == m.weight[0])
            out[name] = m.weight[0].item()
    return out


@pytest.mark.parametrize("arch", ["resnet18", "bresnet50", "dvs_resnet18"])
def test_residual_bn_init_sets_the_bns_before_each_addition(arch):
    """tdBN's alpha: the BN weights of each block's branch end (conv2) and of its shortcut start at the
    given value; every other BN (the stem's, each branch's first) keeps PyTorch's 1."""
    from tfsnn.models.layers import BasicBlock

    default = build_model(arch, 5, width=1 / 16)
    assert set(_bn_weights(default).values()) == {1.0} and "residual_bn_init" not in default.arch_kwargs
    net = build_model(arch, 5, width=1 / 16, residual_bn_init=0.5)
    added = set()
    for name, m in net.named_modules():
        if isinstance(m, BasicBlock):
            added |= {f"{name}.conv2.1"} | ({f"{name}.shortcut.1"} if m.shortcut is not None else set())
    weights = _bn_weights(net)
    assert any(".shortcut." in n for n in added) and len(added) < len(weights)
    assert {n: w for n, w in weights.items() if n in added} == dict.fromkeys(added, 0.5)
    assert set(w for n, w in weights.items() if n not in added) == {1.0}
    kwargs = dict(net.arch_kwargs)
    assert kwargs["residual_bn_init"] == 0.5
    assert _bn_weights(build_model(arch, kwargs.pop("num_classes"), **kwargs)) == weights


def test_residual_bn_init_is_refused_without_residual_additions():
    from tfsnn.config import RunConfig, RunConfigError
    from tfsnn.models import RESIDUAL_ARCHS

    assert set(RESIDUAL_ARCHS) == {"resnet18", "resnet19", "resnet34", "bresnet50", "bresnet72", "dvs_resnet18"}
    assert RunConfig.from_dict(dict(arch="bresnet50", residual_bn_init=0.7071)).residual_bn_init == 0.7071
    with pytest.raises(RunConfigError, match="residual_bn_init is for the spiking ResNets.*vgg14"):
        RunConfig.from_dict(dict(arch="vgg14", residual_bn_init=0.7071))


def test_dvs_stem_frames_agree_in_eval_mode():
    """The stem is per frame: with running statistics, stemming all frames and keeping the first t_1
    gives the logits of stemming the first t_1 frames, at every t_1."""
    t1, every = (net.eval() for net in _dvs_pair())
    x = torch.rand(2, 10, 2, 12, 12, dtype=torch.float64) * 2
    with torch.no_grad():
        for first in range(1, 11):
            config = random_config(8, 10, seed=first, first=first)
            assert torch.equal(every(x, config), t1(x, config)), config


def test_dvs_stem_frames_set_the_stem_batch_statistics():
    """Train mode at t_1 = 3 < F = 10: the stem BN's batch mean covers all frames ('all') or the first
    t_1 ('t1'), checked against the convolution by hand; at t_1 = F the two are the same network."""
    t1, every = _dvs_pair()
    x = torch.rand(4, 10, 2, 12, 12, dtype=torch.float64) * 2
    conv = t1.stages[0].layers[0].conv[0]
    out = nn.functional.conv2d(x.flatten(0, 1), conv.weight, padding=1).unflatten(0, (4, 10))
    for net, frames in ((t1, 3), (every, 10)):
        net.train()
        bn = net.stages[0].layers[0].conv[1]
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average: after one batch, the batch mean
        with torch.no_grad():
            net(x, (3, 2, 2, 3, 5, 3, 6, 2))
        expected = out[:, :frames].transpose(1, 2).flatten(2).mean(2).mean(0)
        assert torch.allclose(bn.running_mean, expected), frames
    assert not torch.allclose(t1.stages[0].layers[0].conv[1].running_mean,
                              every.stages[0].layers[0].conv[1].running_mean)
    t1, every = (net.train() for net in _dvs_pair())
    with torch.no_grad():
        assert torch.allclose(every(x, 10), t1(x, 10))
        assert not torch.allclose(every(x, 3), t1(x, 3))


def test_setup_threads_the_protocol_settings(monkeypatch):
    """``setup`` hands cutout_fill to the data and dvs_stem_frames and residual_bn_init to the model;
    dvs_stem_frames needs dvs_resnet18."""
    from tfsnn import run_setup
    from tfsnn.config import RunConfig, RunConfigError
    from tfsnn.data import Data

    seen = {}
    fake = Data(train=[], test=[], val=None, num_classes=4, in_channels=2, input_kind="frames",
                image_shape=(10, 2, 8, 8))
    monkeypatch.setattr(run_setup, "load_data", lambda *a, **kw: seen.update(kw) or fake)
    cfg = RunConfig.from_dict(dict(dataset="digits_dvs", arch="dvs_resnet18", width=1 / 16, device="cpu",
                                   dvs_stem_frames="all", cutout_fill="black"))
    st = run_setup.setup(cfg)
    assert st.model.stem_frames == "all" and seen["cutout_fill"] == "black"
    assert st.model.arch_kwargs.get("residual_bn_init") is None
    scaled = run_setup.setup(RunConfig.from_dict(dict(cfg.result_settings(), residual_bn_init=0.5)))
    assert scaled.model.arch_kwargs["residual_bn_init"] == 0.5
    default = RunConfig.from_dict(dict(cfg.result_settings(), dvs_stem_frames="t1"))
    assert run_setup.setup(default).model.stem_frames == "t1"
    with pytest.raises(RunConfigError, match="dvs_stem_frames"):
        RunConfig.from_dict(dict(arch="resnet19", dvs_stem_frames="all"))
