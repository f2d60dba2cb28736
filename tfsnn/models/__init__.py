"""Model registry: every architecture of the paper, built by name.

>>> net = build_model("resnet19", num_classes=10, width=0.25)
>>> net.n_stages
8
>>> logits = net(images, (3, 2, 2, 3, 5, 3, 6, 2))
"""
from __future__ import annotations

from functools import partial
from typing import Callable

from ..fold import locked_structure
from ..iaf import NEURONS, to_iaf
from ..neuron import replace_lifs
from .base import Stage, TemporalNet
from .fc import fc_snn
from .nmnist import nmnist_net
from .resnet import spiking_resnet
from .rnn import rnn_net
from .vgg import vgg14

# name -> (builder, defaults). Defaults hold what the paper fixes per architecture.
ARCHS: dict[str, tuple[Callable[..., TemporalNet], dict]] = {
    "resnet18": (partial(spiking_resnet, "resnet18"), dict(in_channels=3, tau=0.5)),
    "resnet19": (partial(spiking_resnet, "resnet19"), dict(in_channels=3, tau=0.5)),
    "resnet34": (partial(spiking_resnet, "resnet34", stem="imagenet"), dict(in_channels=3, tau=0.5)),
    "bresnet50": (partial(spiking_resnet, "bresnet50"), dict(in_channels=3, tau=0.5)),
    "bresnet72": (partial(spiking_resnet, "bresnet72"), dict(in_channels=3, tau=0.5)),
    "vgg14": (vgg14, dict(in_channels=3, tau=0.5)),
    "dvs_resnet18": (partial(spiking_resnet, "resnet18", input_kind="frames"), dict(in_channels=2, tau=0.5)),
    "fc_seqmnist": (partial(fc_snn, hidden=(64, 64), arch="fc_seqmnist"), dict(in_features=1, tau=0.99)),
    "fc_shd": (partial(fc_snn, hidden=(128, 128, 128), arch="fc_shd"), dict(in_features=70, tau=0.9753)),
    # Table 14's non-spiking baseline: tanh RNN, 2 x 64 (A.12)
    "rnn_seqmnist": (partial(rnn_net, hidden=(64, 64), arch="rnn_seqmnist"), dict(in_features=1)),
    # Table 7: the official event-driven code's Speck network; tau 1: no leak (Table 7 runs neuron="iaf_multispike")
    "nmnist_net": (nmnist_net, dict(in_channels=2, tau=1.0)),
}

# the spiking ResNets: the architectures with residual additions (they take ``residual_bn_init``)
RESIDUAL_ARCHS = tuple(a for a, (builder, _) in ARCHS.items() if getattr(builder, "func", None) is spiking_resnet)


def build_model(arch: str, num_classes: int, **kwargs) -> TemporalNet:
    """Build ``arch`` for ``num_classes``; ``kwargs`` override the architecture's defaults
    (``in_channels`` or ``in_features``, ``width``, ``tau``, ``v_th``, ``h``, ``backend``; the spiking ResNets
    also ``residual_bn_init``). ``None`` keeps the default.

    Any architecture also takes ``neuron`` (``"lif"``, or ``"iaf_multispike"``: every LIF becomes a
    :class:`tfsnn.iaf.IAF`) and ``folded`` (``True``: biases gone, every BN a :class:`tfsnn.fold.LockedBN`,
    the structure :func:`tfsnn.fold.fold_bn` leaves); non-default values are recorded in ``arch_kwargs``."""
    if arch not in ARCHS:
        raise KeyError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    neuron, folded = kwargs.pop("neuron", None) or "lif", bool(kwargs.pop("folded", None))
    if neuron not in NEURONS:
        raise KeyError(f"unknown neuron {neuron!r}; choose one of {', '.join(NEURONS)}")
    builder, defaults = ARCHS[arch]
    merged = dict(defaults)
    merged.update({k: v for k, v in kwargs.items() if v is not None})
    if "in_features" in defaults:
        merged.pop("in_channels", None)
    else:
        merged.pop("in_features", None)
    net = builder(num_classes=num_classes, **merged)
    net.arch = arch
    if neuron != "lif":
        replace_lifs(net, to_iaf)
        net.arch_kwargs["neuron"] = neuron
    if folded:
        locked_structure(net)
        net.arch_kwargs["folded"] = True
    return net


__all__ = ["ARCHS", "RESIDUAL_ARCHS", "build_model", "TemporalNet", "Stage"]
