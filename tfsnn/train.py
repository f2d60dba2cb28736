"""A full training run driven by one :class:`RunConfig`, in two stages: training, then BN calibration
and evaluation. The run's data, model and optimiser come from :mod:`tfsnn.run_setup`, its BN
calibration from :mod:`tfsnn.calibration`, its checkpoint from :mod:`tfsnn.checkpoint`.

Writes into its run folder (all atomically):

- ``checkpoint.pt`` after every epoch (model, optimiser, schedule, sampler and history); a rerun
  resumes from it and, on CPU, ends bitwise identical to an uninterrupted run; removed at the end;
- ``trained.pt`` and ``train.json`` at the end of training (the *train stage*): the trained model
  before calibration, and per epoch loss, training accuracy, learning rate, seconds (and, with
  ``track_calibration``, test accuracy with and without calibration);
- ``model.pt`` and ``eval.json`` after the *calibration stage*: the model after BN calibration, and
  its accuracy at every uniform T (before and after calibration) and firing rates.

``train_run`` runs both stages; the pipeline runs them as two jobs. A finished run is never rewritten:
rerunning it reports that it is complete; ``recalibrate=True`` recomputes the calibration stage.

**Epoch selection** (``epoch_selection``): ``final`` reports the last epoch. ``best_test`` is the official
code's protocol (``--save_best_model``): after every epoch a copy of the model is BN-calibrated (where the
run calibrates) and tested, and the epoch with the best accuracy at ``t_max`` (the first, on ties) is
kept; ``best_val`` does the same on the validation split. ``trained.pt`` then holds the selected epoch's
weights, and the calibration stage calibrates them on that epoch's batches, so ``eval.json`` repeats the
accuracies measured during training.

**Randomness**: training reseeds the global generator from ``(seed, epoch)`` at every epoch start and
checkpoints the configuration sampler, so resuming at an epoch boundary replays the same stream.
Everything else (calibration batches and their augmentation) draws from generators seeded from
``(seed, purpose)`` (:mod:`tfsnn.seeding`), so ``eval.json`` and ``model.pt`` are bitwise the same
whichever process computes them.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader

from . import distributed
from .calibration import calibrate, probe_accuracy
from .checkpoint import read_checkpoint, save_checkpoint
from .config import RunConfig
from .deploy import start_from_parent
from .engine import evaluate_uniform, train_one_epoch
from .errors import TfsnnError
from .io import read_json, torch_save, write_json
from .run_setup import SCHEMA_VERSION, Setup, eval_loader, loader, make_optimizer, model_record, open_run, setup
from .seeding import EPOCH, derived_seed
from .selection import EpochSelection
from .temporal import make_sampler


def train_stage(cfg: RunConfig, out_dir: str | Path, tracker=None, progress: bool | None = None,
                log: Callable[[str], None] | None = None, st: Setup | None = None,
                check_sync: bool = False) -> Setup:
    """Train (resuming from ``checkpoint.pt`` if present); write ``trained.pt`` and ``train.json``.

    Under torchrun every rank trains its shard (see tfsnn.distributed); rank 0 writes the files.
    ``check_sync`` verifies after every optimiser step that all ranks hold the same weights.
    """
    d = distributed.init()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = _rank_log(log, d)
    tracker = tracker if d.main else None
    progress = (sys.stderr.isatty() if progress is None else progress) and d.main
    run_id = cfg.run_id()
    if (out / "trained.pt").is_file() and (out / "train.json").is_file():
        if read_json(out / "train.json").get("run_id") == run_id:
            log(f"[{run_id}] already trained: {out / 'trained.pt'}")
            return open_run(out / "trained.pt", device=cfg.device, data_root=cfg.data_root, workers=cfg.workers)
    st = st or setup(cfg)
    model, device = st.model, st.device
    optimizer = make_optimizer(cfg, model)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs, eta_min=0.0)
    sampler = make_sampler(cfg.method, model.n_stages, cfg.t_max, cfg.t_min, cfg.g, cfg.monotone, seed=cfg.seed)
    history: list[dict] = []
    start_epoch, mlflow_run_id, selection_state = 0, None, None
    ckpt_path = out / "checkpoint.pt"
    if ckpt_path.is_file():
        ckpt = read_checkpoint(ckpt_path, cfg, device)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        sampler.load_state_dict(ckpt["sampler"])
        history, start_epoch, mlflow_run_id = ckpt["history"], ckpt["epoch"], ckpt.get("mlflow_run_id")
        selection_state = ckpt.get("selection")
        log(f"[{run_id}] resuming after epoch {start_epoch}/{cfg.epochs} from {ckpt_path}")
    elif cfg.init_from is not None:  # fine-tuning (Table 7): the parent run's weights, BN folded
        start_from_parent(st, out, log)
    if tracker is not None:
        mlflow_run_id = start_tracking(tracker, st, out, "train", mlflow_run_id)
    net = distributed.wrap(model, d)
    after_step = (lambda: distributed.assert_in_sync(d, model, "weights after a step")) if check_sync else None
    test_loader = eval_loader(st)
    selection = EpochSelection(cfg.epoch_selection, cfg.t_max, selection_state)
    log(f"[{run_id}] {cfg.method.upper()} {cfg.arch} on {cfg.dataset} ({st.data.sizes}), "
        f"{model.n_stages} stages, device {device}" + (f", {d.world} processes" if d.enabled else ""))

    for epoch in range(start_epoch, cfg.epochs):
        torch.manual_seed(derived_seed(cfg.seed, EPOCH, epoch))
        train_loader = epoch_loader(st, epoch, d)
        lr = optimizer.param_groups[0]["lr"]
        stats = train_one_epoch(net, train_loader, optimizer, sampler, cfg.s, device, st.autocast_dtype,
                                progress, desc=f"epoch {epoch + 1}/{cfg.epochs}", after_step=after_step)
        scheduler.step()
        loss_sum, passes, correct, seen = distributed.all_reduce_sum(
            d, [stats["loss_sum"], stats["passes"], stats["correct"], stats["seen"]], device)
        record = {"epoch": epoch + 1, "loss": loss_sum / passes, "train_acc": correct / seen, "lr": lr,
                  "seconds": stats["seconds"]}
        if d.main:
            record.update(epoch_probes(st, epoch + 1, test_loader, selection))
            if selection.active and selection.update(epoch + 1, record["selection_acc"], model):
                log(f"[{run_id}] epoch {epoch + 1} is the best so far on {selection.split} "
                    f"(T={cfg.t_max}: {selection.score(record['selection_acc']):.4f})")
        history.append(record)
        if d.main:
            save_checkpoint(ckpt_path, st, optimizer, scheduler, sampler, epoch + 1, history, mlflow_run_id,
                            selection)
        distributed.barrier(d)
        if tracker is not None:
            tracker.log_metrics(_epoch_metrics(record, selection) | logged_probes(st, selection), step=epoch + 1)
        log(f"[{run_id}] epoch {epoch + 1}/{cfg.epochs} loss {record['loss']:.4f} "
            f"train acc {record['train_acc']:.4f} lr {lr:.4g} {record['seconds']:.1f}s")

    if d.main:
        final = final_epoch_accuracy(st, history, selection, test_loader)
        if selection.active:
            model.load_state_dict(selection.weights)
            log(f"[{run_id}] keeping epoch {selection.epoch} ({selection.rule}); trained.pt holds its weights")
        torch_save(model_record(st), out / "trained.pt")
        write_json(out / "train.json", {"format": SCHEMA_VERSION, "run_id": run_id, "mlflow_run_id": mlflow_run_id,
                                        "config": cfg.to_dict(), "selection": selection.record(cfg.epochs),
                                        "final_epoch": final, "epochs": history})
        ckpt_path.unlink(missing_ok=True)
        if tracker is not None:
            tracker.log_artifacts([out / "train.json"])
            tracker.log_output()
    distributed.barrier(d)
    return st


def epoch_probes(st: Setup, epoch: int, test_loader, selection: EpochSelection) -> dict:
    """Per-epoch measurements on a copy of the model: test accuracy with and without calibration
    (``track_calibration``, Fig. 7C; always calibrated) and the epoch-selection score (calibrated where
    the run calibrates), each on ``epoch``'s calibration batches."""
    cfg, model = st.cfg, st.model
    out: dict = {}
    if cfg.track_calibration:
        out["test_acc_uncalibrated"] = _str_keys(evaluate_uniform(model, test_loader, cfg.eval_steps(), st.device,
                                                                  st.autocast_dtype))
        out["test_acc_calibrated"] = _str_keys(probe_accuracy(st, model, test_loader, cfg.eval_steps(), epoch))
    if selection.active:
        same = (selection.split == "test" and cfg.calibrates() and "test_acc_calibrated" in out
                and str(cfg.t_max) in out["test_acc_calibrated"])
        out["selection_acc"] = out["test_acc_calibrated"] if same else _str_keys(
            probe_accuracy(st, model, eval_loader(st, selection.split), probe_steps(cfg), epoch, cfg.calibrates()))
    return out


