"""What a forward pass keeps for the backward pass: the activation memory a training step holds at its peak."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def saved_activation_bytes(model: nn.Module, forward: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd saves while ``forward()`` runs, ``model``'s parameters
    excluded (they are held anyway). The graph is dropped before returning."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        # a detached alias, not the tensor itself: a saved output returned as is would hold its own grad_fn
        # through the hook (a cycle through C++ that gc cannot see), and the graph would outlive ``out``
        return tensor.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = forward()
    del out
    return sum(seen.values())
