"""Rehearse a preset on the CPU: its real settings on stand-in data, a few batches per run.

``--config rehearsal=true`` runs a preset's DAG with everything the preset sets (architectures and
widths, optimisers and schedules, augmentation, calibration, epoch selection, analyses, the target
layout) except what needs its data and its hardware:

- every dataset role is mapped to its stand-in (the smoke preset's: ``cifar10`` -> ``digits10``, ...),
  written in the real dataset's on-disk format and read by the real reader;
- every run keeps its settings but trains one epoch of two batches of ``BATCH`` samples, on the CPU,
  and calibrates and evaluates on ``SAMPLES`` samples per split; one seed; SEENN's tolerance on the
  average exit step is relaxed to ``SEENN_TOL`` (on 16 samples the averages are too coarse to hit);
- the preset is renamed ``<preset>-rehearsal``, so its results, figures and MLflow experiment never mix
  with real results, and every table's notes say it is a rehearsal.

So a setting that crashes at scale (a wrong width, an optimiser option, an epoch-selection rule, a
layout) crashes here first, in minutes. The numbers mean nothing.
"""
from __future__ import annotations

SUFFIX = "-rehearsal"
# the stand-in of each dataset role (the smoke preset's datasets block; tests/test_rehearsal.py keeps them equal)
ROLE_STANDINS = {"cifar10": "digits10", "cifar100": "digits100", "imagenet": "digits_imagenet",
                 "cifar10dvs": "digits_dvs", "ncaltech101": "digits_ncaltech", "nmnist": "digits_nmnist",
                 "seqmnist": "digits_seqmnist", "shd": "digits_shd", "ssc": "digits_ssc"}
BATCH = 8
SAMPLES = 2 * BATCH   # per split: two training batches, one evaluation batch
VAL_SPLIT = 100       # a run with a validation split keeps one (selection on it still runs)
SEENN_TOL = 1.0       # 16 samples make average exit steps coarse: any threshold found is accepted
NOTE = ("Rehearsal of the {preset} preset on the CPU: its real settings, stand-in data, one epoch of two "
        "batches of {batch} per run; the numbers test the pipeline, not the paper.")


def is_rehearsal(preset: str) -> bool:
    return preset.endswith(SUFFIX)


def note(preset: str) -> str | None:
    """The line a rehearsal's tables carry in their notes (None for a real preset)."""
    return NOTE.format(preset=preset[:-len(SUFFIX)], batch=BATCH) if is_rehearsal(preset) else None


def rehearse_config(config: dict) -> dict:
    """The preset ``config`` (validated, defaults filled) turned into its rehearsal, in place; idempotent."""
    if not is_rehearsal(config["preset"]):
        config["preset"] += SUFFIX
    config["datasets"] = {role: {"name": ROLE_STANDINS[role], "root": f"data/{ROLE_STANDINS[role]}"}
                          for role in config["datasets"]}
    config["seeds"] = config["seeds"][:1]
    for exp in config["experiments"].values():
        exp.pop("role_datasets", None)   # every role reads its stand-in
    if "seenn" in config["experiments"]:
        config["experiments"]["seenn"]["tol"] = SEENN_TOL
    config.update(gpu=False, train_gpus=1, train_threads=1)   # small jobs: one thread each, two at a time
    return config


def rehearse_run(settings: dict) -> dict:
    """One run's merged settings cut to a rehearsal (applied after the experiment's own settings)."""
    return {**settings, "epochs": 1, "batch_size": BATCH, "limit_samples": SAMPLES, "device": "cpu",
            "workers": 0, "val_split": min(settings.get("val_split", 0), VAL_SPLIT)}
