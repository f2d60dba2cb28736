"""Seams between the user and the workflow (issue 12): a report of whatever has been built, a preset typo in
one line, --config booleans as YAML writes them, SLURM requests that come from the preset."""
import base64
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from test_pipeline import run_snakemake
from tfsnn.pipeline.preset_schema import PresetError, check, coerce

ROOT = Path(__file__).resolve().parents[1]
SLURM_PROFILE = ROOT / "workflow" / "profiles" / "slurm"


def preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / ("config.yaml" if name == "smoke" else f"{name}.yaml")).read_text())


snakemake = run_snakemake


# ---------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A smoke workdir where only table10 and fig4 are built (neither needs a training run)."""
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "smoke.yaml").write_text(yaml.safe_dump(preset("smoke")))
    snakemake(tmp, "table10", "fig4", "--cores", "2", "--configfile", "smoke.yaml")
    return tmp


def _report_results(report: Path) -> dict[str, str]:
    """The HTML results embedded in a Snakemake report, decoded, by file name."""
    text = report.read_text()
    return {m.group(1): base64.b64decode(m.group(2)).decode()
            for m in re.finditer(r"data:text/html;charset=[^;]+;filename=([^;]+);base64,([A-Za-z0-9+/=]+)", text)}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["built", "table10"])
def test_a_report_of_what_is_built_shows_tables_rendered_with_captions(built, target):
    """`snakemake built --report` after any set of targets (here two, not `all`); the table renders inline
    (HTML, not only a CSV download) and its caption names the target, the preset and what the cells are."""
    report = built / f"report-{target}.html"
    snakemake(built, target, "--configfile", "smoke.yaml", "--report", report.name)
    text = report.read_text()
    tables = _report_results(report)
    assert "<table>" in tables["table10.html"] and "<th>B-ResNet-50</th>" in tables["table10.html"]
    assert "Generated from the instantiated models" in tables["table10.html"]        # the notes under it
    assert "Table 10: structures of B-ResNet-50/72" in text                              # the declared caption
    assert "What the cells are:" in text and "(regenerated at the preset &quot;smoke&quot;)" in text
    if target == "built":
        assert "fig4.png" in text and "Fig. 4: TTM grouping" in text
    # an HTML rendering beside the CSV, Markdown and LaTeX, which stay as they were
    md = (built / "results" / "smoke" / "tables" / "table10.md").read_text()
    assert md.startswith("**Table 10:") and "<" not in md


# ---------------------------------------------------------------------------- a typo in a preset


TYPOS = [
    ((), "epochz", "'epochz' was unexpected at the top level of the preset; did you mean 'epochs' under "
                   "'run_defaults'?"),
    (("experiments", "comparison"), "epochz", "'epochz' was unexpected in experiments.comparison; did you mean "
                                               "'epochs' under 'settings'?"),
    (("run_defaults",), "lrr", "'lrr' was unexpected in run_defaults; did you mean 'lr'?"),
    (("resources",), "trian", "'trian' was unexpected in resources; did you mean 'train'?"),
    (("datasets", "cifar10"), "rot", "'rot' was unexpected in datasets.cifar10; did you mean 'root'?"),
]


def _with_typo(where: tuple, key: str) -> dict:
    cfg = preset("smoke")
    block = cfg
    for k in where:
        block = block[k]
    block[key] = 3
    return cfg


