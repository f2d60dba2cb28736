"""``python -m tfsnn <command>``: thin commands over the library; every output is written atomically.

Errors a user can cause print one line, ``tfsnn: error: <cause and fix>``, and exit with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import TfsnnError

if TYPE_CHECKING:
    from .config import RunConfig

PROG = "python -m tfsnn"


def _run_config_args(p: argparse.ArgumentParser) -> None:
    from .config import RunConfig, field_help

    g = p.add_argument_group("run settings (override --config; defaults in brackets)")
    settings = {}
    for f in dataclasses.fields(RunConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, dict):
            continue
        settings[f"cfg_{f.name}"] = f, default
        g.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None, metavar="V",
                       help=f"{f.metadata['help']} [{default}]")

    class Help(p.formatter_class):
        """Fills in a setting's choices (the architecture and dataset registries' names) only when help is
        printed: importing the registries would slow every command down by seconds."""

        def _get_help_string(self, action):
            if action.dest not in settings:
                return super()._get_help_string(action)
            f, default = settings[action.dest]
            return f"{field_help(f)} [{default}]".replace("%", "%%")

    p.formatter_class = Help


def _collect_config(args) -> RunConfig:
    """Run settings from --settings (JSON), --config (YAML) and the flags (read as YAML values); PyYAML is
    imported only for the last two, so `--settings` runs with torch alone (bench/mini_check.py)."""
    from .config import RunConfig

    base: dict = {}
    if getattr(args, "settings", None):
        import json

        try:
            base = json.loads(args.settings)
        except json.JSONDecodeError as e:
            raise TfsnnError(f"--settings is not valid JSON ({e}); pass a JSON object of run settings") from None
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise TfsnnError(f"run config {path} does not exist; give the path of a YAML file of run settings")
        import yaml

        from_file = yaml.safe_load(path.read_text()) or {}
        if not isinstance(from_file, dict):
            raise TfsnnError(f"{path} must hold a mapping of run settings (key: value)")
        base.update(from_file)
    flags = {key[4:]: value for key, value in vars(args).items() if key.startswith("cfg_") and value is not None}
    if flags:
        import yaml

        base.update({k: v if k in ("data_root", "dataset", "arch") else yaml.safe_load(v) for k, v in flags.items()})
    return RunConfig.from_dict(base, where=str(args.config) if args.config else "run settings")


def _tracker(args):
    from .tracking import Tracker, default_uri, experiment_name

    if args.no_mlflow:
        return None
    return Tracker(args.tracking_uri or default_uri(args.preset), experiment_name(args.preset))


def _print_result(result: dict, out: Path) -> None:
    accs = " ".join(f"T={T}:{a:.4f}" for T, a in result["accuracy"].items())
    print(f"[{result['run_id']}] done: {accs} -> {out}")


def cmd_train(args) -> int:
    from .train import train_run, train_stage

    cfg = _collect_config(args)
    from .layout import Layout

    out = Path(args.out) if args.out else Path(Layout(args.preset).run_dir(cfg.run_id()))
    if args.expect_run_id and args.expect_run_id != cfg.run_id():
        raise TfsnnError(f"these settings train run {cfg.run_id()}, not {args.expect_run_id}; the pipeline's "
                         f"plan and the settings disagree — rerun snakemake so both come from one config")
    if args.stage == "train":
        train_stage(cfg, out, tracker=_tracker(args), check_sync=args.check_sync)
        print(f"[{cfg.run_id()}] trained -> {out / 'trained.pt'}")
    else:
        result = train_run(cfg, out, tracker=_tracker(args), check_sync=args.check_sync,
                           recalibrate=args.recalibrate)
        if result:  # empty on ranks other than 0 under torchrun
            _print_result(result, out)
    return 0


def cmd_calibrate(args) -> int:
    from .train import calibrate_stage

    out = Path(args.run_dir)
    if not (out / "trained.pt").is_file():
        raise TfsnnError(f"{out / 'trained.pt'} does not exist; run `python -m tfsnn train --stage train` first")
    _print_result(calibrate_stage(out, tracker=_tracker(args), recalibrate=args.recalibrate, device=args.device,
                                  data_root=args.data_root, workers=args.workers), out)
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
    from .data import DATASETS, load_data, prepare_dataset

    if args.preset and args.dataset != "list":
        raise TfsnnError("--preset goes with `prepare list`: the datasets a preset needs")
    if args.dataset == "list" and args.preset:
        from .data.needs import render

        print(render(args.preset))
        return 0
    if args.dataset == "list":
        for name, spec in DATASETS.items():
            print(f"{name:16s} {spec.description}")
        return 0
    root = prepare_dataset(args.dataset, args.root)
    if args.manifest:
        from .io import write_json

        d = load_data(args.dataset, root, crop_padding=0)
        write_json(args.manifest, {"dataset": args.dataset, "root": str(root), "num_classes": d.num_classes,
                                   "input_kind": d.input_kind, "shape": list(d.image_shape), "sizes": d.sizes,
                                   "per_class": d.per_class})
    print(f"{args.dataset} ready in {root}")
    return 0


def cmd_run_id(args) -> int:
    print(_collect_config(args).run_id())
    return 0


def cmd_schema(args) -> int:
    from .settings_schema import render, write

    if args.write:
        print(f"run settings schema -> {write()}")
    else:
        print(render(), end="")
    return 0


def cmd_mlflow_init(args) -> int:
    from .tracking import default_uri, experiment_name, init_store, runs_view_url

    uri = args.tracking_uri or default_uri(args.preset)
    exp = init_store(uri, experiment_name(args.preset))
    if args.stamp:
        from .io import write_text

        write_text(args.stamp, f"{uri}\nexperiment {experiment_name(args.preset)} id {exp}\n")
    print(f"MLflow store {uri}, experiment {experiment_name(args.preset)} (id {exp}); its runs: "
          f"{runs_view_url(uri, exp)}")
    return 0


def _spec(args) -> dict:
    import json

    try:
        spec = json.loads(args.spec)
    except json.JSONDecodeError as e:
        raise TfsnnError(f"--spec is not valid JSON ({e}); the pipeline passes the target's spec this way") from None
    from .pipeline.plan import spec_files

    missing = [f for f in spec_files(spec) if not Path(f).is_file()]
    if missing:
        raise TfsnnError(f"{args.name} needs {missing[0]}" + (f" and {len(missing) - 1} more file(s)" if len(missing) > 1
                         else "") + "; build it first (snakemake builds it as part of the target)")
    return spec


def _tag_sources(args, spec: dict) -> None:
    if args.no_mlflow:
        return
    from .io import read_json
    from .pipeline.plan import spec_files
    from .tracking import default_uri, tag_runs

    ids = [read_json(f).get("mlflow_run_id") for f in spec_files(spec)]
    if any(ids):
        tag_runs(args.tracking_uri or default_uri(args.preset), ids, f"tfsnn.target.{args.name}")


def cmd_table(args) -> int:
    from .report.tables import build_table

    spec = _spec(args)
    try:
        table = build_table(args.name, spec, args.preset, tuple(args.target_module))
    except KeyError as e:
        raise TfsnnError(str(e).strip('"')) from None
    paths = table.write(args.out) + [table.write_html(args.out)]   # the HTML: what the Snakemake report shows
    _tag_sources(args, spec)
    print(table.to_markdown())
    print("wrote " + ", ".join(map(str, paths)))
    return 0


def cmd_figure(args) -> int:
    from .report.figures import build_figure

    spec = _spec(args)
    try:
        paths = build_figure(args.name, spec, args.preset, args.out, tuple(args.target_module))
    except KeyError as e:
        raise TfsnnError(str(e).strip('"')) from None
    _tag_sources(args, spec)
    print("wrote " + ", ".join(map(str, paths)))
    return 0


def cmd_analyze(args) -> int:
    from .analysis.registry import get
    from .io import read_json, write_json
    from .run_setup import open_run

    analysis = get(args.kind)

    def read(path: str) -> dict:
        if not Path(path).is_file():
            raise TfsnnError(f"{args.kind} needs {path}; run the analysis that writes it on this run first")
        return read_json(path)

    st = open_run(args.model, device=args.device, data_root=args.data_root)
    result = analysis(st, args, read)
    write_json(args.out, result)
    print(f"{args.kind} of {st.cfg.run_id()} -> {args.out}")
    return 0


CALIBRATE_DESCRIPTION = ("Second stage of a run: read <run-dir>/trained.pt, calibrate BN at uniform T_max on "
                         "calib_batches training batches (unless the run does not calibrate), evaluate, write "
                         "model.pt and eval.json. A run that has both is left as it is unless --recalibrate.")


def _finished_run_args(p: argparse.ArgumentParser) -> None:
    """Where a finished run is opened again: its device and dataset folder, by default the run's own."""
    p.add_argument("--device", help="device [the run's]")
    p.add_argument("--data-root", help="dataset folder [the run's]")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Temporally flexible SNNs: mixed time-step training "
                                "(MTT), evaluation at any temporal configuration, and the paper's pipeline.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"tfsnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one run (SDT, NMT or MTT), calibrate BN, evaluate at every T",
                       description="Train one run and write model.pt, train.json and eval.json into its folder. "
                       "A rerun resumes from the folder's checkpoint; a finished run is reported and left as "
                       "it is (--recalibrate recomputes its calibration stage). Example: python -m tfsnn train "
                       "--dataset digits10 --arch resnet19 --width 0.125 --method mtt --t-max 6 --epochs 8 "
                       "--batch-size 32 --lr 0.05 --crop-padding 1 --hflip false")
    t.add_argument("--config", help="YAML file of run settings (keys as the flags below, with underscores)")
    t.add_argument("--out", help="run folder [results/<preset>/runs/<run id>]")
    t.add_argument("--preset", default="smoke", help="preset name: picks results/<preset>/ and the MLflow "
                   "experiment tfsnn-<preset> [smoke]")
    t.add_argument("--tracking-uri", help="MLflow store [$MLFLOW_TRACKING_URI or sqlite:///results/<preset>/mlflow.db]")
    t.add_argument("--no-mlflow", action="store_true", help="do not mirror the run to MLflow")
    t.add_argument("--settings", help="run settings as one JSON object (the pipeline passes them this way)")
    t.add_argument("--stage", choices=("all", "train"), default="all", help="all: train, calibrate BN and "
                   "evaluate; train: stop after training (write trained.pt, train.json) [all]")
    t.add_argument("--expect-run-id", help="fail unless the settings give this run id (pipeline check)")
    t.add_argument("--check-sync", action="store_true", help="under torchrun: verify after every step that all "
                   "ranks hold the same weights, and after calibration the same BN statistics")
    t.add_argument("--recalibrate", action="store_true", help="a finished run: recompute BN calibration and "
                   "evaluation from trained.pt (rewrites model.pt and eval.json)")
    _run_config_args(t)
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("calibrate", help="calibrate BN of a trained run and evaluate it at every uniform T",
                       description=CALIBRATE_DESCRIPTION)
    c.add_argument("--run-dir", required=True, help="the run folder holding trained.pt and train.json")
    c.add_argument("--preset", default="smoke", help="MLflow experiment tfsnn-<preset> [smoke]")
    c.add_argument("--tracking-uri", help="MLflow store [$MLFLOW_TRACKING_URI or sqlite:///results/<preset>/mlflow.db]")
    c.add_argument("--no-mlflow", action="store_true")
    _finished_run_args(c)
    c.add_argument("--workers", type=int, help="data loader workers [the run's]")
    c.add_argument("--recalibrate", action="store_true", help="recompute model.pt and eval.json even if they exist")
    c.set_defaults(func=cmd_calibrate)

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
    _finished_run_args(e)
    e.add_argument("--out", help="write the result as JSON here")
    e.set_defaults(func=cmd_eval)

    d = sub.add_parser("prepare", help="prepare a dataset (stand-ins are generated; real data is checked)",
                       description="Prepare a dataset: stand-ins are generated, real data is read in full "
                       "(every source file) and converted once. `python -m tfsnn prepare list` lists the "
                       "datasets; `prepare list --preset mini` those a preset's targets need, and which are there.")
    d.add_argument("dataset", help="dataset name, or 'list'")
    d.add_argument("--root", help="dataset folder [data/<dataset>]")
    d.add_argument("--manifest", help="also write a JSON manifest (counts, shapes) here")
    d.add_argument("--preset", help="with 'list': the datasets this preset needs (smoke, mini, paper or a YAML "
                   "file), per target, and whether their files are there")
    d.set_defaults(func=cmd_prepare)

    r = sub.add_parser("run-id", help="print the run id that a set of run settings trains into")
    r.add_argument("--config", help="YAML file of run settings")
    _run_config_args(r)
    r.set_defaults(func=cmd_run_id)

    sc = sub.add_parser("schema", help="print the config schema's run settings, generated from RunConfig",
                        description="The JSON schema (YAML) of a block of run settings, generated from the fields "
                        "of tfsnn.config.RunConfig; config.schema.yaml references it.")
    sc.add_argument("--write", action="store_true", help="write it to workflow/schemas/settings.schema.yaml")
    sc.set_defaults(func=cmd_schema)

    for kind, func, what in (("table", cmd_table, "a table as CSV, Markdown, LaTeX, HTML and a provenance sidecar"),
                             ("figure", cmd_figure, "a figure as PNG, PDF and a provenance sidecar")):
        b = sub.add_parser(kind, help=f"build {what} from run results (the pipeline calls this)")
        b.add_argument("name", help=f"{kind} name, e.g. {'table4' if kind == 'table' else 'fig7b'}")
        b.add_argument("--spec", required=True, help="JSON: the result files and what they mean (from the plan)")
        b.add_argument("--preset", default="smoke", help="preset named in the output [smoke]")
        b.add_argument("--out", required=True, help="output path without extension")
        b.add_argument("--tracking-uri", help="MLflow store whose runs get tagged with this target")
        b.add_argument("--no-mlflow", action="store_true", help="do not tag the source runs in MLflow")
        b.add_argument("--target-module", action="append", default=[], metavar="MODULE",
                       help="a module declaring more targets (a preset's target_modules)")
        b.set_defaults(func=func)

    from .analysis.registry import ANALYSES

    a = sub.add_parser("analyze", help="an analysis of a trained run (estimator, search, SEENN, noise, ...)",
                       description="Analyses of a trained run, each written as one JSON file; "
                       "`analyze <name> --help` lists an analysis's parameters.")
    kinds = a.add_subparsers(dest="kind", required=True, metavar="ANALYSIS")
    for analysis in ANALYSES.values():
        k = analysis.add_parser(kinds)
        k.add_argument("--model", required=True, help="a run's model.pt")
        k.add_argument("--out", required=True, help="result JSON")
        _finished_run_args(k)
        k.set_defaults(func=cmd_analyze)

    m = sub.add_parser("mlflow-init", help="create the MLflow store and experiment (before parallel jobs)")
    m.add_argument("--preset", default="smoke")
    m.add_argument("--tracking-uri", help="MLflow store or server [$MLFLOW_TRACKING_URI or "
                   "sqlite:///results/<preset>/mlflow.db]")
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
    except OSError as e:  # a full disk or a forbidden folder outside the atomic writers (e.g. a run folder's mkdir)
        from .io import failure_message, write_failure

        if write_failure(e) is not e or not e.filename:
            raise
        print(f"tfsnn: error: {e.filename}: {failure_message(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfsnn: interrupted; a rerun resumes from the last checkpoint", file=sys.stderr)
        return 130
