"""``python -m tfsnn <command>``: thin commands over the library; every output is written atomically.

Errors a user can cause print one line, ``tfsnn: error: <cause and fix>``, and exit with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from .errors import TfsnnError

PROG = "python -m tfsnn"


def _run_config_args(p: argparse.ArgumentParser) -> None:
    from .config import RunConfig

    g = p.add_argument_group("run settings (override --config; defaults in brackets)")
    for f in dataclasses.fields(RunConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, dict):
            continue
        g.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None, metavar="V",
                       help=f"{f.metadata['help']} [{default}]")


def _collect_config(args) -> "RunConfig":
    import yaml

    from .config import RunConfig

    base: dict = {}
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise TfsnnError(f"run config {path} does not exist; give the path of a YAML file of run settings")
        base = yaml.safe_load(path.read_text()) or {}
        if not isinstance(base, dict):
            raise TfsnnError(f"{path} must hold a mapping of run settings (key: value)")
    for key, value in vars(args).items():
        if key.startswith("cfg_") and value is not None:
            base[key[4:]] = yaml.safe_load(value) if key[4:] not in ("data_root", "dataset", "arch") else value
    return RunConfig.from_dict(base, where=str(args.config) if args.config else "run settings")


def cmd_train(args) -> int:
    from .tracking import Tracker, default_uri, experiment_name
    from .train import train_run

    cfg = _collect_config(args)
    out = Path(args.out) if args.out else Path("results") / args.preset / "runs" / cfg.run_id()
    tracker = None if args.no_mlflow else Tracker(args.tracking_uri or default_uri(args.preset),
                                                  experiment_name(args.preset))
    result = train_run(cfg, out, tracker=tracker)
    accs = " ".join(f"T={T}:{a:.4f}" for T, a in result["accuracy"].items())
    print(f"[{result['run_id']}] done: {accs} -> {out}")
    return 0


def cmd_eval(args) -> int:
    import json

    from .evaluate import evaluate_run

    result = evaluate_run(args.model, ts=args.T, config=args.config_vector, split=args.split,
                          calibrate_at_config=args.calibrate, repeats=args.repeats, device=args.device,
                          data_root=args.data_root)
    if args.out:
        from .io import write_json

        write_json(args.out, result)
    print(json.dumps(result["accuracy"], indent=None))
    return 0


def cmd_prepare(args) -> int:
    from .data import prepare_dataset

    root = prepare_dataset(args.dataset, args.root)
    print(f"{args.dataset} ready in {root}")
    return 0


def cmd_run_id(args) -> int:
    print(_collect_config(args).run_id())
    return 0


def cmd_mlflow_init(args) -> int:
    from .tracking import default_uri, experiment_name, init_store

    uri = args.tracking_uri or default_uri(args.preset)
    exp = init_store(uri, experiment_name(args.preset))
    if args.stamp:
        from .io import write_text

        write_text(args.stamp, f"{uri}\nexperiment {experiment_name(args.preset)} id {exp}\n")
    print(f"MLflow store {uri}, experiment {experiment_name(args.preset)} (id {exp})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .data import DATASETS

    p = argparse.ArgumentParser(prog=PROG, description="Temporally flexible SNNs: mixed time-step training "
                                "(MTT), evaluation at any temporal configuration, and the paper's pipeline.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one run (SDT, NMT or MTT), calibrate BN, evaluate at every T",
                       description="Train one run and write model.pt, train.json and eval.json into its folder. "
                       "A rerun resumes from the folder's checkpoint. Example: python -m tfsnn train "
                       "--dataset digits10 --arch resnet19 --width 0.125 --method mtt --t-max 6 --epochs 8 "
                       "--batch-size 32 --lr 0.05 --crop-padding 1 --hflip false")
    t.add_argument("--config", help="YAML file of run settings (keys as the flags below, with underscores)")
    t.add_argument("--out", help="run folder [results/<preset>/runs/<run id>]")
    t.add_argument("--preset", default="smoke", help="preset name: picks results/<preset>/ and the MLflow "
                   "experiment tfsnn-<preset> [smoke]")
    t.add_argument("--tracking-uri", help="MLflow store [$MLFLOW_TRACKING_URI or sqlite:///results/<preset>/mlflow.db]")
    t.add_argument("--no-mlflow", action="store_true", help="do not mirror the run to MLflow")
    _run_config_args(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="evaluate a trained model at uniform T or at a temporal configuration",
                       description="Evaluate model.pt on its dataset's test (or validation) split. Uniform T "
                       "values come from one causal pass; a configuration vector uses the model's T_max BN "
                       "statistics unless --calibrate recalibrates BN at that configuration (A.3).")
    e.add_argument("--model", required=True, help="path to a run's model.pt")
    grp = e.add_mutually_exclusive_group()
    grp.add_argument("--T", help="uniform time steps, e.g. 1,2,4,6 [1..t_max]")
    grp.add_argument("--config-vector", help="one time step per stage, e.g. 3,2,2,3,5,3,6,2")
    e.add_argument("--split", choices=("test", "val"), default="test", help="evaluation split [test]")
    e.add_argument("--calibrate", action="store_true", help="recalibrate BN at the evaluated configuration "
                   "(each of --repeats times on other batches) and average the accuracies")
    e.add_argument("--repeats", type=int, default=3, help="calibrations averaged with --calibrate [3]")
    e.add_argument("--device", help="device [the run's]")
    e.add_argument("--data-root", help="dataset folder [the run's]")
    e.add_argument("--out", help="write the result as JSON here")
    e.set_defaults(func=cmd_eval)

    d = sub.add_parser("prepare", help="prepare a dataset (stand-ins are generated; real data is checked)",
                       description="Datasets: " + "; ".join(f"{k}: {v.description}" for k, v in DATASETS.items()))
    d.add_argument("dataset", choices=list(DATASETS), metavar="DATASET", help=", ".join(DATASETS))
    d.add_argument("--root", help="dataset folder [data/<dataset>]")
    d.set_defaults(func=cmd_prepare)

    r = sub.add_parser("run-id", help="print the run id that a set of run settings trains into")
    r.add_argument("--config", help="YAML file of run settings")
    _run_config_args(r)
    r.set_defaults(func=cmd_run_id)

    m = sub.add_parser("mlflow-init", help="create the MLflow store and experiment (before parallel jobs)")
    m.add_argument("--preset", default="smoke")
    m.add_argument("--tracking-uri")
    m.add_argument("--stamp", help="write a small file recording the store once it exists")
    m.set_defaults(func=cmd_mlflow_init)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TfsnnError as e:
        print(f"tfsnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfsnn: interrupted; a rerun resumes from the last checkpoint", file=sys.stderr)
        return 130
