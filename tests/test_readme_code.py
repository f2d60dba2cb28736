"""README.md's code runs: its Python blocks are executed, its `python -m tfsnn` commands parse with the real
parser, its snakemake commands name declared targets (or rules) and files that exist, its make commands
Makefile targets.

The Python blocks of one section (``## ...``) run in order in one fresh interpreter, as a reader pastes
them into one session, in an empty folder that holds what `make smoke` would have left there for them: the
digits10 stand-in and the model.pt of the smoke preset's ResNet-19 MTT run (untrained weights). A block that
starts with a ``@table``/``@figure`` decorator is an excerpt of tfsnn/pipeline/paper.py: it runs in that
module's namespace (its builder, which the README's step before writes, stubbed) and the declared target must
plan on the smoke preset.
"""
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SMOKE_RUN = "digits10-resnet19-mtt-"  # the run that the library section's last block loads


def code_blocks(text: str) -> list[tuple[str, str, str]]:
    """``(section, language, code)`` of every fenced block, list-indented ones dedented."""
    out = []
    for m in re.finditer(r"^( *)```(\w*)\n(.*?)^\1```", text, re.M | re.S):
        section = re.findall(r"^## (.+)$", text[:m.start()], re.M)
        code = "".join(line[len(m.group(1)):] for line in m.group(3).splitlines(keepends=True))
        out.append((section[-1] if section else "", m.group(2), code))
    return out


def commands(code: str) -> list[list[str]]:
    """A shell block's commands as argument lists (continuations joined, comments dropped)."""
    return [args for line in code.replace("\\\n", " ").splitlines() if (args := shlex.split(line, comments=True))]


BLOCKS = code_blocks(README.read_text())
PY_SECTIONS = list(dict.fromkeys(s for s, lang, _ in BLOCKS if lang == "python"))
SHELL = [args for _, lang, code in BLOCKS if lang in ("bash", "sh", "shell") for args in commands(code)]


def test_blocks_found():
    assert "The library" in PY_SECTIONS
    assert any(a[:3] == ["python", "-m", "tfsnn"] for a in SHELL) and any(a[0].endswith("snakemake") for a in SHELL)


@pytest.mark.parametrize("section", PY_SECTIONS)
def test_python_blocks_run(section, tmp_path):
    r = subprocess.run([sys.executable, __file__, section], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"README section '{section}':\n{r.stdout[-3000:]}{r.stderr[-5000:]}"
    assert r.stdout.count("ran block") == sum(s == section and lang == "python" for s, lang, _ in BLOCKS)


def test_tfsnn_commands_parse():
    from tfsnn.cli import build_parser

    for args in (a for a in SHELL if a[1:3] == ["-m", "tfsnn"]):
        try:
            build_parser().parse_args(args[3:])
        except SystemExit as e:
            pytest.fail(f"README's `{shlex.join(args)}` does not parse (exit {e.code})")


def test_snakemake_commands_name_targets_and_files_that_exist():
    from snakemake.cli import get_argument_parser

    from tfsnn.pipeline.targets import load

    rules = [ROOT / "Snakefile", *(ROOT / "workflow" / "rules").glob("*.smk")]
    declared = set(load()) | {name for f in rules for name in re.findall(r"^rule (\w+):", f.read_text(), re.M)}
    for args in (a for a in SHELL if a[0].endswith("snakemake")):
        parsed = get_argument_parser().parse_args(args[1:])
        assert set(parsed.targets or ()) <= declared, f"`{shlex.join(args)}` names a target that is neither declared nor a rule"
        for path in [*(parsed.configfile or ()), *(parsed.workflow_profile and [parsed.workflow_profile] or ())]:
            assert (ROOT / path).exists(), f"`{shlex.join(args)}`: {path} does not exist"


def test_make_commands_are_makefile_targets():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for args in (a for a in SHELL if a[0] == "make"):
        assert set(args[1:]) <= targets, f"`{shlex.join(args)}`: no such Makefile target"


# ----------------------------------------------------------------------------- run in a fresh interpreter


def _smoke_run_files() -> None:
    """In the current folder: the digits10 stand-in and a smoke run's model.pt, written as the pipeline writes."""
    import yaml

    from tfsnn.data import prepare_dataset
    from tfsnn.io import torch_save
    from tfsnn.pipeline.plan import Plan
    from tfsnn.run_setup import model_record, setup

    plan = Plan(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    run = next(r for r in sorted(plan.runs) if r.startswith(SMOKE_RUN))
    cfg = plan.runs[run]
    prepare_dataset(cfg.dataset, cfg.data_root)
    torch_save(model_record(setup(cfg)), plan.layout.model_file(run))


def _declaration_namespace(code: str) -> dict:
    """tfsnn/pipeline/paper.py's namespace, with the builders the excerpt names and tfsnn lacks stubbed."""
    import types

    from tfsnn.pipeline import paper

    ns = dict(vars(paper))
    for alias, name in re.findall(r"\b(tb|fg)\.(\w+)", code):
        if not hasattr(ns[alias], name):
            ns[alias] = types.SimpleNamespace(**vars(ns[alias]), **{name: lambda *a: None})
    return ns


def _check_declared(names: set[str]) -> None:
    import yaml

    from tfsnn.pipeline.plan import Plan

    plan = Plan(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    for name in names:
        assert name in plan.typed_specs, f"target {name} declared in the README does not plan on the smoke preset"


def _run_section(section: str) -> None:
    from tfsnn.pipeline.targets import TARGETS

    start = time.perf_counter()
    _smoke_run_files()
    print(f"set up in {time.perf_counter() - start:.1f}s", flush=True)
    session: dict = {"__name__": "__main__"}
    for i, (s, lang, code) in enumerate(BLOCKS):
        if s != section or lang != "python":
            continue
        start = time.perf_counter()
        where = f"README.md, section '{section}', block {i + 1}"
        if code.lstrip().startswith(("@table(", "@figure(")):
            before = set(TARGETS)
            exec(compile(code, where, "exec"), _declaration_namespace(code))
            _check_declared(set(TARGETS) - before)
        else:
            exec(compile(code, where, "exec"), session)
        print(f"ran block {i + 1} in {time.perf_counter() - start:.1f}s", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _run_section(sys.argv[1])
