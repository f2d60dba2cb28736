"""A run id fixes its numbers: calibration draws from seeded generators, finished runs are never rewritten,
and the official protocol's settings (epoch selection, SDT calibration) do what they say."""
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from tfsnn.config import RunConfig, RunConfigError
from tfsnn.io import read_json
from tfsnn.seeding import SeededBatches, derived_seed
from tfsnn.selection import EpochSelection

ROOT = Path(__file__).resolve().parents[1]
# random crops (crop_padding 1) make the calibration batches depend on the generator they draw from
TINY = dict(dataset="digits10", arch="resnet19", width=0.0625, method="mtt", t_max=4, s=2, epochs=3,
            batch_size=64, lr=0.1, crop_padding=1, hflip=False, seed=7, calib_batches=6, device="cpu")


def flags(d):
    out = []
    for k, v in d.items():
        out += [f"--{k.replace('_', '-')}", str(v).lower() if isinstance(v, bool) else str(v)]
    return out


def cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tfsnn", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def run_files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("eval.json", "model.pt")}


# ---------------------------------------------------------------------------------------------- seeding


class RandomItems(Dataset):
    """Each item is a draw from torch's global generator, as torchvision's random transforms make."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return torch.rand(3), i


def test_seeded_batches_ignore_and_keep_the_global_generator():
    loader = DataLoader(RandomItems(), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(123)
    first = [x for x, _ in SeededBatches(loader, seed=5)]
    after = torch.rand(4)
    torch.manual_seed(123)
    expected_after = torch.rand(4)
    assert torch.equal(after, expected_after)                 # the caller's stream is untouched
    torch.manual_seed(999)                                    # another global state: same batches
    loader = DataLoader(RandomItems(), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    again = [x for x, _ in SeededBatches(loader, seed=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again)) and len(first) == 3
    loader = DataLoader(RandomItems(), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    other = [x for x, _ in SeededBatches(loader, seed=6)]
    assert not torch.equal(first[0], other[0])


def test_seeded_batches_stopped_early_leave_the_global_generator_alone():
    loader = DataLoader(RandomItems(), batch_size=4)
    torch.manual_seed(3)
    for _ in SeededBatches(loader, seed=1):
        break
    got = torch.rand(2)
    torch.manual_seed(3)
    assert torch.equal(got, torch.rand(2))


def test_derived_seeds_differ_by_purpose():
    seeds = {derived_seed(7, stream, purpose) for stream in (1, 2, 3) for purpose in range(5)}
    assert len(seeds) == 15 and all(0 <= s < 2 ** 63 for s in seeds)
    assert derived_seed(7, 1, 2) == derived_seed(7, 1, 2)


# ------------------------------------------------------------------------------------------ selection


def test_epoch_selection_keeps_the_first_best_epoch_at_t_max():
    net = torch.nn.Linear(2, 2)
    sel = EpochSelection("best_test", t_max=4)
    assert sel.active and sel.split == "test"
    assert sel.update(1, {"1": 0.9, "4": 0.5}, net)
    with torch.no_grad():
        net.weight.add_(1.0)
    assert sel.update(2, {"1": 0.1, "4": 0.7}, net)
    kept = sel.weights["weight"].clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    assert not sel.update(3, {"1": 0.99, "4": 0.7}, net)    # a tie keeps the earlier epoch
    assert sel.epoch == 2 and torch.equal(sel.weights["weight"], kept)
    resumed = EpochSelection("best_test", 4, sel.state_dict())
    assert resumed.epoch == 2 and resumed.record(3)["epoch"] == 2
    assert EpochSelection("final", 4).record(3) == {"rule": "final", "description": "final epoch", "split": None,
                                                    "score": None, "epoch": 3, "epochs": 3}


@pytest.mark.parametrize("settings, message", [
    ({"epoch_selection": "best"}, "epoch_selection 'best' is not one of final, best_test, best_val"),
    ({"epoch_selection": "best_val"}, "epoch_selection 'best_val' needs a validation split"),
])
def test_bad_epoch_selection_names_the_setting(settings, message):
    with pytest.raises(RunConfigError, match=message):
        RunConfig.from_dict(settings)


def test_bad_epoch_selection_is_one_line_from_the_cli():
    r = cli("train", "--epoch-selection", "best_val", "--no-mlflow")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "val_split" in r.stderr, r.stderr


def test_sdt_calibration_follows_the_official_condition():
    assert RunConfig(method="sdt").calibrates() and not RunConfig(method="sdt", sdt_calibration=False).calibrates()
    assert RunConfig(method="mtt", sdt_calibration=False).calibrates()
    assert not RunConfig(method="mtt", t_min=6, t_max=6, sdt_calibration=False).calibrates()
    assert not RunConfig(calib_batches=0).calibrates()


def test_new_protocol_settings_keep_existing_run_ids():
    assert RunConfig().run_id() == "digits10-resnet19-mtt-T6-e300-seed1000-c3aa9744"
    assert RunConfig(epoch_selection="best_test").run_id() != RunConfig().run_id()


# --------------------------------------------------------------------------------------- whole runs


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits10_root):
    """One run trained and calibrated in one process (the `train` command)."""
    base = tmp_path_factory.mktemp("repro")
    settings = flags({**TINY, "data_root": str(digits10_root)}) + ["--no-mlflow"]
    r = cli("train", *settings, "--out", base / "a")
    assert r.returncode == 0, r.stderr
    return base, settings


def test_calibration_in_a_fresh_process_is_bitwise_the_training_process(trained):
    base, _ = trained
    (base / "b").mkdir()
    for name in ("trained.pt", "train.json"):
        shutil.copy(base / "a" / name, base / "b" / name)
    r = cli("calibrate", "--run-dir", base / "b", "--no-mlflow")
    assert r.returncode == 0, r.stderr
    assert run_files(base / "a") == run_files(base / "b")


def test_kill_during_calibration_then_rerun_is_bitwise_identical(trained):
    base, _ = trained
    c = base / "c"
    c.mkdir()
    for name in ("trained.pt", "train.json"):
        shutil.copy(base / "a" / name, c / name)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tfsnn", "calibrate", "--run-dir", str(c), "--no-mlflow"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "calibrating BN" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (c / "eval.json").exists(), "the kill came too late"
    r = cli("calibrate", "--run-dir", c, "--no-mlflow")
    assert r.returncode == 0, r.stderr
    assert run_files(base / "a") == run_files(c)


def test_a_finished_run_is_not_rewritten(trained):
    base, settings = trained
    a = base / "a"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in a.iterdir()}
    r = cli("train", *settings, "--out", a)
    assert r.returncode == 0, r.stderr
    assert "complete" in r.stdout and "--recalibrate" in r.stdout
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in a.iterdir()} == before
    r = cli("calibrate", "--run-dir", a, "--no-mlflow")
    assert r.returncode == 0 and "complete" in r.stdout, r.stderr
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in a.iterdir()} == before
    r = cli("train", *settings, "--out", a, "--recalibrate")   # explicit: recomputed, to the same bits
    assert r.returncode == 0, r.stderr
    assert (a / "eval.json").stat().st_mtime_ns != before["eval.json"][0]
    assert run_files(a) == {k: v[1] for k, v in before.items() if k in ("eval.json", "model.pt")}


def test_eval_json_has_no_timing_and_names_its_protocol(trained):
    base, _ = trained
    ev = read_json(base / "a" / "eval.json")
    assert "eval_seconds" not in ev
    assert ev["protocol"] == {"epoch_selection": "final", "epoch": 3, "epochs": 3, "calibrated": True}
    assert ev["calibration"]["purpose"] == 0 and ev["calibration"]["batches"] == 6


def test_best_test_selection_reports_the_measured_best_epoch(tmp_path, digits10_root):
    from tfsnn.train import train_run

    cfg = RunConfig.from_dict({**TINY, "data_root": str(digits10_root), "epoch_selection": "best_test"})
    result = train_run(cfg, tmp_path / "run", progress=False, log=lambda msg: None)
    train = read_json(tmp_path / "run" / "train.json")
    scores = [e["selection_acc"][str(cfg.t_max)] for e in train["epochs"]]
    best = scores.index(max(scores)) + 1
    assert train["selection"]["epoch"] == best and result["protocol"]["epoch"] == best
    # eval.json repeats the accuracies measured for that epoch (same weights, same calibration batches)
    assert result["accuracy"] == {T: a for T, a in train["epochs"][best - 1]["selection_acc"].items()
                                  if T in result["accuracy"]}
    assert result["calibration"]["purpose"] == best
    assert result["final_epoch"] == {"epoch": 3, "accuracy": train["epochs"][-1]["selection_acc"]}


def test_sdt_without_calibration_reports_training_statistics(tmp_path, digits10_root):
    from tfsnn.train import train_run

    cfg = RunConfig.from_dict({**TINY, "data_root": str(digits10_root), "method": "sdt", "epochs": 1,
                               "sdt_calibration": False})
    result = train_run(cfg, tmp_path / "run", progress=False, log=lambda msg: None)
    assert result["calibration"] is None and result["protocol"]["calibrated"] is False
    assert result["accuracy"] == result["accuracy_uncalibrated"]
