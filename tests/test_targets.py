"""Targets and analyses are declared once: the plan, the CLI, the rules and the captions come from the
declarations, and a new table needs nothing but its declaration."""
import copy
from pathlib import Path

import pytest
import yaml

from tfsnn.analysis.registry import ANALYSES
from tfsnn.cli import build_parser
from tfsnn.data.registry import DATASETS, INPUT_SIZES, TRAIN_SIZES
from tfsnn.layout import Layout
from tfsnn.pipeline import targets as registry
from tfsnn.pipeline.plan import Plan, PlanError

ROOT = Path(__file__).resolve().parents[1]


def preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / ("config.yaml" if name == "smoke" else f"{name}.yaml")).read_text())


def test_every_declared_target_has_a_caption_a_builder_and_its_outputs():
    targets = registry.load()
    assert len(targets) == 28
    plan = Plan(preset("smoke"))
    for name, t in targets.items():
        assert t.kind in ("table", "figure") and t.caption and callable(t.build), name
        files = plan.outputs(name)
        assert files == (Layout("smoke").table_files(name) if t.kind == "table" else Layout("smoke").figure_files(name))


def test_a_target_exists_only_where_the_preset_has_its_experiment():
    mini = Plan(preset("mini"))
    assert "table7" in mini.targets and "table3" in mini.targets
    cfg = preset("smoke")
    del cfg["experiments"]["nmnist"]
    assert "table7" not in Plan(cfg).targets


@pytest.mark.parametrize("name", ["smoke", "mini", "paper"])
def test_analysis_arguments_round_trip_through_the_generated_subcommands(name):
    cfg = preset(name)
    plan = Plan(cfg)
    parser = build_parser()
    for analysis in ANALYSES.values():
        argv = ["analyze", *plan.analysis_args(analysis.name), "--model", "m.pt", "--out", "o.json"]
        argv += [x for other in analysis.reads for x in (f"--{other}", f"{other}.json")]
        args = parser.parse_args(argv)
        assert args.kind == analysis.name
        for p in analysis.params:
            expected = p.value(cfg)
            got = getattr(args, p.name)
            assert got == (list(expected) if isinstance(expected, (list, tuple)) else expected), (analysis.name, p.name)


def test_analysis_inputs_come_from_what_an_analysis_reads():
    plan = Plan(preset("smoke"))
    assert plan.analysis_inputs("r1", "search") == [Layout("smoke").analysis_file("r1", "estimator")]
    assert plan.analysis_inputs("r1", "seenn") == []


def test_a_target_declared_twice_is_refused():
    spec = registry.TARGETS["table4"].spec
    with pytest.raises(ValueError, match="declared twice"):
        registry.table("table4", "another", build=lambda spec, preset: None)(lambda plan: {})
    assert registry.TARGETS["table4"].spec is spec


def test_an_unknown_target_module_names_the_fix():
    from tfsnn.errors import TfsnnError

    with pytest.raises(TfsnnError, match="target module 'no_such_targets' cannot be imported"):
        registry.load(("no_such_targets",))


@pytest.mark.parametrize("block, key", [("comparison", "ts_table4"), ("comparison", "ts_table2"), ("vgg", "ts"),
                                        ("analysis", "ts"), ("bn_stats", "ts")])
def test_time_steps_beyond_t_max_are_refused_when_the_dag_is_built(block, key):
    from tfsnn.pipeline.plan import PlanError

    cfg = preset("smoke")
    cfg["experiments"][block][key] = [2, 99]
    with pytest.raises(PlanError, match=rf"experiments.{block}.{key} asks for T=\[99\] but the runs it reads are "
                                        r"trained up to t_max=\d+"):
        Plan(cfg)


def test_conversion_may_read_beyond_t_max():
    """Table 6 reads uniform T up to 64 from a T_max=6 model: no TTM is needed past T_max."""
    assert max(Plan(preset("paper")).specs["table6"]["ts"]) == 64


