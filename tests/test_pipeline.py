"""The real Snakemake DAG on a tiny config: targets build, reruns do nothing, tables rebuild from eval.json."""
import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# a few targets for real (every rule kind: data, MLflow, train, calibrate, evaluate, analyze, table, figure);
# the rest as a dry run. Every smoke target is built end to end by `snakemake --cores all all`.
BUILT = ["table4", "table10", "table12", "claims", "search", "table15", "fig4", "fig7c"]


def tiny_config(tmp: Path) -> dict:
    """The smoke preset shrunk: 1 epoch, width 1/16, few time steps."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["preset"] = "tiny"
    cfg["train_threads"] = 1            # two jobs at a time on two cores
    for role, d in cfg["datasets"].items():
        d["root"] = str(tmp / "data" / d["name"])
    cfg["run_defaults"].update(width=0.0625, epochs=1, batch_size=128, calib_batches=2)
    e = cfg["experiments"]
    e["comparison"].update(ts_table2=[6, 2], ts_table4=[2, 6])
    e["conversion"]["ts"] = [1, 2, 8]
    e["analysis"].update(ts=[2, 6], sdt_star_ts=[2, 6], granularities=[1, 8])
    e["sampling"].update(s_values=[1, 3], budgets=[3])
    e["bn_stats"].update(ts=[2, 3], repeats=1)
    e["deep"]["settings"] = {"epochs": 1}
    e["estimator"].update(n_fit=10, n_val=4, repeats=1)
    e["seenn"].update(targets=[1.5], tol=0.5)
    e["noise"].update(weight_grid=[0, 0.1], input_grid=[0, 1], repeats=1)
    e["landscape"].update(alphas=[-1, 0, 1], batches=1)
    e["gradients"].update(gradcos_batches=2)
    e["calbatches"].update(counts=[1, 2], repeats=1)
    for name in ("imagenet", "dvs", "nmnist", "seqmnist", "shd", "ssc"):
        e[name]["settings"]["epochs"] = 1
    e.pop("imagenet")                    # (the ImageNet and DVS rows of table4 are the costliest smoke runs)
    e.pop("dvs")
    for role in ("imagenet", "cifar10dvs", "ncaltech101"):
        cfg["datasets"].pop(role)
    return cfg


def run_snakemake(workdir: Path, *args, env=None, check=True):
    """This repository's Snakefile run in ``workdir`` (results, data and MLflow store land there)."""
    env = dict(env or os.environ, PYTHONPATH=str(ROOT))
    env.pop("MLFLOW_TRACKING_URI", None)
    r = subprocess.run([*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), *args], cwd=workdir, env=env,
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def snakemake(workdir: Path, *args, check=True):
    return run_snakemake(workdir, "--configfile", "tiny.yaml", *args, check=check)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    (tmp / "tiny.yaml").write_text(yaml.safe_dump(tiny_config(tmp)))
    snakemake(tmp, "--cores", "2", *BUILT)
    return tmp


@pytest.mark.slow
def test_targets_build_in_every_format(workdir):
    for name in BUILT:
        if name.startswith("fig"):
            files = [workdir / "figures" / "tiny" / f"{name}.{ext}" for ext in ("png", "pdf", "provenance.json")]
        else:
            files = [workdir / "results" / "tiny" / "tables" / f"{name}.{ext}"
                     for ext in ("csv", "md", "tex", "provenance.json")]
        for f in files:
            assert f.is_file() and f.stat().st_size > 0, f
    md = (workdir / "results" / "tiny" / "tables" / "table4.md").read_text()
    assert "preset: tiny" in md and "cited" in md and "digits100" in md
    import csv

    rows = list(csv.DictReader((workdir / "results" / "tiny" / "tables" / "claims.csv").open()))
    search = (workdir / "results" / "tiny" / "tables" / "search.md").read_text()
    assert "CIFAR100" in search and "CIFAR10" in search and "cited" in search
    assert len(rows) == 6 and {r["Verdict"] for r in rows} <= {"holds", "does not hold"}


@pytest.mark.slow
def test_rerun_does_nothing_and_deleting_a_result_rebuilds_only_its_dependents(workdir):
    r = snakemake(workdir, "-n", *BUILT)
    assert "Nothing to be done" in r.stdout + r.stderr
    from tfsnn.pipeline.plan import Plan

    plan = Plan(yaml.safe_load((workdir / "tiny.yaml").read_text()))
    rid = plan.specs["table4"]["groups"][0]["evals"][0].split("/")[-2]
    (workdir / "results" / "tiny" / "runs" / rid / "eval.json").unlink()
    r = snakemake(workdir, "-n", *BUILT)
    out = r.stdout
    assert "calibrate" in out and "table4" in out
    assert "\ntrain " not in out and "rule train:" not in out        # training is not redone
    snakemake(workdir, "--cores", "2", *BUILT)


