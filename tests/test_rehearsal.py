"""Rehearsals: a preset's DAG on the CPU with its real settings, stand-in data and a few batches per run."""
import copy
from pathlib import Path

import pytest
import yaml

from test_pipeline import run_snakemake
from tfsnn.config import RunConfig
from tfsnn.pipeline import rehearsal
from tfsnn.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parents[1]


def preset(name: str, **changes) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())
    return {**cfg, **changes}


def test_stand_ins_are_the_smoke_presets():
    smoke = preset("config")
    assert {role: d["name"] for role, d in smoke["datasets"].items()} == rehearsal.ROLE_STANDINS


@pytest.mark.parametrize("name", ["mini", "paper"])
def test_a_rehearsal_keeps_the_presets_settings_and_cuts_only_data_length_and_hardware(name):
    real, rehearsed = Plan(preset(name)), Plan(preset(name, rehearsal=True))
    assert rehearsed.preset == f"{name}-rehearsal" and rehearsed.layout.results != real.layout.results
    assert set(rehearsed.targets) == set(real.targets)
    assert rehearsed.config["experiments"]["seenn"]["tol"] == rehearsal.SEENN_TOL   # 16 samples: coarse exits
    assert {cfg.dataset for cfg in rehearsed.runs.values()} <= set(rehearsal.ROLE_STANDINS.values())
    # (init_from names a parent run, whose id changes with the cut)
    cut = {"epochs", "batch_size", "limit_samples", "device", "workers", "val_split", "dataset", "data_root", "seed",
           "init_from"}
    for cfg in rehearsed.runs.values():
        assert cfg.epochs == 1 and cfg.batch_size == rehearsal.BATCH and cfg.limit_samples == rehearsal.SAMPLES
        assert cfg.device == "cpu" and cfg.seed == preset(name)["seeds"][0]
    # every other setting is the preset's: the same runs, one seed, with only the cut settings changed
    def kept(c: RunConfig) -> tuple:
        return tuple(sorted((k, str(v)) for k, v in c.to_dict().items() if k not in cut))

    assert {kept(c) for c in rehearsed.runs.values()} <= {kept(c) for c in real.runs.values()}
    assert len({kept(c) for c in rehearsed.runs.values()}) == len({kept(c) for c in real.runs.values()})


def test_rehearsing_twice_is_rehearsing_once():
    cfg = preset("paper", rehearsal=True)
    once = copy.deepcopy(Plan(cfg).config)
    assert Plan(cfg).config == once and once["preset"] == "paper-rehearsal"


def test_limit_samples_keeps_the_first_samples_of_each_split(digits10_root):
    from tfsnn.run_setup import setup

    cfg = RunConfig.from_dict(dict(dataset="digits10", data_root=str(digits10_root), arch="resnet19", width=0.0625,
                                   val_split=50, limit_samples=16, device="cpu"))
    st = setup(cfg)
    assert st.data.sizes == {"train": 16, "test": 16, "val": 16}
    assert len(st.data.train) == 16 and len(st.data.val) == 16


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mini", "paper"])
def test_table4_rehearsed_end_to_end(tmp_path, name):
    """The preset's real settings run through every rule table4 needs; a crash at scale crashes here first."""
    run_snakemake(tmp_path, "--cores", "2", "table4", "--configfile", str(ROOT / "config" / f"{name}.yaml"),
                  "--config", "rehearsal=true")
    tables = tmp_path / "results" / f"{name}-rehearsal" / "tables"
    md = (tables / "table4.md").read_text()
    assert f"Rehearsal of the {name} preset" in md and "this preset" in md
    assert not (tmp_path / "results" / name).exists()          # never mixed with real results
