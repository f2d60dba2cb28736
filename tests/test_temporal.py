"""TTM grouping against Eq. 8, TTM spike bookkeeping, configuration parsing and samplers."""
from fractions import Fraction

import pytest
import torch

from tfsnn.temporal import (ConfigError, FixedSampler, MonotoneSampler, StageSampler, check_config,
                            format_config, is_monotone, make_sampler, parse_config, ttm, ttm_groups)


def eq8_starts(l, k):
    """b_i - 1 = nearest integer to (i-1)*l/k, ties rounded down (the -eps of Eq. 8), in exact arithmetic."""
    starts = []
    for i in range(1, k + 1):
        x = Fraction((i - 1) * l, k)
        base = x.numerator // x.denominator
        starts.append(base + (1 if x - base > Fraction(1, 2) else 0))
    return starts


@pytest.mark.parametrize("l", range(1, 17))
def test_groups_follow_eq8(l):
    for k in range(1, l + 1):
        groups = ttm_groups(l, k)
        assert [g[0] for g in groups] == eq8_starts(l, k)
        assert [f for g in groups for f in g] == list(range(l))        # a partition, in order
        sizes = {len(g) for g in groups}
        assert sizes <= {l // k, -(-l // k)}                            # as even as possible


def test_design_examples():
    assert ttm_groups(6, 4) == [[0], [1, 2], [3], [4, 5]]
    assert ttm_groups(5, 2) == [[0, 1], [2, 3, 4]]
    assert ttm_groups(10, 3) == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]
    assert ttm_groups(5, 3) == [[0, 1], [2], [3, 4]]                    # Fig. 4A
    x = torch.arange(4.0).view(4, 1)
    assert ttm(x, 6).flatten().tolist() == [0, 1, 1, 2, 3, 3]           # 4 -> 6 up-sampling


def test_downsampling_sums_groups_and_preserves_spike_count():
    g = torch.Generator().manual_seed(0)
    for l in range(1, 11):
        x = (torch.rand(l, 3, 4, generator=g) > 0.6).float()
        for k in range(1, l + 1):
            y = ttm(x, k)
            assert y.shape == (k, 3, 4)
            assert y.sum() == x.sum()
            for i, grp in enumerate(ttm_groups(l, k)):
                assert torch.equal(y[i], x[grp].sum(0))


def test_up_then_down_returns_input_times_group_sizes():
    g = torch.Generator().manual_seed(1)
    for k in range(1, 9):
        x = (torch.rand(k, 5, generator=g) > 0.5).float()
        for l in range(k, 13):
            sizes = torch.tensor([len(grp) for grp in ttm_groups(l, k)], dtype=torch.float32).view(k, 1)
            assert torch.equal(ttm(ttm(x, l), k), x * sizes)


def test_ttm_identity_and_gradient():
    x = torch.rand(4, 2, requires_grad=True)
    assert ttm(x, 4) is x
    ttm(x, 2).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    with pytest.raises(ConfigError):
        ttm(x, 0)


def test_parse_and_format():
    assert parse_config("3,2,2,3,5,3,6,2") == (3, 2, 2, 3, 5, 3, 6, 2)
    assert format_config((3, 2, 2)) == "3,2,2"
    assert parse_config("4", n_stages=3) == (4, 4, 4)
    assert parse_config(" 1, 2 ,3 ") == (1, 2, 3)
    with pytest.raises(ConfigError, match="3 entries but the network has 8 stages"):
        parse_config("1,2,3", n_stages=8)
    with pytest.raises(ConfigError, match="comma-separated"):
        parse_config("3;2;x")
    with pytest.raises(ConfigError, match=r"outside \[1, 6\]"):
        check_config((1, 7, 2), 3, 1, 6)
    with pytest.raises(ConfigError, match=r"outside"):
        check_config((0, 2, 2), 3, 1, 6)


def test_sdt_and_nmt_samplers():
    assert FixedSampler(8, 6).sample() == (6,) * 8
    nmt = make_sampler("nmt", 8, 6, seed=3)
    draws = [nmt.sample() for _ in range(200)]
    assert all(len(set(t)) == 1 for t in draws)
    assert {t[0] for t in draws} == set(range(1, 7))


@pytest.mark.parametrize("g", [1, 2, 3, 4, 8])
def test_mtt_granularity(g):
    s = StageSampler(8, 1, 6, g=g, seed=0)
    seen = set()
    for _ in range(300):
        t = s.sample()
        assert len(t) == 8 and all(1 <= v <= 6 for v in t)
        for start in range(0, 8, g):
            assert len(set(t[start:start + g])) == 1                    # one T per group of g stages
        seen.update(t)
    assert seen == set(range(1, 7))


def test_mtt_stages_independent_and_uniform():
    s = make_sampler("mtt", 8, 6, seed=0)
    draws = torch.tensor([s.sample() for _ in range(3000)])
    counts = torch.stack([torch.bincount(draws[:, i], minlength=7)[1:] for i in range(8)]).float()
    assert (counts / 3000 - 1 / 6).abs().max() < 0.04
    assert (draws[:, 0] != draws[:, 1]).float().mean() > 0.7


def test_monotone_sampler():
    s = MonotoneSampler(3, t_in=20, t_min=1, seed=0)
    for _ in range(200):
        t = s.sample()
        assert t[0] == 20 and is_monotone(t) and min(t) >= 1
    assert make_sampler("mtt", 3, 20, monotone=True).sample()[0] == 20


def test_sampler_seed_and_checkpointed_state():
    a, b = make_sampler("mtt", 8, 6, seed=5), make_sampler("mtt", 8, 6, seed=5)
    assert [a.sample() for _ in range(10)] == [b.sample() for _ in range(10)]
    state = a.state_dict()
    ahead = [a.sample() for _ in range(5)]
    c = make_sampler("mtt", 8, 6, seed=999)
    c.load_state_dict(state)
    assert [c.sample() for _ in range(5)] == ahead


def test_bad_method():
    with pytest.raises(ConfigError, match="unknown training method"):
        make_sampler("tet", 8, 6)


def test_ttm_keeps_the_frames_layout():
    g = torch.Generator().manual_seed(2)
    frames = [(torch.rand(2, 3, 4, 5, generator=g) > 0.5).float().contiguous(memory_format=torch.channels_last)
              for _ in range(5)]
    x = torch.stack(frames).requires_grad_(True)          # [T, B, C, H, W], channels_last frames
    for k in (2, 3, 8):
        y = ttm(x, k)
        assert y[0].is_contiguous(memory_format=torch.channels_last)
        ref = ttm(x.detach().contiguous(), k)
        assert torch.equal(y, ref)
    ttm(x, 3).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