@pytest.mark.slow
def test_tables_rebuild_from_eval_files_and_provenance(workdir, monkeypatch):
    from tfsnn.pipeline.plan import Plan
    from tfsnn.report.results import _load
    from tfsnn.report.tables import build_table

    monkeypatch.chdir(workdir)
    _load.cache_clear()
    plan = Plan(yaml.safe_load((workdir / "tiny.yaml").read_text()))
    for name in ("table4", "table12", "claims", "search"):
        rebuilt = build_table(name, plan.specs[name], "tiny")
        assert rebuilt.to_csv() == (workdir / "results" / "tiny" / "tables" / f"{name}.csv").read_text()
    import json

    prov = json.loads((workdir / "results" / "tiny" / "tables" / "table4.provenance.json").read_text())
    run_cells = [c for c in prov["cells"].values() if c["runs"]]
    assert run_cells and all(len(c["runs"]) == len(c["values"]) == 1 for c in run_cells)
    assert {r for c in run_cells for r in c["runs"]} == {g["evals"][0].split("/")[-2]
                                                        for g in plan.specs["table4"]["groups"]}


@pytest.mark.slow
def test_mlflow_store_mirrors_runs_with_target_tags(workdir):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir}/results/tiny/mlflow.db")
    exp = client.get_experiment_by_name("tfsnn-tiny")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 9 and all(r.info.status == "FINISHED" for r in runs)
    tagged = [r for r in runs if r.data.tags.get("tfsnn.target.table4") == "true"]
    assert len(tagged) == 2


