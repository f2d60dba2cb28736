"""The settings of one training run, validated, with a run id derived from them.

Every field has a default; ``RunConfig.from_dict`` rejects an unknown key by name (with the closest
known key as a hint), and ``validate`` checks ranges and combinations. The fields are the one declaration
of the run settings: the config schema's part for them (workflow/schemas/settings.schema.yaml) and the
command line's flags are generated from them (``tfsnn.settings_schema``). Two configs that train the
same network share a run id, so pipeline targets that need the same run share one job.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import TfsnnError
from .iaf import NEURONS
from .selection import RULES as SELECTION_RULES
from .temporal import METHODS


RUN_ID_VERSION = 1


def _archs() -> tuple[str, ...]:
    from .models import ARCHS

    return tuple(ARCHS)


def _datasets() -> tuple[str, ...]:
    from .data import DATASETS

    return tuple(DATASETS)


def _frame_splits() -> tuple[str, ...]:
    from .data.events import FRAME_SPLITS

    return tuple(FRAME_SPLITS)


class RunConfigError(TfsnnError):
    pass


def _f(default, help: str, **kw):
    """A run setting: its default, its help, and what the schema and ``validate`` check. Keys of ``kw``:
    ``runtime`` (does not change results, so not part of the run id), ``choices`` (a tuple, checked by
    ``validate``; or a function returning a registry's names, imported lazily and checked where the
    registry is used), ``minimum``, ``exclusive_minimum``, ``maximum`` and ``item_minimum`` (of a list's
    items). A help text that lists the choices says ``{choices}``. The config schema's run settings
    (workflow/schemas/settings.schema.yaml) are generated from these fields: ``python -m tfsnn schema --write``.
    """
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


def field_choices(f: dataclasses.Field) -> tuple[str, ...] | None:
    """A setting's allowed values (a registry's names are imported here, not at import time)."""
    choices = f.metadata.get("choices")
    return tuple(choices()) if callable(choices) else choices


def field_help(f: dataclasses.Field) -> str:
    """A setting's help text, its choices filled in."""
    text = f.metadata["help"]
    return text.replace("{choices}", ", ".join(field_choices(f))) if "{choices}" in text else text


