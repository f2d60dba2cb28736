"""Packaging: ranges in pyproject.toml, exact versions of everything in constraints.txt, the same versions in
the conda files, the install commands using them, and a core that imports with torch alone."""
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXACT = {"torch": "2.14.1", "torchvision": "0.29.1"}
CORE_MODULES = ("neuron", "temporal", "models", "bn", "engine")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    """``name==version`` lines (other lines ignored) as ``{normalised name: version}``."""
    out = {}
    for line in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)", line.split("#")[0].strip())
        if m:
            out[norm(m.group(1))] = m.group(2)
    return out


CONSTRAINTS = pins((ROOT / "constraints.txt").read_text().splitlines())


def requirements(*extras: str) -> list[Requirement]:
    """The core's requirements and those of ``extras``, self-references (``tfsnn[...]``) expanded."""
    out, todo, done = [Requirement(r) for r in PROJECT["dependencies"]], list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in done:
            continue
        done.add(extra)
        for r in map(Requirement, PROJECT["optional-dependencies"][extra]):
            if norm(r.name) == "tfsnn":
                todo.extend(r.extras)
            else:
                out.append(r)
    return out


def conda_pip_section(path: Path) -> list[str]:
    env = yaml.safe_load(path.read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def test_torch_and_torchvision_pinned_exactly_everywhere():
    for r in requirements("all"):
        if norm(r.name) in EXACT:
            assert str(r.specifier) == f"=={EXACT[norm(r.name)]}", r
    assert {n: CONSTRAINTS[n] for n in EXACT} == EXACT
    for path in (ROOT / "environment.yml", ROOT / "workflow" / "envs" / "tfsnn.yaml"):
        assert {n: pins(conda_pip_section(path))[n] for n in EXACT} == EXACT, path


def test_requires_python_allows_3_11_to_3_13():
    spec = SpecifierSet(PROJECT["requires-python"])
    assert all(v in spec for v in ("3.11", "3.12", "3.13")) and "3.10" not in spec


def test_ranges_not_pins_except_torch():
    exact = [str(r) for r in requirements("all") if norm(r.name) not in EXACT and "==" in str(r.specifier)]
    assert not exact, f"pin these in constraints.txt and give pyproject.toml a range: {exact}"


def test_every_range_admits_its_constraint_pin():
    for r in requirements("all"):
        assert norm(r.name) in CONSTRAINTS, f"{r.name} has no exact version in constraints.txt"
        assert r.specifier.contains(CONSTRAINTS[norm(r.name)], prereleases=True), \
            f"pyproject.toml's {r} does not admit constraints.txt's {r.name}=={CONSTRAINTS[norm(r.name)]}"


def test_constraints_pin_every_transitive_dependency():
    """Every distribution that tfsnn[all] pulls in here (by the installed packages' metadata) has a pin."""
    needed, todo = set(), [(r, {""}) for r in requirements("all")]
    while todo:
        req, extras = todo.pop()
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        key = (norm(req.name), frozenset(req.extras))
        if key in needed:
            continue
        needed.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        todo += [(Requirement(r), {"", *req.extras}) for r in dist.requires or ()]
    missing = sorted({name for name, _ in needed} - set(CONSTRAINTS))
    assert not missing, f"constraints.txt lacks {missing}; regenerate it (its header says how)"


def test_conda_files_pin_what_constraints_pin():
    """environment.yml installs everything (`-e .[all]`), the rules' environment what the jobs import."""
    env = conda_pip_section(ROOT / "environment.yml")
    assert "-e .[all]" in env
    rules = conda_pip_section(ROOT / "workflow" / "envs" / "tfsnn.yaml")
    for lines, reqs in ((env, requirements("all")), (rules, requirements("pipeline"))):
        pinned = pins(lines)
        assert pinned == {n: CONSTRAINTS[n] for n in pinned}, "a conda file and constraints.txt disagree"
        assert {norm(r.name) for r in reqs if not r.marker} <= set(pinned)
    for path in (ROOT / "environment.yml", ROOT / "workflow" / "envs" / "tfsnn.yaml"):
        assert "python=3.11" in yaml.safe_load(path.read_text())["dependencies"]


def test_make_installs_from_constraints():
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-c constraints\.txt -e '\.\[all\]'", make)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_core_dependencies_are_torch_alone():
    assert [norm(Requirement(r).name) for r in PROJECT["dependencies"]] == ["torch"]


def test_core_imports_with_torch_alone():
    modules = {"numpy", "torchvision", "PIL", "triton", "tonic", "h5py", "aedat", "mlflow", "snakemake",
               "pandas", "matplotlib", "seaborn", "sklearn", "yaml", "tqdm"}  # what the extras bring
    code = ("import sys\n"
            f"for name in {sorted(modules)!r}:\n"
            "    sys.modules[name] = None\n"
            f"import {', '.join('tfsnn.' + m for m in CORE_MODULES)}\n"
            "import torch\n"
            "net = tfsnn.models.build_model('resnet19', 10, width=0.0625)\n"
            "print(net(torch.rand(2, 3, 8, 8), (1, 2, 3, 4, 5, 6, 1, 2)).shape)\n")
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "torch.Size([2, 10])" in r.stdout