@pytest.mark.parametrize("where, key, says", TYPOS[:2])
def test_a_typo_in_a_preset_fails_in_one_line_with_a_did_you_mean(tmp_path, where, key, says):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(_with_typo(where, key)))
    r = snakemake(tmp_path, "-n", "table4", "--configfile", "bad.yaml", check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and f"config error: {says}" in out, out[-3000:]
    assert len(out.strip().splitlines()) < 8 and "properties" not in out and "additionalProperties" not in out, out


@pytest.mark.parametrize("where, key, says", TYPOS)
def test_a_typo_anywhere_in_a_preset_is_named_with_the_closest_key(where, key, says):
    with pytest.raises(PresetError) as e:
        check(_with_typo(where, key))
    assert str(e.value) == says


def test_a_wrong_value_fails_in_one_line_naming_its_path():
    with pytest.raises(PresetError, match=r"^resources.train.mem_mb: 0 is less than the minimum of 1$"):
        cfg = preset("smoke")
        cfg["resources"]["train"]["mem_mb"] = 0
        check(cfg)
    with pytest.raises(PresetError, match=r"^gpu: 'maybe' is not of type 'boolean'$"):
        check({**preset("smoke"), "gpu": "maybe"})


# ---------------------------------------------------------------------------- --config as YAML writes it


def test_config_booleans_and_numbers_are_read_as_yaml_writes_them(tmp_path):
    r = snakemake(tmp_path, "-n", "table4", "--configfile", str(ROOT / "config" / "config.yaml"),
                  "--config", "gpu=true")
    train = [job for job in r.stdout.split("\n\n") if "\nrule train:" in job]
    assert train and all("gpu=1" in job for job in train)
    for text, value in [("true", True), ("Yes", True), ("ON", True), ("false", False), ("no", False),
                        ("Off", False)]:
        assert coerce({"gpu": text})["gpu"] is value
    # what Snakemake leaves a string: nested --config values ('resources={train: {mem_mb: 900}}'), lists
    cfg = coerce({"resources": {"train": {"mem_mb": "900"}}, "seeds": ["1", "2"], "claims_margin": "0.5",
                  "preset": "123", "run_defaults": {"amp": "yes", "tau": "null", "width": "0.5"}})
    assert cfg == {"resources": {"train": {"mem_mb": 900}}, "seeds": [1, 2], "claims_margin": 0.5,
                   "preset": "123", "run_defaults": {"amp": True, "tau": None, "width": 0.5}}


# ---------------------------------------------------------------------------- SLURM requests

FAKE_SBATCH = """#!/bin/sh
# records the sbatch call and refuses the job, so that snakemake stops after the first submissions
printf '%s\\n' "$*" >> "$FAKE_SBATCH_LOG"
echo "fake sbatch: recorded" >&2
exit 1
"""


def _sbatch_calls(tmp: Path, config: str, ready: list[str], *extra) -> dict[str, list[str]]:
    """The sbatch calls of the first jobs of `snakemake table4` with the SLURM profile (a fake sbatch
    records them): ``ready`` are dataset manifests made beforehand, so that their training jobs come first.
    Maps each call's rule to its arguments."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    account = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())["default-resources"]["slurm_account"]
    for name, text in [("sbatch", FAKE_SBATCH), ("sacctmgr", f"#!/bin/sh\necho '{account}'\n")]:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    results = tmp / "results" / yaml.safe_load((ROOT / config).read_text())["preset"]
    (results / "data").mkdir(parents=True)
    (results / "mlflow.ready").touch()
    for dataset in ready:
        (results / "data" / f"{dataset}.json").touch()
    log = tmp / "sbatch.log"
    env = dict(os.environ, PATH=os.pathsep.join([str(bin_dir), os.environ["PATH"]]), FAKE_SBATCH_LOG=str(log))
    env.pop("SLURM_JOB_ID", None)
    r = snakemake(tmp, "table4", "--configfile", str(ROOT / config), "--workflow-profile", str(SLURM_PROFILE),
                  "--retries", "0", "--slurm-init-seconds-before-status-checks", "1", *extra, env=env, check=False)
    assert log.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    calls: dict[str, list[str]] = {}
    for line in log.read_text().splitlines():
        args = shlex.split(line.split(" --wrap=")[0])
        rule = re.match(r"rule_([a-z_]+?)(_wildcards_|$)", args[args.index("--comment") + 1]).group(1)
        calls.setdefault(rule, args)
    return calls


def test_slurm_jobs_ask_for_what_the_smoke_preset_sets(tmp_path):
    """A small preset asks a small node for little: prepare_data 2000 MB / 10 min, no GPU."""
    calls = _sbatch_calls(tmp_path, "config/config.yaml", ["digits10"])
    res = preset("smoke")["resources"]
    prepare, train = calls["prepare_data"], calls["train"]
    assert prepare[prepare.index("--mem") + 1] == str(res["prepare"]["mem_mb"])
    assert prepare[prepare.index("-t") + 1] == str(res["prepare"]["runtime"])
    assert train[train.index("--mem") + 1] == str(res["train"]["mem_mb"])
    assert train[train.index("-t") + 1] == str(res["train"]["runtime"])
    assert not any(a.startswith("--gpus") for a in prepare + train)
    assert "--nodes=1" in train and f"--cpus-per-task={preset('smoke')['train_threads']}" in train


def test_slurm_multi_gpu_training_asks_for_one_node_and_its_gpus_at_the_paper_preset(tmp_path):
    """`--config train_gpus=4`: a training job is one torchrun on one node: --nodes=1 --gpus=4 and 4 x
    train_threads CPUs; memory and time from the preset (prepare_data: the large ones)."""
    calls = _sbatch_calls(tmp_path, "config/paper.yaml", ["cifar10"], "--config", "train_gpus=4")
    cfg = preset("paper")
    res = cfg["resources"]
    prepare, train = calls["prepare_data"], calls["train"]
    assert prepare[prepare.index("--mem") + 1] == str(res["prepare"]["mem_mb"])
    assert prepare[prepare.index("-t") + 1] == str(res["prepare"]["runtime"])
    assert not any(a.startswith("--gpus") for a in prepare)
    assert "--nodes=1" in train and "--gpus=4" in train
    assert f"--cpus-per-task={4 * cfg['train_threads']}" in train
    assert train[train.index("--mem") + 1] == str(res["train"]["mem_mb"])
    assert train[train.index("-t") + 1] == str(res["train"]["runtime"])
    assert "-A" in train and "-p" in train          # account and partition from the profile