def test_costly_runs_are_scheduled_first():
    """Snakemake's priority for a train job is its estimated cost: epochs x passes x T_max x training samples x
    the cube root of its input size x the network's stages. On smoke ``table4`` that orders the runs as
    their training took on 2 cores (N-Caltech101 132 s, ImageNet 125 s, CIFAR100 123 s, CIFAR10-DVS 109 s,
    CIFAR10 36 s), within 7 s; by samples alone the ResNet-34 run came fourth and ended alone."""
    plan = Plan(preset("smoke"))
    by_dataset = {}
    for rid in plan.inputs("table4"):
        run = next((r for r in plan.runs if r in rid), None)
        if run is not None:
            cfg = plan.runs[run]
            by_dataset[cfg.dataset] = plan.priority(run)
            assert cfg.method != "sdt"
            cost = cfg.epochs * cfg.s * cfg.t_max * TRAIN_SIZES[cfg.dataset] * INPUT_SIZES[cfg.dataset] ** (1 / 3)
            assert plan.priority(run) == round(cost * plan.n_stages(cfg.arch))
    assert sorted(by_dataset, key=by_dataset.get, reverse=True) == [
        "digits_imagenet", "digits_ncaltech", "digits100", "digits_dvs", "digits10"]


def test_an_sdt_run_costs_one_pass_per_iteration():
    """SDT's s passes run once (tfsnn.engine), so its cost is a third of the MTT run it is compared with at
    s = 3: B-ResNet-72's 64-epoch runs took 920 s (SDT) and 1,830 s (MTT) on one thread."""
    plan = Plan(preset("smoke"))
    runs = {(cfg.arch, cfg.method): rid for rid, cfg in plan.runs.items() if "table8" in plan.run_targets[rid]}
    sdt, mtt = runs[("bresnet72", "sdt")], runs[("bresnet72", "mtt")]
    assert plan.runs[sdt].s == plan.runs[mtt].s == 3 and plan.runs[sdt].epochs == plan.runs[mtt].epochs
    assert abs(plan.priority(sdt) * 3 - plan.priority(mtt)) <= 3   # each rounded to an integer


def test_deep_networks_are_scheduled_before_shallow_ones_of_like_cost_per_block():
    """The depth factor: in smoke ``all`` the Table 8 B-ResNets trained longest (B-ResNet-72 SDT 635 s,
    MTT 450 s, against 234 s for the costliest ResNet-18 run) but, costed without depth, started 30th to
    33rd of 40. The B-ResNet-72 runs now come before every ResNet-18 run, and the SHD/SSC runs (fc_shd:
    16 to 21 s on 2 cores), which came first, after the B-ResNet-50 runs."""
    plan = Plan(preset("smoke"))
    by_arch: dict[str, list[int]] = {}
    for rid, cfg in plan.runs.items():
        by_arch.setdefault(cfg.arch, []).append(plan.priority(rid))
    assert plan.n_stages("bresnet72") > plan.n_stages("bresnet50") > plan.n_stages("resnet18")
    assert min(by_arch["bresnet72"]) > max(by_arch["resnet18"])
    assert max(by_arch["fc_shd"]) < min(by_arch["bresnet50"])


def test_the_dataset_of_the_costliest_run_is_prepared_first():
    plan = Plan(preset("smoke"))
    costliest = max(plan.runs, key=plan.priority)
    ranks = {d: plan.prepare_rank(d) for d in plan.dataset_roots()}
    assert max(ranks, key=ranks.get) == plan.runs[costliest].dataset
    assert plan.prepare_rank("no_such_dataset") == 0 and min(ranks.values()) >= 1


def test_every_dataset_has_a_training_size_and_an_input_size():
    assert set(TRAIN_SIZES) == set(DATASETS) == set(INPUT_SIZES)


