"""A network's structure table (Table 10), read off an instantiated model with forward hooks."""
from __future__ import annotations

import itertools

import torch

from ..models import build_model
from ..models.layers import BasicBlock, ConvBNLIF

NAMES = {"bresnet50": "B-ResNet-50", "bresnet72": "B-ResNet-72", "resnet18": "ResNet-18", "resnet19": "ResNet-19",
         "resnet34": "ResNet-34"}


def describe(arch: str, input_size: int, num_classes: int) -> dict:
    """Rows ``conv1``, ``conv2_x``, ... with output size and layers, plus stage and parameter counts."""
    net = build_model(arch, num_classes).eval()
    blocks = []   # (module, kind) in forward order

    def hook(kind):
        return lambda m, inp, out: blocks.append((m, kind, tuple(out.shape[-2:])))

    handles = []
    for m in net.modules():
        if isinstance(m, BasicBlock):
            handles.append(m.register_forward_hook(hook("block")))
        elif isinstance(m, ConvBNLIF):
            handles.append(m.register_forward_hook(hook("conv")))
    with torch.no_grad():
        net(torch.zeros(1, 3, input_size, input_size), 1)
    for h in handles:
        h.remove()
    rows = []
    stem = blocks[0]
    k = stem[0].conv[0].kernel_size[0]
    rows.append({"stage": "conv1", "size": _size(stem[2]), "layers": f"{k}x{k}, {stem[0].conv[0].out_channels}"})
    def group_key(b):
        return (b[0].conv1[0].out_channels, b[2])
    for i, (key, grp) in enumerate(itertools.groupby([b for b in blocks if b[1] == "block"], key=group_key)):
        c, size = key
        n = len(list(grp))
        rows.append({"stage": f"conv{i + 2}_x", "size": _size(size), "layers": f"[3x3, {c}; 3x3, {c}] x {n}"})
    rows.append({"stage": "FC", "size": "1x1", "layers": "average pool, fc, softmax"})
    return {"name": NAMES.get(arch, arch), "rows": rows, "n_stages": net.n_stages,
            "params": sum(p.numel() for p in net.parameters())}


def _size(hw: tuple[int, int]) -> str:
    return f"{hw[0]}x{hw[1]}"
