# The plan: which runs, evaluations and files each target needs (tfsnn.pipeline.plan), and the
# named functions the rules call. Paths come from tfsnn.layout (L: the rules' wildcard patterns).
import json
import os
import re
import shlex
import sys

from snakemake.exceptions import WorkflowError

from tfsnn.analysis.registry import ANALYSES
from tfsnn.errors import TfsnnError
from tfsnn.layout import Layout
from tfsnn.pipeline.plan import Plan
from tfsnn.report.html import report_caption as caption_html

# The plan checks config against workflow/schemas/config.schema.yaml (tfsnn.pipeline.preset_schema):
# --config strings read as YAML (gpu=true), an unknown key or a wrong value fails in one line
# (did-you-mean), defaults filled in; a rehearsal rewrites it in place (tfsnn.pipeline.rehearsal).
try:
    PLAN = Plan(config)
except TfsnnError as e:
    raise WorkflowError(f"config error: {e}")

PRESET = config["preset"]
L = Layout("{preset}")  # path patterns of the rules
# Jobs run `python -m tfsnn`: the interpreter running snakemake (or the rule's conda env, which
# comes first on PATH under --use-conda), with tfsnn importable from this repository.
_env = os.environ
_env.update(
    PATH=os.pathsep.join([os.path.dirname(sys.executable), _env.get("PATH", "")]),
    PYTHONPATH=os.pathsep.join([workflow.basedir, _env.get("PYTHONPATH", "")]),
)
MLFLOW_URI = os.environ.get("MLFLOW_TRACKING_URI") or PLAN.layout.mlflow_uri()
GPU = 1 if config["gpu"] else 0
THREADS = config["train_threads"]
TRAIN_PROCS = config["train_gpus"]
# One process per GPU: a multi-GPU training job is one torchrun on one node (DDP, tfsnn.distributed).
TFSNN_TRAIN = (
    "python -m tfsnn" if TRAIN_PROCS == 1 else f"torchrun --standalone --nproc_per_node {TRAIN_PROCS} -m tfsnn"
)
RESOURCES = config["resources"]
TARGET_MODULES = " ".join(f"--target-module {m}" for m in config["target_modules"])
TABLES = [name for name, t in PLAN.targets.items() if t.kind == "table"]
FIGURES = [name for name, t in PLAN.targets.items() if t.kind == "figure"]
DATASET_ROOTS = PLAN.dataset_roots()


wildcard_constraints:
    preset=re.escape(PRESET),
    run=r"[A-Za-z0-9_.\-]+",
    dataset=r"[A-Za-z0-9_\-]+",
    kind=r"(uniform|recal)-[0-9r\-]+",


def run_settings(wildcards):
    """The run's settings that differ from their defaults, as one shell-quoted JSON object (its run id is
    their hash); a setting added to tfsnn later with a default changes neither the id nor these params."""
    return shlex.quote(json.dumps(PLAN.runs[wildcards.run].changed_settings(), sort_keys=True))


def run_cfg(wildcards):
    return PLAN.runs[wildcards.run]


# Scheduling: the MLflow store first, then the datasets (each unlocks runs; the one whose costliest run
# costs most first), then the runs by estimated cost (Plan.priority); calibrations and analyses after.
PREPARE_PRIORITY = 10**12
STORE_PRIORITY = 2 * PREPARE_PRIORITY


def prepare_priority(wildcards):
    return PREPARE_PRIORITY + PLAN.prepare_rank(wildcards.dataset)


def run_priority(wildcards):
    return PLAN.priority(wildcards.run)


def run_root(wildcards):
    return run_cfg(wildcards).data_root


def run_device(wildcards):
    return run_cfg(wildcards).device


def run_workers(wildcards):
    return run_cfg(wildcards).workers


def run_manifest(wildcards):
    """The manifest of the run's dataset (prepare_data)."""
    return PLAN.layout.data_manifest(run_cfg(wildcards).dataset)


def dataset_root(wildcards):
    return DATASET_ROOTS[wildcards.dataset]


def parent_model(wildcards):
    """The model a fine-tuning run starts from (its init_from run's model.pt, Table 7), or nothing."""
    parent = run_cfg(wildcards).init_from
    return [] if parent is None else [PLAN.layout.model_file(parent)]


def eval_args(wildcards):
    return " ".join(PLAN.eval_args(wildcards.kind))


def analysis_args(wildcards):
    """The analysis subcommand and its parameters, as the preset sets them (tfsnn.analysis.registry)."""
    return " ".join(PLAN.analysis_args(wildcards.analysis))


def analysis_reads(wildcards):
    """Results of other analyses of the run that this analysis reads (the search reads the estimator)."""
    return PLAN.analysis_inputs(wildcards.run, wildcards.analysis)


def analysis_read_flags(wildcards, input):
    reads = ANALYSES[wildcards.analysis].reads
    return " ".join(f"--{name} {path}" for name, path in zip(reads, input.reads))


def target_inputs(wildcards):
    """Every result file a table or figure reads (from its declaration's spec)."""
    return PLAN.inputs(wildcards.name)


def target_caption(wildcards):
    return PLAN.caption(wildcards.name)


def report_caption(wildcards, output):
    """The caption of a table or figure in the report: its declared caption, the preset and, for a table,
    the notes of its built Markdown file (what each cell is). It reads the output, so it is no rerun trigger."""
    return caption_html(PLAN.caption(wildcards.name), PRESET, output.get("md"))


def built_outputs(wildcards):
    """The files of every table and figure of this preset that is built (its first file exists), a table's
    HTML included: `snakemake built --report report.html` reports what has been built, whatever it is."""
    files = []
    for name in PLAN.targets:
        outputs = PLAN.outputs(name)
        if os.path.exists(outputs[0]):
            files += outputs
    return files


def resource(step, key):
    return RESOURCES[step][key]


def spec_json(wildcards):
    return shlex.quote(json.dumps(PLAN.specs[wildcards.name], sort_keys=True))


def out_dir(wildcards, output):
    return os.path.dirname(output[0])


def out_prefix(wildcards, output):
    return os.path.splitext(output[0])[0]
