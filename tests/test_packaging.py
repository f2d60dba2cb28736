"""Packaging: environment.yml pins what pyproject.toml pins; the core imports with torch alone."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(requirements):
    out = {}
    for req in requirements:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)", req.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    py = pins(project["dependencies"])
    assert py["torch"] == "2.14.1" and py["torchvision"] == "0.29.1"
    assert len(py) == len(project["dependencies"]), "every dependency is pinned exactly"
    assert pins(pip_section) == py
    assert "python=3.11" in env["dependencies"]


def test_core_imports_with_torch_alone():
    code = ("import sys\n"
            "for name in ('mlflow', 'snakemake', 'pandas', 'matplotlib', 'seaborn', 'sklearn', 'yaml', 'tqdm'):\n"
            "    sys.modules[name] = None\n"
            "import tfsnn.neuron, tfsnn.temporal, tfsnn.models, tfsnn.bn, tfsnn.engine\n"
            "import torch\n"
            "net = tfsnn.models.build_model('resnet19', 10, width=0.0625)\n"
            "print(net(torch.rand(2, 3, 8, 8), (1, 2, 3, 4, 5, 6, 1, 2)).shape)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "torch.Size([2, 10])" in r.stdout