@pytest.mark.slow
def test_every_preset_resolves_in_a_dry_run(workdir):
    snakemake(workdir, "-n", "all")
    for preset in ("mini", "paper"):
        r = subprocess.run([*SNAKEMAKE, "-n", "all", "--configfile", f"config/{preset}.yaml"], cwd=ROOT,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([*SNAKEMAKE, "-n", "all", "--configfile", "config/paper.yaml", "--workflow-profile",
                        "workflow/profiles/slurm"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_train_gpus_make_each_training_job_one_torchrun_with_n_gpus():
    """`train_gpus: N`: a training job asks for N GPUs (SLURM: --gpus) and runs torchrun with N processes."""
    r = subprocess.run([*SNAKEMAKE, "-n", "-p", "table4", "--configfile", "config/paper.yaml", "--config", "train_gpus=4",
                        "--workflow-profile", "workflow/profiles/slurm"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    jobs = r.stdout.split("\n\n")
    train = [j for j in jobs if "\nrule train:" in j]
    assert train
    for job in train:
        assert "gpu=4" in job and "cpus_per_task" not in job           # SLURM: --gpus=4, CPUs from threads
        assert "torchrun --standalone --nproc_per_node 4 -m tfsnn train" in job
    calibrate = [j for j in jobs if "\nrule calibrate:" in j]
    assert calibrate and all("gpu=1" in j and "torchrun" not in j for j in calibrate)
    r = subprocess.run([*SNAKEMAKE, "-n", "table4", "--config", "train_gpus=0"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and "train_gpus" in r.stdout + r.stderr


def test_lint_passes():
    r = subprocess.run([*SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_config_errors_name_the_key(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["run_defaults"]["lrr"] = 0.1
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(tmp_path, "-n", "table4", check=False)
    assert r.returncode != 0 and "'lrr' was unexpected" in r.stdout + r.stderr
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["experimentz"] = {}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(tmp_path, "-n", "table4", check=False)
    assert r.returncode != 0 and "'experimentz' was unexpected" in r.stdout + r.stderr


@pytest.mark.parametrize("preset", ["mini", "paper"])
def test_a_preset_replaces_the_default_instead_of_merging(preset):
    """No smoke value (digits stand-ins, smoke-only experiments) leaks into another preset's DAG."""
    r = subprocess.run([*SNAKEMAKE, "-n", "all", "--configfile", f"config/{preset}.yaml"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "digits" not in r.stdout and f"results/{preset}/" in r.stdout


def test_table_code_has_no_numbers():
    """Every number in a table comes from a run, the cited-rows file, or a model: none from table code."""
    for name in ("tables.py", "analysis_tables.py", "claims.py", "results.py"):
        tree = ast.parse((ROOT / "tfsnn" / "report" / name).read_text())
        literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                    and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)]
        assert set(literals) <= {0, 1}, (name, literals)


def _table7_runs(plan):
    rows = {g["label"]: [plan.runs[f.split("/")[-2]] for f in g["evals"]] for g in plan.specs["table7"]["rows"]}
    phase1 = rows.pop(next(label for label in rows if "phase 1" in label))
    return phase1, rows


@pytest.mark.parametrize("preset", ["config", "paper"])
def test_table7_is_the_deployment_recipe_per_seed(preset):
    """Phase 1 SDT runs with the IAF neuron; per row and seed a fine-tuning run from the same seed's phase-1 run."""
    from tfsnn.pipeline.plan import Plan

    cfg = yaml.safe_load((ROOT / "config" / f"{preset}.yaml").read_text())
    plan = Plan(cfg)
    phase1, rows = _table7_runs(plan)
    ft = cfg["experiments"]["nmnist"]["finetune"]
    assert len(phase1) == len(plan.seeds(cfg["experiments"]["nmnist"]))
    assert all(c.method == "sdt" and c.neuron == "iaf_multispike" and c.init_from is None and not c.fold_bn
               for c in phase1)
    assert {label: [c.method for c in runs] for label, runs in rows.items()} == {
        "SDT": ["sdt"] * len(phase1), "MTT": ["mtt"] * len(phase1)}
    for runs in rows.values():
        assert [c.init_from for c in runs] == [p.run_id() for p in phase1]
        assert [c.seed for c in runs] == [p.seed for p in phase1]
        for c in runs:
            assert c.fold_bn and c.neuron == "iaf_multispike" and c.calib_batches == 0
            assert (c.epochs, c.optimizer, c.lr, c.weight_decay) == (ft["epochs"], ft["optimizer"], ft["lr"],
                                                                     ft["weight_decay"])


def test_table7_dry_run_trains_each_fine_tuning_run_after_its_parent_model(tmp_path):
    from tfsnn.pipeline.plan import Plan

    cfg = tiny_config(tmp_path)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(tmp_path, "-n", "table7")
    phase1, rows = _table7_runs(Plan(cfg))
    jobs = {}
    for job in r.stdout.split("\nrule ")[1:]:
        if job.startswith("train:"):
            fields = dict(line.strip().split(": ", 1) for line in job.splitlines()[1:] if ": " in line)
            jobs[fields["output"].split("/")[-2]] = fields["input"].split(", ")
    assert len(jobs) == len(phase1) * (1 + len(rows))
    for c in phase1:
        assert not any(f.endswith("model.pt") for f in jobs[c.run_id()])
    for runs in rows.values():
        for c in runs:
            assert f"results/tiny/runs/{c.init_from}/model.pt" in jobs[c.run_id()]


TOY = textwrap.dedent('''
    """A project's own table, declared outside tfsnn: one MTT run of the comparison experiment at T_max."""
    from tfsnn.pipeline.targets import table
    from tfsnn.report.notes import OURS
    from tfsnn.report.results import seeds_cell
    from tfsnn.report.table import Table


    def build(spec, preset):
        t = Table("toy", "Toy: MTT at T_max", preset, ["Method", "Accuracy", "Source"])
        t.add(Method=spec["run"]["label"], Accuracy=seeds_cell(spec["run"]["evals"], spec["T"]), Source=OURS)
        return t


    @table("toy", "Toy: one MTT run at T_max", build)
    def toy(plan):
        e = plan.exp("comparison")
        return {"T": e["t_max"], "run": plan.group("toy", "cifar10", e, "MTT", plan.seeds(e)[:1], method="mtt")}
''')


@pytest.mark.slow
def test_a_toy_target_builds_through_the_registry_alone(workdir):
    """No edit to the plan, the CLI or the rules: a module named in the preset's target_modules. It reads
    the comparison run that table4 trained, so only its table job runs."""
    (workdir / "mods").mkdir()
    (workdir / "mods" / "toy_targets.py").write_text(TOY)
    cfg = yaml.safe_load((workdir / "tiny.yaml").read_text())
    cfg["target_modules"] = ["toy_targets"]
    (workdir / "toy.yaml").write_text(yaml.safe_dump(cfg))
    runs = sorted((workdir / "results" / "tiny" / "runs").glob("*/eval.json"))
    before = {p: p.stat().st_mtime_ns for p in runs}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(workdir / "mods"), str(ROOT)]))
    env.pop("MLFLOW_TRACKING_URI", None)
    r = subprocess.run([*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--configfile", "toy.yaml", "--cores", "2", "toy"],
                       cwd=workdir, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in runs} == before   # nothing retrained
    md = (workdir / "results" / "tiny" / "tables" / "toy.md").read_text()
    assert "Toy: MTT at T_max" in md and "| MTT |" in md and "Protocol of the run cells" in md
    assert (workdir / "results" / "tiny" / "tables" / "toy.provenance.json").is_file()