def probe_steps(cfg: RunConfig) -> list[int]:
    return sorted(set(cfg.eval_steps()) | {cfg.t_max})


def final_epoch_accuracy(st: Setup, history: list[dict], selection: EpochSelection, test_loader) -> dict | None:
    """Under a best-epoch rule, the last epoch's test accuracy by the same protocol (calibrated on its
    own batches where the run calibrates), so that ``eval.json`` can show both; ``None`` under ``final``."""
    if not selection.active:
        return None
    last = history[-1]
    acc = last["selection_acc"] if selection.split == "test" else _str_keys(
        probe_accuracy(st, st.model, test_loader, probe_steps(st.cfg), last["epoch"], st.cfg.calibrates()))
    return {"epoch": last["epoch"], "accuracy": acc}


def epoch_loader(st: Setup, epoch: int, d: "distributed.Dist") -> DataLoader:
    """This epoch's training batches: seeded from (seed, epoch); under torchrun, this rank's shard.

    ``batch_size`` is the global batch: each of ``world`` processes takes ``batch_size / world`` images per
    iteration, so a run is the same experiment (and resumes) on any number of processes.
    """
    cfg = st.cfg
    seed = derived_seed(cfg.seed, EPOCH, epoch)
    pin = st.device.type == "cuda"
    if not d.enabled:
        return loader(st.data.train, cfg.batch_size, shuffle=True, seed=seed, workers=cfg.workers, drop_last=True,
                      pin=pin)
    from torch.utils.data.distributed import DistributedSampler

    if cfg.batch_size % d.world:
        raise TfsnnError(f"batch_size {cfg.batch_size} (the global batch) does not split evenly over {d.world} "
                         f"processes; use a multiple of {d.world} or another number of processes")
    shard = DistributedSampler(st.data.train, num_replicas=d.world, rank=d.rank, shuffle=True,
                               seed=seed % (2 ** 31), drop_last=True)
    return DataLoader(st.data.train, batch_size=cfg.batch_size // d.world, sampler=shard, num_workers=cfg.workers,
                      drop_last=True, pin_memory=pin)


