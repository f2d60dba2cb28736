# The plan: which runs, evaluations and files each target needs (tfsnn.pipeline.plan).
import json
import os
import re
import shlex
import sys

from snakemake.exceptions import WorkflowError

from tfsnn.errors import TfsnnError
from tfsnn.pipeline.plan import TARGETS, Plan

try:
    PLAN = Plan(config)
except TfsnnError as e:
    raise WorkflowError(f"config error: {e}")

PRESET = config["preset"]
# Jobs run `python -m tfsnn`: the interpreter running snakemake (or the rule's conda env, which
# comes first on PATH under --use-conda), with tfsnn importable from this repository.
_env = os.environ
_env.update(
    PATH=os.pathsep.join([os.path.dirname(sys.executable), _env.get("PATH", "")]),
    PYTHONPATH=os.pathsep.join([workflow.basedir, _env.get("PYTHONPATH", "")]),
)
MLFLOW_URI = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///results/{PRESET}/mlflow.db"
GPU = 1 if config.get("gpu", False) else 0
TRAIN_PROCS = config.get("train_gpus", 1)
# One process per GPU: a multi-GPU training job is one torchrun on one node (DDP, tfsnn.distributed).
TFSNN_TRAIN = "python -m tfsnn" if TRAIN_PROCS == 1 else f"torchrun --standalone --nproc_per_node {TRAIN_PROCS} -m tfsnn"
RESOURCES = config.get("resources", {})
DATASET_ROOTS = {d["name"]: d["root"] for d in config["datasets"].values()}


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


def parent_model(wildcards):
    """The model a fine-tuning run starts from (its init_from run's model.pt, Table 7), or nothing."""
    parent = PLAN.runs[wildcards.run].init_from
    return [] if parent is None else [f"{PLAN.run_dir(parent)}/model.pt"]


def resource(step, key, default):
    return RESOURCES.get(step, {}).get(key, default)


def spec_json(wildcards):
    return shlex.quote(json.dumps(PLAN.specs[wildcards.name], sort_keys=True))


def out_dir(wildcards, output):
    return os.path.dirname(output[0])


def out_prefix(wildcards, output):
    return os.path.splitext(output[0])[0]
