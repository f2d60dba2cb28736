"""The paper preset follows the official code's protocol; every table names the protocol of its cells."""
import json
from pathlib import Path

import pytest
import yaml

from tfsnn.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parents[1]


def plan(preset: str) -> Plan:
    name = "config.yaml" if preset == "smoke" else f"{preset}.yaml"
    return Plan(yaml.safe_load((ROOT / "config" / name).read_text()))


def runs_of(p: Plan, *targets: str):
    return [p.runs[rid] for rid, ts in p.run_targets.items() if ts & set(targets)]


def test_paper_runs_of_the_comparison_tables_select_the_best_test_epoch():
    p = plan("paper")
    runs = runs_of(p, "table2", "table3", "table4", "table9")
    assert len(runs) >= 9 * 3 // 3   # CIFAR10/100, ImageNet, two DVS sets, VGG: 3 seeds each
    assert {cfg.epoch_selection for cfg in runs} == {"best_test"}


def test_paper_sdt_runs_are_not_calibrated_and_mtt_runs_are():
    p = plan("paper")
    sdt = [cfg for cfg in p.runs.values() if cfg.single_step()]
    assert len(sdt) >= 8   # Table 1 (SDT, SDT* x5), Table 5, Table 8 x2, sequence tables, ...
    assert not any(cfg.calibrates() for cfg in sdt)
    assert all(cfg.calibrates() for cfg in p.runs.values() if not cfg.single_step() and not cfg.fold_bn)


@pytest.mark.parametrize("preset, rule", [("smoke", "final"), ("mini", "best_val")])
def test_other_presets_keep_an_honest_selection(preset, rule):
    """Never the test split outside the paper preset: a validation split where the run has one."""
    for cfg in plan(preset).runs.values():
        assert cfg.epoch_selection == (rule if cfg.val_split > 0 else "final"), cfg.run_id()


def test_every_table_names_the_protocol_of_its_cells(tmp_path, monkeypatch):
    from tfsnn.report.tables import build_table

    monkeypatch.chdir(tmp_path)
    evals = []
    for rid, protocol in (("a", {"epoch_selection": "best_test", "epoch": 7, "epochs": 9, "calibrated": True}),
                          ("b", {"epoch_selection": "best_test", "epoch": 9, "epochs": 9, "calibrated": True}),
                          ("c", {"epoch_selection": "final", "epoch": 9, "epochs": 9, "calibrated": False})):
        f = Path("results/x/runs") / rid / "eval.json"
        f.parent.mkdir(parents=True)
        f.write_text(json.dumps({"run_id": rid, "protocol": protocol, "accuracy": {str(T): 0.5 for T in range(1, 6)}}))
        evals.append(str(f))
    group = {"label": "MTT", "dataset": "CIFAR100", "stand_in": "cifar100", "arch": "VGG14"}
    spec = {"ts": [2, 5], "groups": [{**group, "evals": evals[:2]}, {**group, "label": "SDT", "evals": evals[2:]}]}
    notes = build_table("table9", spec, "x").notes
    assert ("Protocol of the run cells: best test epoch (the official --save_best_model), BN calibrated at T_max "
            "(2 runs); final epoch, BN not calibrated (official protocol for SDT runs) (1 run).") in notes


def test_paper_follows_the_official_transforms_where_they_apply():
    p = plan("paper")
    for cfg in p.runs.values():
        assert cfg.cutout_fill == ("black" if cfg.cutout else "mean"), cfg.run_id()
        assert cfg.dvs_stem_frames == ("all" if cfg.arch == "dvs_resnet18" else "t1"), cfg.run_id()


@pytest.mark.parametrize("init", [None, 0.7071, {"bresnet50": 0.7071, "bresnet72": 0.5}])
def test_a_table_names_a_residual_bn_init_that_departs_from_the_paper(init, tmp_path, monkeypatch):
    from tfsnn.report.tables import build_table

    monkeypatch.chdir(tmp_path)
    cols = []
    for arch in ("bresnet50", "bresnet72"):
        col = {"arch": arch}
        value = init.get(arch) if isinstance(init, dict) else init
        for method in ("sdt", "mtt"):
            f = Path("results/x/runs") / f"{arch}-{method}-{value}-{len(str(init))}" / "eval.json"   # one id per case: load caches
            f.parent.mkdir(parents=True)
            config = {"arch": arch} if value is None else {"arch": arch, "residual_bn_init": value}
            f.write_text(json.dumps({"run_id": f.parent.name, "config": config,
                                     "accuracy": {str(T): 0.5 for T in range(1, 5)}}))
            col[method] = {"label": method.upper(), "dataset": "CIFAR10", "stand_in": "digits10_32",
                           "arch": arch, "evals": [str(f)]}
        cols.append(col)
    notes = build_table("table8", {"T": 4, "columns": cols}, "x").notes
    named = [n for n in notes if "residual_bn_init" in n]
    start = {type(None): None, float: "0.7071", dict: "0.7071 in B-ResNet-50, 0.5 in B-ResNet-72"}[type(init)]
    if start is None:
        assert named == []
    else:
        assert named == [f"Initialisation: the BN layers that feed each residual addition start at weight {start} "
                         "(run setting residual_bn_init; tdBN's alpha = 1/sqrt(2), Zheng et al. 2021); the "
                         "paper's networks start at PyTorch's 1."]


@pytest.mark.parametrize("recipes", [((16, 0.04),) * 3, ((16, 0.04), (24, 0.04), (16, 0.04)),
                                     ((16, 0.04), (16, 0.08), (16, 0.04)), ((16, 0.04), (24, 0.04), (16, 0.08))])
def test_a_table_names_training_recipes_that_differ_between_its_runs(recipes, tmp_path, monkeypatch):
    """One recipe: no note; a run with other epochs or another lr (``sdt_star_settings``): the note names
    it and its run."""
    from tfsnn.report.tables import build_table

    monkeypatch.chdir(tmp_path)
    groups = {}
    for T, (epochs, lr) in zip((2, 3, 4), recipes):
        f = Path("results/x/runs") / f"sdt{T}-{epochs}-{lr}-{hash(recipes)}" / "eval.json"   # one id per case: load caches
        f.parent.mkdir(parents=True)
        config = {"arch": "resnet18", "dataset": "digits100", "method": "sdt", "t_max": T, "lr": lr, "epochs": epochs}
        f.write_text(json.dumps({"run_id": f.parent.name, "config": config,
                                 "accuracy": {str(t): 0.5 for t in range(1, T + 1)}}))
        groups[str(T)] = {"label": f"SDT* T={T}", "dataset": "CIFAR100", "stand_in": "digits100",
                          "arch": "ResNet-18", "evals": [str(f)]}
    spec = {"ts": [2, 3, 4], "sdt": groups["4"], "nmt": groups["4"], "sdt_star": groups}
    named = [n for n in build_table("table1", spec, "x").notes if n.startswith("Training:")]
    other = recipes[1]
    if len(set(recipes)) == 1:
        assert named == []
    elif len(set(recipes)) == 2:
        assert named == [f"Training: 16 epochs at lr 0.04 (2 runs); {other[0]} epochs at lr {other[1]:g} for "
                         "SDT T=3 (ResNet-18 on digits100)."]
    else:   # no recipe is the most common: each is named with its run
        assert named == ["Training: 16 epochs at lr 0.04 for SDT T=2 (ResNet-18 on digits100); 16 epochs at lr "
                         "0.08 for SDT T=4 (ResNet-18 on digits100); 24 epochs at lr 0.04 for SDT T=3 (ResNet-18 "
                         "on digits100)."]