def completed_run(out: Path, run_id: str | None = None) -> dict | None:
    """The ``eval.json`` of a finished run in ``out`` (of ``run_id``, if given), else ``None``."""
    if not ((out / "eval.json").is_file() and (out / "model.pt").is_file()):
        return None
    try:
        result = read_json(out / "eval.json")
    except ValueError:
        return None   # damaged: recompute
    return result if run_id is None or result.get("run_id") == run_id else None


def calibrate_stage(out_dir: str | Path, tracker=None, st: Setup | None = None, check_sync: bool = False,
                    recalibrate: bool = False, log: Callable[[str], None] | None = None, **overrides) -> dict:
    """Calibrate BN of ``trained.pt`` and evaluate; write ``model.pt`` and ``eval.json``; return the latter.

    A run whose ``model.pt`` and ``eval.json`` exist is complete: it is reported, not rewritten, unless
    ``recalibrate``. Under torchrun every rank calibrates on the same batches, then rank 0's statistics
    are broadcast so that all ranks agree; rank 0 evaluates and writes.
    """
    d = distributed.init()
    out = Path(out_dir)
    log = _rank_log(log, d)
    train = read_json(out / "train.json")   # rank 0 wrote it before the barrier that ended training
    done = None if recalibrate else completed_run(out, train.get("run_id"))
    if done is not None:
        log(f"[{done['run_id']}] complete: {out / 'eval.json'} is left as it is (recalibrate to recompute it)")
        return done if d.main else {}
    st = st or open_run(out / "trained.pt", **overrides)
    mlflow_run_id = train.get("mlflow_run_id")
    tracker = tracker if d.main else None
    if tracker is not None:
        mlflow_run_id = start_tracking(tracker, st, out, "calibrate", mlflow_run_id)
    cfg = st.cfg
    log(f"[{cfg.run_id()}] " + (f"calibrating BN at uniform T={cfg.t_max} on {cfg.calib_batches} training batches "
                                f"(purpose {calibration_purpose(train)}), then evaluating" if cfg.calibrates() else
                                "evaluating without BN calibration"))
    t0 = time.perf_counter()
    result = finish_run(st, eval_loader(st), cfg.eval_steps(), mlflow_run_id, out, d, check_sync, train)
    seconds = time.perf_counter() - t0
    log(f"[{cfg.run_id()}] calibrated and evaluated in {seconds:.1f}s")
    if tracker is not None:
        for name, key in (("test_acc_by_T", "accuracy"), ("test_acc_uncalibrated_by_T", "accuracy_uncalibrated"),
                          ("val_acc_by_T", "accuracy_val")):
            tracker.log_curve(name, result.get(key) or {})
        tracker.log_metrics({"eval_seconds": seconds}, step=cfg.epochs)
        tracker.log_artifacts([out / "train.json", out / "eval.json"])
        tracker.log_output()
        tracker.finish()
    return result


