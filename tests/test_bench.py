"""The benchmark runs end to end at a toy size and its JSON makes the README table (it measures, never asserts speed)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_writes_json_and_report_prints_the_table(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "bench/bench_lif.py", "--width", "0.0625", "--size", "8", "--batch", "4",
                        "--repeats", "1", "--mtt-iters", "2", "--out", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert {"device", "torch", "triton", "commit", "settings", "check", "step", "mtt"} <= set(res)
    for T in ("6", "4"):
        rows = res["step"][T]
        assert {"relu", "torch"} <= set(rows)
        assert rows["relu"]["x_floor"] == 1.0 and rows["relu"]["saved_x_floor"] == 1.0
        # the LIF keeps its membrane on top of what the ReLU network keeps: more saved bytes, never fewer
        assert rows["torch"]["saved_gib"] > rows["relu"]["saved_gib"]
    assert res["mtt"]["s"] == 3 and res["mtt"]["ratio"] > 0
    report = subprocess.run([sys.executable, "bench/report.py", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert report.returncode == 0 and "| torch | 6 |" in report.stdout and "MTT (s=3" in report.stdout
