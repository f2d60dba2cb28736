"""Run settings: validation with named keys, run ids derived from the settings that matter."""
import pytest

from tfsnn.config import RunConfig, RunConfigError


def test_unknown_key_is_named_with_a_hint():
    with pytest.raises(RunConfigError, match=r"unknown key 'lrr' in run config; did you mean 'lr'\?"):
        RunConfig.from_dict({"lrr": 0.1})


def test_wrong_kind_and_range():
    with pytest.raises(RunConfigError, match="'epochs' has value 'many'"):
        RunConfig.from_dict({"epochs": "many"})
    with pytest.raises(RunConfigError, match="'epochs' has value True"):
        RunConfig.from_dict({"epochs": True})
    with pytest.raises(RunConfigError, match="t_min must be in"):
        RunConfig.from_dict({"t_min": 7, "t_max": 6})
    with pytest.raises(RunConfigError, match="method 'tet'"):
        RunConfig.from_dict({"method": "tet"})
    with pytest.raises(RunConfigError, match="'autoaugment' has value 'maybe'"):
        RunConfig.from_dict({"autoaugment": "maybe"})


def test_values_are_coerced():
    cfg = RunConfig.from_dict({"lr": "0.05", "autoaugment": "true", "eval_ts": "1,2,4", "epochs": 3.0})
    assert cfg.lr == 0.05 and cfg.autoaugment is True and cfg.eval_ts == [1, 2, 4] and cfg.epochs == 3
    assert RunConfig().eval_steps() == [1, 2, 3, 4, 5, 6]


def test_run_id_tracks_result_settings_only():
    a = RunConfig.from_dict({"epochs": 5})
    assert a.run_id() == RunConfig.from_dict({"epochs": 5}).run_id()
    assert a.run_id() != a.replace(seed=2000).run_id()
    assert a.run_id() != a.replace(s=2).run_id()
    # where data lives, how many workers load it and which device runs it do not change the run
    assert a.run_id() == a.replace(workers=4, device="cpu", data_root="/elsewhere", tags={"t": "x"}).run_id()
    assert a.run_id().startswith("digits10-resnet19-mtt-T6-e5-seed1000-")
    assert "mttg2" in a.replace(g=2).run_id()


def test_run_id_ignores_settings_left_at_their_default():
    """A field added later with a default must not change existing run ids."""
    a = RunConfig.from_dict({"epochs": 5})
    assert a.run_id() == RunConfig.from_dict({"epochs": 5, "t_min": 1, "autoaugment": False}).run_id()