def train_run(cfg: RunConfig, out_dir: str | Path, tracker=None, progress: bool | None = None,
              log: Callable[[str], None] | None = None, check_sync: bool = False,
              recalibrate: bool = False) -> dict:
    """Both stages in one process: train, calibrate, evaluate; return the contents of ``eval.json``.

    A complete run (``eval.json`` and ``model.pt`` of this run id) is reported and left untouched;
    ``recalibrate`` recomputes its calibration stage from ``trained.pt``.
    """
    done = None if recalibrate else completed_run(Path(out_dir), cfg.run_id())
    if done is not None:
        if distributed.init().main:
            (log or print)(f"[{cfg.run_id()}] complete: {Path(out_dir) / 'eval.json'} is left as it is "
                           f"(pass --recalibrate to recompute the calibration stage)")
        return done
    st = train_stage(cfg, out_dir, tracker, progress, log, check_sync=check_sync)
    return calibrate_stage(out_dir, tracker, st=st, check_sync=check_sync, recalibrate=recalibrate, log=log)


def calibration_purpose(train: dict) -> int:
    """The calibration batches of the reported model: under a best-epoch rule those its epoch was scored
    with (so ``eval.json`` repeats that measurement), else purpose 0."""
    sel = train.get("selection") or {}
    return int(sel["epoch"]) if sel.get("rule", "final") != "final" else 0


