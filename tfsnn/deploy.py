"""A run that starts from another run's weights (``init_from``), BN folded (``fold_bn``): phases 2 and 3
of the official event-driven deployment recipe (Table 7).

The parent is a finished run in a sibling folder: ``<this run's folder>/../<init_from>/model.pt``
(the pipeline lists that file as an input of this run's train job). :func:`start_from_parent` is
called once, at the fresh start of training (never on resuming from a checkpoint).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .config import RunConfig
from .errors import TfsnnError
from .fold import fold_bn, has_bn, remove_biases
from .run_setup import load_model


def parent_model_path(cfg: RunConfig, out_dir: str | Path) -> Path:
    """Where the model this run starts from lives: the parent run's folder next to ``out_dir``."""
    return Path(out_dir).parent / str(cfg.init_from) / "model.pt"


def start_from_parent(st, out_dir: str | Path, log: Callable[[str], None] = print) -> None:
    """Load the parent run's weights (``init_from``) into ``st.model`` (a :class:`tfsnn.run_setup.Setup`'s),
    after removing the biases and folding BN (``fold_bn``)."""
    cfg = st.cfg
    path = parent_model_path(cfg, out_dir)
    if not path.is_file():
        raise TfsnnError(f"{path} does not exist: this run starts from run {cfg.init_from} (init_from), which must "
                         f"finish first; build it with snakemake, or train it with python -m tfsnn train --out "
                         f"{path.parent}")
    parent, rec = load_model(path)
    parent_neuron = rec.get("config", {}).get("neuron", "lif")
    if rec["arch"] != st.model.arch or parent_neuron != cfg.neuron:
        raise TfsnnError(f"{path} holds {rec['arch']} with neuron {parent_neuron}, but this run builds "
                         f"{st.model.arch} with neuron {cfg.neuron}; give both runs the same arch and neuron")
    if cfg.fold_bn and has_bn(parent):
        fold_bn(remove_biases(parent))
    try:
        st.model.load_state_dict(parent.state_dict())
    except RuntimeError:
        raise TfsnnError(f"{path} does not fit this run's network (other width or classes"
                         f"{'' if cfg.fold_bn else ', or a folded parent'}); give both runs the same "
                         f"model settings") from None
    how = ", biases removed and BN folded into the weights (locked)" if cfg.fold_bn else ""
    log(f"[{cfg.run_id()}] starts from {path}{how}")
