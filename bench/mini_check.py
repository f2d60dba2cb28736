"""The mini preset's directions on real Fashion-MNIST, in minutes on one GPU (part of bench/gpu_check.sh).

Trains ResNet-19 at half width with the mini preset's optimiser and augmentation twice, side by side, SDT at
T=6 and MTT (s=3, T_max=6), through the real training command (`python -m tfsnn train --no-mlflow`: torch
alone, no Snakemake, no MLflow), then reads each run's eval.json (BN calibrated at T_max as the official
code does: SDT keeps its training statistics) and checks the paper's directions:

- SDT trained at T=6 is near chance at T=1 (at most 15 points above it);
- MTT stays within 2.5 points of its best accuracy at every T = 1..6;
- MTT without BN calibration is clearly below MTT with it (at least 2 points lower on average).

    PYTHONPATH=. python bench/mini_check.py --out bench/results/mini-h200.json          # GPU, a few minutes
    PYTHONPATH=. python bench/mini_check.py --quick --out /tmp/mini.json                 # CPU: digits10, 1 epoch

Fashion-MNIST is read from data/fashion (or /usr/share/datasets/fashion-mnist). Writes JSON with every
accuracy and each direction as met or not; `python bench/report.py` prints it. It measures; the
verdicts are results, not assertions (the exit status is 0 whenever both runs finished).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANCE = 10.0
SDT_T1_MARGIN = 15.0
MTT_FLAT = 2.5
CALIBRATION_GAP = 2.0

# the mini preset's run settings (config/mini.yaml) with a short schedule and without the validation split
MINI = dict(dataset="fashion10", data_root="data/fashion", arch="resnet19", width=0.5, batch_size=128,
            optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4, crop_padding=4, hflip=True,
            autoaugment=False, cutout=False, calib_batches=10, sdt_calibration=False, val_split=0,
            epoch_selection="final", t_max=6, workers=6, device="auto")
QUICK = dict(MINI, dataset="digits10", data_root="data/digits10", width=0.125, batch_size=48, lr=0.15,
             crop_padding=1, hflip=False, workers=0, device="cpu")
RUNS = {"sdt": dict(method="sdt"), "mtt": dict(method="mtt", s=3)}


def train_all(runs: dict[str, dict], root: Path) -> dict[str, dict]:
    """The runs side by side through the training command (one GPU holds both, and neither fills it);
    returns each run's eval.json with its wall time."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = {}
    for name, settings in runs.items():
        cmd = [sys.executable, "-m", "tfsnn", "train", "--settings", json.dumps(settings), "--no-mlflow",
               "--out", str(root / name)]
        print("$", " ".join(cmd), flush=True)
        procs[name] = (subprocess.Popen(cmd, cwd=ROOT, env=env), time.time())
    results = {}
    for name, (proc, start) in procs.items():
        if proc.wait() != 0:
            raise SystemExit(f"the {name} run failed (exit status {proc.returncode}); its output is above")
        done = root / name / "eval.json"
        results[name] = json.loads(done.read_text())
        results[name]["wall_seconds"] = round(done.stat().st_mtime - start, 1)  # its own end, not the other's
    return results


def by_T(accuracy: dict) -> dict:
    """eval.json's accuracies (fractions, keyed by T as text) in percent, keyed by T."""
    return {int(T): 100.0 * float(a) for T, a in accuracy.items()}


def directions(sdt: dict, mtt: dict) -> list[dict]:
    """The three directions the paper predicts, each with its measurement."""
    sdt_acc, mtt_acc, mtt_uncal = by_T(sdt["accuracy"]), by_T(mtt["accuracy"]), by_T(mtt["accuracy_uncalibrated"])
    best = max(mtt_acc.values())
    worst_drop = max(best - a for a in mtt_acc.values())
    gap = sum(mtt_acc[T] - mtt_uncal[T] for T in mtt_acc) / len(mtt_acc)
    return [
        dict(direction=f"SDT (T=6) near chance at T=1 (<= {CHANCE + SDT_T1_MARGIN:.0f}%)",
             measured=f"{sdt_acc[1]:.2f}% at T=1, {sdt_acc[6]:.2f}% at T=6", met=sdt_acc[1] <= CHANCE + SDT_T1_MARGIN),
        dict(direction=f"MTT within {MTT_FLAT} points of its best at every T",
             measured=f"best {best:.2f}%, largest drop {worst_drop:.2f} points", met=worst_drop <= MTT_FLAT),
        dict(direction=f"MTT uncalibrated clearly below calibrated (>= {CALIBRATION_GAP} points on average)",
             measured=f"calibrated - uncalibrated: {gap:.2f} points on average", met=gap >= CALIBRATION_GAP),
    ]


def table(report: dict) -> str:
    """Markdown: accuracy at every T of both runs (MTT also uncalibrated), then each direction."""
    Ts = sorted(report["accuracy"]["mtt"])
    rows = [("SDT (T=6)", report["accuracy"]["sdt"]), ("MTT (s=3)", report["accuracy"]["mtt"]),
            ("MTT, BN not calibrated", report["accuracy_uncalibrated"]["mtt"])]
    s = report["settings"]
    lines = [f"{s['arch']} x{s['width']} on {s['dataset']}, {s['epochs']} epochs, on {report['device']} "
             f"(torch {report['torch']}, commit {report.get('commit', 'unknown')}); minutes: " + ", ".join(f"{k} {v / 60:.1f}" for k, v in
                                                                report["wall_seconds"].items()), "",
             "| run | " + " | ".join(f"T={T}" for T in Ts) + " |", "|---|" + "---|" * len(Ts)]
    lines += [f"| {name} | " + " | ".join(f"{acc[T]:.2f}" for T in Ts) + " |" for name, acc in rows]
    lines += [""] + [f"- {'met' if d['met'] else '**not met**'}: {d['direction']} ({d['measured']})"
                     for d in report["directions"]]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--quick", action="store_true", help="digits10 stand-in, width 1/8, 1 epoch, CPU")
    p.add_argument("--runs-dir", default="results/mini-check", help="where the two run folders go")
    p.add_argument("--out", default="mini_check.json")
    args = p.parse_args()
    base = dict(QUICK, epochs=1) if args.quick else dict(MINI, epochs=args.epochs)
    subprocess.run([sys.executable, "-m", "tfsnn", "prepare", base["dataset"], "--root", base["data_root"]],
                   cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    results = train_all({name: dict(base, **extra) for name, extra in RUNS.items()}, Path(args.runs_dir).resolve())
    import torch
    from bench_lif import commit   # here, not at the top: the tests import this module without torch's cost

    report = dict(settings=base, device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
                  torch=torch.__version__, quick=args.quick, commit=commit(),
                  accuracy={name: by_T(r["accuracy"]) for name, r in results.items()},
                  accuracy_uncalibrated={name: by_T(r["accuracy_uncalibrated"]) for name, r in results.items()},
                  wall_seconds={name: r["wall_seconds"] for name, r in results.items()},
                  directions=directions(results["sdt"], results["mtt"]))
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))


if __name__ == "__main__":
    main()
