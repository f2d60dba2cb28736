"""The fused Triton LIF kernel and its self-check, tested on the CPU under Triton's interpreter (tests/interpreted/)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("cases", ["lif_triton_cases.py", "self_check_cases.py"])
def test_fused_kernel_cases_under_the_interpreter(cases):
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-o", "python_files=*.py",
                        str(ROOT / "tests" / "interpreted" / cases)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and "failed" not in r.stdout
