"""A run's working parts, built from its :class:`RunConfig`: data, model, device, optimiser and loaders
(:func:`setup`), and the same for a finished run reopened from its ``model.pt`` (:func:`open_run`).

Training (:mod:`tfsnn.train`), evaluation and the analyses all start from a :class:`Setup`.
``model.pt`` and ``trained.pt`` hold a :func:`model_record`: the architecture, the settings and the
weights, enough to rebuild the model without the run's folder.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from . import distributed
from .config import RunConfig, RunConfigError
from .data import Data, load_data
from .errors import TfsnnError
from .models import TemporalNet, build_model

SCHEMA_VERSION = 1  # "format" of model.pt, trained.pt, train.json and eval.json


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RunConfigError(f"device '{name}' asked for but no CUDA GPU is visible; use device: auto or cpu")
    return dev


def loader(dataset, batch_size: int, shuffle: bool, seed: int | None = None, workers: int = 0,
           drop_last: bool = False, pin: bool = False) -> DataLoader:
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=g, num_workers=workers,
                      drop_last=drop_last and len(dataset) > batch_size, pin_memory=pin,
                      persistent_workers=False)


@dataclass
class Setup:
    cfg: RunConfig
    device: torch.device
    data: Data
    model: TemporalNet
    autocast_dtype: torch.dtype | None


def limited(data: Data, n: int) -> Data:
    """``data`` with only the first ``n`` samples of each split (a rehearsal runs every step on a few)."""
    def first(ds):
        return None if ds is None else Subset(ds, range(min(n, len(ds))))

    parts = {"train": first(data.train), "test": first(data.test), "val": first(data.val)}
    sizes = {k: len(v) for k, v in parts.items() if v is not None}
    return dataclasses.replace(data, **parts, sizes=sizes, per_class={})


def setup(cfg: RunConfig) -> Setup:
    """Data and model of a run (shared by training and by analyses that load a trained model)."""
    device = distributed.device_for(distributed.init(), resolve_device(cfg.device))
    data = load_data(cfg.dataset, cfg.data_root, val_split=cfg.val_split, seed=cfg.seed,
                     crop_padding=cfg.crop_padding, hflip=cfg.hflip, autoaugment=cfg.autoaugment,
                     cutout=cfg.cutout, cutout_size=cfg.cutout_size, frame_bins=cfg.frame_bins,
                     frame_split=cfg.frame_split, roll_pixels=cfg.roll_pixels,
                     temporal_inversion=cfg.temporal_inversion, crop_min_scale=cfg.crop_min_scale,
                     cutout_fill=cfg.cutout_fill)
    if cfg.limit_samples:
        data = limited(data, cfg.limit_samples)
    torch.manual_seed(cfg.seed)
    kw = dict(width=cfg.width, tau=cfg.tau, v_th=cfg.v_th, h=cfg.h, backend=cfg.backend,
              neuron=cfg.neuron, folded=cfg.fold_bn)  # folded: the structure tfsnn.fold leaves
    if cfg.residual_bn_init != 1.0:  # only the spiking ResNets take it (RunConfig.validate)
        kw["residual_bn_init"] = cfg.residual_bn_init
    if cfg.dvs_stem_frames != "t1":  # only dvs_resnet18 takes it (RunConfig.validate)
        kw["stem_frames"] = cfg.dvs_stem_frames
    if data.input_kind == "sequence":
        kw["in_features"] = data.image_shape[-1]
    else:
        kw["in_channels"] = data.in_channels
    model = build_model(cfg.arch, data.num_classes, **kw).to(device)
    # NHWC convolutions on the GPU only: on the CPU (torch 2.14.1, oneDNN) they were about 10% faster but a
    # channels-last ResNet-34 training run on 128 px digits aborted with glibc's "corrupted double-linked list"
    if device.type == "cuda" and data.input_kind != "sequence":
        model = model.to(memory_format=torch.channels_last)
    amp = torch.bfloat16 if (cfg.amp and device.type == "cuda") else None
    return Setup(cfg, device, data, model, amp)


def make_optimizer(cfg: RunConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def eval_loader(st: Setup, split: str = "test") -> DataLoader:
    ds = st.data.test if split == "test" else st.data.val
    return loader(ds, max(st.cfg.batch_size, 256), shuffle=False, workers=st.cfg.workers)


def model_record(st: Setup) -> dict:
    m = st.model
    return {"format": SCHEMA_VERSION, "arch": m.arch, "arch_kwargs": m.arch_kwargs, "n_stages": m.n_stages,
            "input_kind": m.input_kind, "run_id": st.cfg.run_id(), "config": st.cfg.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in m.state_dict().items()}}


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[TemporalNet, dict]:
    """A trained model from ``model.pt`` and its record (arch, config, run id)."""
    path = Path(path)
    if not path.is_file():
        raise TfsnnError(f"no model at {path}; train it first (python -m tfsnn train ...)")
    try:
        rec = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:
        raise TfsnnError(f"{path} is not a readable tfsnn model ({type(e).__name__}); retrain it") from None
    if not isinstance(rec, dict) or "arch" not in rec or "state_dict" not in rec:
        raise TfsnnError(f"{path} is not a tfsnn model.pt (no architecture recorded); use the model.pt of a "
                         f"tfsnn run")
    kwargs = dict(rec["arch_kwargs"])
    num_classes = kwargs.pop("num_classes")
    model = build_model(rec["arch"], num_classes, **kwargs)
    try:
        missing, unexpected = model.load_state_dict(rec["state_dict"], strict=False)
    except RuntimeError:  # shape mismatch
        missing, unexpected = ["(shapes differ)"], []
    if missing or unexpected:
        raise TfsnnError(f"{path} does not fit architecture {rec['arch']} ({len(missing)} missing, "
                         f"{len(unexpected)} unexpected weights); the file is damaged or from another version")
    return model.to(device).eval(), rec


def open_run(model_path: str | Path, **overrides) -> Setup:
    """Data and trained model of a finished run, from its ``model.pt`` (``overrides``: device, data_root, ...)."""
    model, rec = load_model(model_path)
    cfg = RunConfig.from_dict({**rec["config"], **{k: v for k, v in overrides.items() if v is not None}})
    st = setup(cfg)
    if st.model.arch != model.arch or st.model.n_stages != model.n_stages:
        raise TfsnnError(f"{model_path} holds {model.arch} but its settings build {st.model.arch}; "
                         f"the file was edited or moved between runs — retrain it")
    st.model.load_state_dict(model.state_dict())
    st.model.eval()
    return st