def test_role_datasets_give_one_experiments_runs_another_dataset():
    """``role_datasets``: the smoke preset's Table 8 reads 32x32 digits (B-ResNets end on 4x4 maps there,
    1x1 on digits10); every other experiment on the role keeps the preset's dataset, the prepare rule
    gets both folders, and a rehearsal maps the role back to its one stand-in."""
    cfg = preset("smoke")
    cfg["experiments"]["deep"]["role_datasets"] = {"cifar10": {"name": "digits10_32", "root": "data/d32"}}
    plan = Plan(cfg)

    def datasets(target: str) -> set:
        return {plan.runs[r].dataset for r in plan.runs if target in plan.run_targets[r]}

    assert datasets("table8") == {"digits10_32"} and "digits10" in datasets("table4") and datasets("table5") == {"digits10"}
    assert {plan.runs[r].data_root for r in plan.runs if "table8" in plan.run_targets[r]} == {"data/d32"}
    assert plan.dataset_roots()["digits10_32"] == "data/d32" and plan.dataset_roots()["digits10"] == "data/digits10"
    rehearsed = Plan({**copy.deepcopy(cfg), "rehearsal": True})
    assert {rehearsed.runs[r].dataset for r in rehearsed.runs if "table8" in rehearsed.run_targets[r]} == {"digits10"}


def test_a_dataset_in_two_folders_is_refused():
    cfg = preset("smoke")
    cfg["experiments"]["deep"]["role_datasets"] = {"cifar10": {"name": "digits10", "root": "data/elsewhere"}}
    with pytest.raises(PlanError, match="digits10 is given two folders, data/digits10 and data/elsewhere"):
        Plan(cfg).dataset_roots()


def test_an_unknown_key_in_role_datasets_is_named():
    cfg = preset("smoke")
    cfg["experiments"]["deep"]["role_datasets"] = {"cifar10": {"name": "digits10_32", "folder": "data/d32"}}
    with pytest.raises(PlanError, match="'folder' was unexpected in experiments.deep.role_datasets.cifar10"):
        Plan(cfg)


def test_arch_settings_reach_only_their_architectures_runs():
    """``arch_settings``: one architecture of an experiment takes its own settings (smoke: B-ResNet-72's
    residual BN init), the others keep the experiment's; ``role_settings`` and a spec's own values win."""
    cfg = preset("smoke")
    deep = cfg["experiments"]["deep"]
    deep["arch_settings"] = {"bresnet72": {"residual_bn_init": 0.5, "epochs": 3}}
    deep["role_settings"] = {"cifar10": {"epochs": 5}}
    plan = Plan(cfg)
    runs = [plan.runs[r] for r in plan.runs if "table8" in plan.run_targets[r]]
    assert {(c.arch, c.residual_bn_init, c.epochs) for c in runs} == {
        ("bresnet50", deep["settings"]["residual_bn_init"], 5), ("bresnet72", 0.5, 5)}
    assert all(c.residual_bn_init == 1.0 for r, c in plan.runs.items() if "table8" not in plan.run_targets[r])


@pytest.mark.parametrize("key", [2, "2"])   # YAML writes an int, a JSON round trip (--config) a string
def test_sdt_star_settings_reach_only_their_time_steps_model(key):
    """``sdt_star_settings``: Table 1's SDT* model at one T takes its own settings (smoke: T=2's epochs);
    the other SDT* models, the SDT (T_max) baseline and every other run keep the experiment's."""
    cfg = preset("smoke")
    e = cfg["experiments"]["analysis"]
    e["sdt_star_settings"] = {key: {"lr": 0.5, "method": "mtt", "t_max": 9}}   # a spec's own values win
    plan = Plan(cfg)
    star = {rid: plan.runs[rid] for rid in plan.runs if "table1" in plan.run_targets[rid]
            and plan.runs[rid].method == "sdt"}
    assert {(c.t_max, c.lr) for c in star.values()} == {(T, 0.5 if T == 2 else e["settings"]["lr"])
                                                        for T in e["sdt_star_ts"]}
    assert [c.lr for c in plan.runs.values()].count(0.5) == 1


def test_sdt_star_settings_for_a_time_step_without_a_model_are_named():
    cfg = preset("smoke")
    cfg["experiments"]["analysis"]["sdt_star_settings"] = {7: {"lr": 0.1}}
    with pytest.raises(PlanError, match=r"T=7 is not one of sdt_star_ts"):
        Plan(cfg)


def test_an_unknown_architecture_in_arch_settings_is_named():
    cfg = preset("smoke")
    cfg["experiments"]["deep"]["arch_settings"] = {"bresnet99": {"epochs": 3}}
    with pytest.raises(PlanError, match="bresnet99"):
        Plan(cfg)
