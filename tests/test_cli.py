"""Errors a user can cause: one line naming the cause and the fix, exit status 2, nothing written."""

from test_train import TINY, cli, flags


def one_line_error(r, pattern):
    import re

    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfsnn: error: "), r.stderr
    assert re.search(pattern, lines[0]), lines[0]


def test_unknown_key_in_a_config_file(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("dataset: digits10\nlrr: 0.1\n")
    r = cli("train", "--config", cfg, "--out", tmp_path / "out", "--no-mlflow")
    one_line_error(r, r"unknown key 'lrr' in .*run.yaml; did you mean 'lr'\?")
    assert not (tmp_path / "out").exists()


def test_bad_value_and_missing_config(tmp_path):
    one_line_error(cli("train", "--method", "tet", "--no-mlflow", "--out", tmp_path / "o"), "method 'tet'")
    one_line_error(cli("train", "--config", tmp_path / "none.yaml"), "does not exist")


def test_missing_dataset_folder(tmp_path):
    r = cli("train", "--dataset", "cifar10", "--data-root", tmp_path / "nowhere", "--no-mlflow",
            "--out", tmp_path / "out")
    one_line_error(r, r"CIFAR-10 files missing: .*nowhere/cifar-10-batches-py.*download")
    assert not (tmp_path / "out" / "eval.json").exists()


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"garbage")
    one_line_error(cli("eval", "--model", bad), "not a readable tfsnn model")
    one_line_error(cli("eval", "--model", tmp_path / "absent.pt"), "no model at")


def test_model_of_another_architecture(tmp_path):
    import torch

    from tfsnn.models import build_model

    net = build_model("resnet18", 10, width=0.0625)
    rec = {"arch": "resnet19", "arch_kwargs": {"num_classes": 10, "width": 0.0625, "in_channels": 3},
           "state_dict": net.state_dict()}
    torch.save(rec, tmp_path / "model.pt")
    one_line_error(cli("eval", "--model", tmp_path / "model.pt"), "does not fit architecture resnet19")


def test_help_is_readable():
    r = cli("train", "--help")
    assert r.returncode == 0 and "--t-max" in r.stdout and "MTT granularity" in r.stdout
    assert cli("--help").returncode == 0


def test_run_id_command():
    r = cli("run-id", *flags(TINY))
    assert r.returncode == 0 and r.stdout.startswith("digits10-resnet19-mtt-T4-e3-seed7-")


def test_version():
    from tfsnn import __version__

    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tfsnn {__version__}", r.stdout + r.stderr


def test_a_damaged_result_file_is_named_with_how_to_rebuild_it(tmp_path):
    import json

    run = tmp_path / "results" / "x" / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "eval.json").write_text('{"run_id": "r1", "accuracy": {"2": 0.5')   # cut off mid-write
    group = {"label": "MTT", "dataset": "CIFAR100", "stand_in": "cifar100", "arch": "VGG14",
             "evals": [str(run / "eval.json")]}
    spec = json.dumps({"ts": [2], "groups": [group]})
    r = cli("table", "table9", "--spec", spec, "--preset", "x", "--out", tmp_path / "t9", "--no-mlflow")
    one_line_error(r, r"eval.json is damaged \(JSONDecodeError.*delete it and rerun snakemake")
    assert not (tmp_path / "t9.csv").exists()


def test_profiles_show_the_logs_of_failed_jobs():
    from pathlib import Path

    import yaml

    for name in ("default", "slurm"):
        profile = Path(__file__).resolve().parents[1] / "workflow" / "profiles" / name / "config.yaml"
        assert yaml.safe_load(profile.read_text())["show-failed-logs"] is True, name