@dataclass
class RunConfig:
    # data
    dataset: str = _f("digits10", "dataset name: {choices} (`python -m tfsnn prepare list` describes them)",
                      choices=_datasets)
    data_root: str | None = _f(None, "dataset folder; default data/<dataset> (data/fashion for fashion*)",
                               runtime=True)
    val_split: int = _f(0, "training images held out as a validation split (0: none)", minimum=0)
    limit_samples: int = _f(0, "keep only the first N samples of each split (0: all): a rehearsal's few small "
                               "batches (tfsnn.pipeline.rehearsal)", minimum=0)
    autoaugment: bool = _f(False, "AutoAugment (CIFAR10 policy), A.2")
    cutout: bool = _f(False, "Cutout, one hole, A.2")
    cutout_size: int = _f(16, "Cutout hole side in pixels", minimum=1)
    cutout_fill: str = _f("mean", "Cutout hole colour: 'mean' = cut after normalisation (the hole is the mean "
                                  "colour), 'black' = cut before normalisation, as the official transform does",
                          choices=("mean", "black"))
    crop_padding: int = _f(4, "random crop padding in pixels (0: no crop)", minimum=0)
    hflip: bool = _f(True, "random horizontal flip")
    crop_min_scale: float = _f(0.08, "ImageNet: smallest area fraction of the random resized crop "
                                     "(torchvision's 0.08)", exclusive_minimum=0, maximum=1)
    frame_bins: int = _f(10, "event datasets: frames per recording (A.2: ten)", minimum=1)
    frame_split: str = _f("events", "event datasets: 'events' = equal event counts per frame (SpikingJelly's "
                                    "usual split), 'time' = equal durations", choices=_frame_splits)
    roll_pixels: int = _f(5, "event datasets: random circular shift by up to this many pixels in x and y "
                             "(A.2: 5; 0: off)", minimum=0)
    temporal_inversion: bool = _f(False, "event datasets: the N-Caltech101 policy of A.2 and the official code "
                                         "(reverse time and polarity with p=0.25, else flip with p=0.25) "
                                         "instead of the plain p=0.5 flip")
    dvs_stem_frames: str = _f("t1", "event datasets: frames the stem (conv + BN) runs on: 't1' = only the first "
                                    "t_1, 'all' = every input frame, then keep the first t_1 (the official "
                                    "TFSNN_ResNet18_DVS)", choices=("t1", "all"))
    # model
    arch: str = _f("resnet19", "architecture: {choices}", choices=_archs)
    width: float = _f(1.0, "channel width multiplier", exclusive_minimum=0)
    tau: float | None = _f(None, "LIF leak factor; default per architecture (0.5 for conv nets)")
    v_th: float = _f(1.0, "LIF threshold")
    h: float = _f(1.0, "triangle surrogate width", exclusive_minimum=0)
    residual_bn_init: float = _f(1.0, "spiking ResNets: initial BN weight (gamma) of the BN layers that feed a "
                                      "residual addition, the branch's last and the shortcut's (1: PyTorch's "
                                      "default, the paper and the official code; 0.7071: tdBN's alpha = 1/sqrt(2), "
                                      "Zheng et al. 2021)", exclusive_minimum=0)
    backend: str = _f("auto", "LIF backend: auto or torch (same arithmetic, so not part of the run id)",
                      runtime=True)
    # method
    method: str = _f("mtt", "training method: {choices} (sdt: fixed T = t_max)", choices=METHODS)
    t_max: int = _f(6, "largest time step (SDT trains at t_max)", minimum=1)
    t_min: int = _f(1, "smallest time step sampled by NMT/MTT", minimum=1)
    s: int = _f(3, "configurations sampled per iteration (losses summed, one optimiser step); SDT's s identical "
                   "passes run once and count s times", minimum=1)
    g: int = _f(1, "MTT granularity: stages per group sharing one T (g >= stages is NMT)", minimum=1)
    monotone: bool = _f(False, "sequence tasks: non-increasing configurations, first stage at t_max")
    # optimisation
    epochs: int = _f(300, "training epochs", minimum=1)
    batch_size: int = _f(256, "batch size (the global batch: split evenly over torchrun processes)", minimum=1)
    optimizer: str = _f("sgd", "optimizer: {choices}", choices=("sgd", "adamw"))
    lr: float = _f(0.1, "initial learning rate, cosine-decayed to 0", exclusive_minimum=0)
    momentum: float = _f(0.9, "SGD momentum")
    weight_decay: float = _f(5e-4, "weight decay", minimum=0)
    seed: int = _f(1000, "seed of initialisation, data order, augmentation and configuration sampling")
    amp: bool = _f(True, "bf16 autocast on a GPU (ignored on CPU)")
    # calibration and evaluation
    calib_batches: int = _f(10, "BN calibration batches after training (0: no calibration)", minimum=0)
    sdt_calibration: bool = _f(True, "BN-calibrate runs with one time step (SDT, or t_min == t_max); the "
                                     "official code does not (train.py: calibrates only if max_T != min_T)")
    epoch_selection: str = _f("final", "which epoch a run reports: 'final', 'best_test' (calibrate and test "
                                       "after every epoch, keep the best at t_max: the official "
                                       "--save_best_model) or 'best_val' (the same on the validation split)",
                            choices=SELECTION_RULES)
    eval_ts: list[int] = _f([], "uniform T to evaluate; default 1..t_max", item_minimum=1)
    track_calibration: bool = _f(False, "test accuracy every epoch with and without BN calibration (Fig. 7C)")
    # deployment (Table 7, the official event-driven recipe)
    neuron: str = _f("lif", "spiking neuron: 'lif' (Eq. 1-4) or 'iaf_multispike' (the official event-driven "
                            "code's sinabs IAF: no leak, several spikes per step, reset by subtraction, "
                            "membrane floored at -1, SingleExponential surrogate; tfsnn.iaf)", choices=NEURONS)
    init_from: str | None = _f(None, "run id of a finished run, in a sibling folder of this run's, whose "
                                     "model.pt this run starts from instead of a fresh initialisation")
    fold_bn: bool = _f(False, "with init_from: before training, remove the biases and BN shifts and fold each BN "
                              "into the weights before it; BN stays locked (only its scale trains), so there "
                              "is nothing to calibrate (the official bias_removal phase; tfsnn.fold)")
    # execution (do not change results)
    device: str = _f("auto", "auto, cpu, cuda or cuda:N", runtime=True)
    workers: int = _f(0, "data loader worker processes", runtime=True, minimum=0)
    tags: dict = _f({}, "free-form tags recorded with the run (e.g. the targets it feeds)", runtime=True)

    # ------------------------------------------------------------------ construction

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "run config") -> "RunConfig":
        known = cls.field_names()
        for key in d:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
                raise RunConfigError(f"unknown key '{key}' in {where}{hint}")
        cfg = cls(**{k: _coerce(cls, k, v) for k, v in d.items()})
        cfg.validate()
        return cfg

    def replace(self, **changes) -> "RunConfig":
        return RunConfig.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # ------------------------------------------------------------------ checks

    def validate(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise RunConfigError(msg)

        for f in fields(self):  # what the fields declare (the schema checks the same)
            key, value, m = f.name, getattr(self, f.name), f.metadata
            if value is None:
                continue
            if isinstance(m.get("choices"), tuple):  # registries (functions) are checked where they are used
                need(value in m["choices"], f"{key} '{value}' is not one of {', '.join(m['choices'])}")
            if "minimum" in m:
                need(value >= m["minimum"], f"{key} must be at least {m['minimum']}, got {value}")
            if "exclusive_minimum" in m:
                need(value > m["exclusive_minimum"], f"{key} must be above {m['exclusive_minimum']}, got {value}")
            if "maximum" in m:
                need(value <= m["maximum"], f"{key} must be at most {m['maximum']}, got {value}")
            if "item_minimum" in m:
                bad = [v for v in value if v < m["item_minimum"]]
                need(not bad, f"{key} has values below {m['item_minimum']}: {bad}")
        need(self.t_min <= self.t_max, f"t_min must be in [1, t_max={self.t_max}], got {self.t_min}")
        need(self.epoch_selection != "best_val" or self.val_split > 0,
             "epoch_selection 'best_val' needs a validation split to select on; set val_split > 0, or choose "
             "epoch_selection 'final' or 'best_test'")
        need(self.dvs_stem_frames == "t1" or self.arch == "dvs_resnet18",
             f"dvs_stem_frames 'all' is for the dvs_resnet18 stem; {self.arch} keeps dvs_stem_frames 't1'")
        from .models import RESIDUAL_ARCHS

        need(self.residual_bn_init == 1.0 or self.arch in RESIDUAL_ARCHS,
             f"residual_bn_init is for the spiking ResNets ({', '.join(RESIDUAL_ARCHS)}); {self.arch} has no "
             f"residual additions, so leave residual_bn_init at 1")
        need(self.init_from is None or (self.init_from.strip(".") != "" and not set("/\\") & set(self.init_from)),
             f"init_from '{self.init_from}' is not a run id; give the id of the run (a folder next to this "
             f"run's) whose model.pt this run starts from, or leave init_from unset")
        need(not self.fold_bn or self.init_from is not None,
             "fold_bn folds the BN of a trained network; set init_from to the run id of the run it fine-tunes, "
             "or set fold_bn: false")
        need(not self.fold_bn or self.dvs_stem_frames == "t1",
             "fold_bn locks BN, so the stem has no batch statistics for dvs_stem_frames 'all' to change; "
             "set dvs_stem_frames: t1, or set fold_bn: false")
        need(not self.fold_bn or (self.calib_batches == 0 and not self.track_calibration),
             "fold_bn locks BN (its statistics are folded into the weights): there is nothing to calibrate; "
             "set calib_batches: 0 and track_calibration: false, or set fold_bn: false")

    # ------------------------------------------------------------------ identity

    def result_settings(self) -> dict[str, Any]:
        """The settings that change what the run produces (everything but execution details)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("runtime")}

    def changed_settings(self) -> dict[str, Any]:
        """The result settings that differ from their defaults: with the defaults, all a run is."""
        defaults = RunConfig().result_settings()
        return {k: v for k, v in self.result_settings().items() if v != defaults[k]}

    def run_hash(self) -> str:
        """Hash of the changed settings (and of RUN_ID_VERSION).

        A new field with a default leaves every existing run id as it was; changing a default changes
        what existing ids mean, so bump RUN_ID_VERSION when you do.
        """
        blob = json.dumps({"version": RUN_ID_VERSION, **self.changed_settings()}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:8]

    def run_id(self) -> str:
        """Readable and unique: ``<dataset>-<arch>-<method>-T<t_max>-e<epochs>-seed<seed>-<hash>``."""
        method = self.method if self.method != "mtt" or self.g == 1 else f"mttg{self.g}"
        return f"{self.dataset}-{self.arch}-{method}-T{self.t_max}-e{self.epochs}-seed{self.seed}-{self.run_hash()}"

    def single_step(self) -> bool:
        """Trained at one time step only (SDT, or t_min == t_max: the official code's ``min_T == max_T``)."""
        return self.method == "sdt" or self.t_min == self.t_max

    def calibrates(self) -> bool:
        """Whether the run's BN statistics are calibrated (after training, and in per-epoch probes)."""
        return self.calib_batches > 0 and (self.sdt_calibration or not self.single_step())

    def eval_steps(self) -> list[int]:
        return sorted(set(self.eval_ts)) if self.eval_ts else list(range(1, self.t_max + 1))


def _coerce(cls, key: str, value: Any) -> Any:
    """Accept YAML/CLI values of the right kind; reject the rest naming the key."""
    f = {f.name: f for f in fields(cls)}[key]
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if value is None:
        if "None" in str(f.type):
            return None
        raise RunConfigError(f"key '{key}' needs a value")
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                low = value.lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return low in ("true", "1", "yes")
            if not isinstance(value, (bool, int)):
                raise ValueError
            return bool(value)
        if isinstance(default, int):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if isinstance(default, float) or "float" in str(f.type):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                value = [v for v in value.replace(" ", ",").split(",") if v]
            return [int(v) for v in value]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ValueError
            return dict(value)
        return str(value)
    except (TypeError, ValueError):
        raise RunConfigError(f"key '{key}' has value {value!r} of the wrong kind; "
                             f"expected {type(default).__name__ if default is not None else f.type}") from None