def finish_run(st: Setup, test_loader, eval_ts, mlflow_run_id, out: Path, d=None, check_sync: bool = False,
               train: dict | None = None) -> dict:
    d = d or distributed.Dist()
    cfg, model, device = st.cfg, st.model, st.device
    train = train or {}
    purpose = calibration_purpose(train)
    uncal = evaluate_uniform(model, test_loader, eval_ts, device, st.autocast_dtype) if d.main else {}
    if cfg.calibrates():
        calibrate(st, purpose=purpose)
        distributed.broadcast_buffers(d, model)
        if check_sync:
            distributed.assert_in_sync(d, model, "BN statistics after calibration", buffers=True)
    if not d.main:
        distributed.barrier(d)
        return {}
    with model.recording_rates():
        acc = evaluate_uniform(model, test_loader, [max(max(eval_ts), cfg.t_max)] + list(eval_ts), device,
                               st.autocast_dtype)
        rates = model.firing_rates()
    acc = {T: acc[T] for T in eval_ts}
    calibration = ({"batches": cfg.calib_batches, "t": [cfg.t_max] * model.n_stages, "purpose": purpose}
                   if cfg.calibrates() else None)
    selection = train.get("selection") or {"rule": "final", "epoch": cfg.epochs, "epochs": cfg.epochs}
    result = {"format": SCHEMA_VERSION, "run_id": cfg.run_id(), "mlflow_run_id": mlflow_run_id,
              "config": cfg.to_dict(), "n_stages": model.n_stages, "data_sizes": st.data.sizes,
              "protocol": {"epoch_selection": selection["rule"], "epoch": selection["epoch"],
                           "epochs": selection["epochs"], "calibrated": calibration is not None},
              "calibration": calibration,
              "accuracy": _str_keys(acc), "accuracy_uncalibrated": _str_keys(uncal),
              "firing_rates": {"T": max(max(eval_ts), cfg.t_max), "per_stage": rates}}
    if train.get("final_epoch"):
        result["final_epoch"] = train["final_epoch"]
    if st.data.val is not None:
        result["accuracy_val"] = _str_keys(evaluate_uniform(model, eval_loader(st, "val"), eval_ts, device,
                                                            st.autocast_dtype))
    torch_save(model_record(st), out / "model.pt")
    write_json(out / "eval.json", result)
    distributed.barrier(d)
    return result


def _rank_log(log: Callable[[str], None] | None, d: "distributed.Dist") -> Callable[[str], None]:
    """``log`` (default: print) on rank 0; silent on the other torchrun ranks."""
    return (log or (lambda msg: print(msg, flush=True))) if d.main else (lambda msg: None)


def _str_keys(d: dict) -> dict[str, float]:
    return {str(k): v for k, v in d.items()}


def start_tracking(tracker, st: Setup, out: Path, stage: str, mlflow_run_id: str | None) -> str | None:
    """Open (or carry on) the run's MLflow run for ``stage`` with its settings, tags and environment."""
    cfg = st.cfg
    tags = {**{f"tfsnn.{k}": v for k, v in cfg.tags.items()}, f"tfsnn.{stage}.device": str(st.device),
            "tfsnn.torch": torch.__version__, "tfsnn.cuda": torch.version.cuda or "none"}
    return tracker.start(cfg.run_id(), cfg.result_settings(), tags, resume_run_id=mlflow_run_id, results=out,
                         stage=stage)


def logged_probes(st: Setup, selection: EpochSelection) -> dict[str, float]:
    """For MLflow only (not in train.json): where a run has a validation split that its selection rule does
    not score, the validation accuracy at t_max with the training BN statistics. The global generator is
    forked around it (a loader draws its seed from it), so the run's numbers stay the same."""
    if st.data.val is None or selection.split == "val":
        return {}
    with torch.random.fork_rng(devices=[st.device] if st.device.type == "cuda" else []):
        acc = evaluate_uniform(st.model, eval_loader(st, "val"), [st.cfg.t_max], st.device, st.autocast_dtype)
    return {"val_acc_uncalibrated": acc[st.cfg.t_max]}


def _epoch_metrics(record: dict, selection: EpochSelection) -> dict[str, float]:
    """Per-epoch curves: loss, training accuracy, learning rate, seconds, the probes' accuracies at every T,
    and the selection rule's score (``test_acc`` or ``val_acc`` at t_max)."""
    m = {k: record[k] for k in ("loss", "train_acc", "lr", "seconds")}
    for key in ("test_acc_uncalibrated", "test_acc_calibrated", "selection_acc"):
        if key in record:
            m.update({f"{key}_T{T}": v for T, v in record[key].items()})
    if "selection_acc" in record:
        m[f"{selection.split}_acc"] = selection.score(record["selection_acc"])
    return m
