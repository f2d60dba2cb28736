"""tfsnn.memory: the bytes a forward pass saves for backward, and no graph left behind."""
import gc

import pytest
import torch
import torch.nn.functional as F

from tfsnn.memory import saved_activation_bytes
from tfsnn.models import build_model


def live_tensors() -> set:
    gc.collect()
    return {id(o) for o in gc.get_objects() if torch.is_tensor(o)}


@pytest.mark.filterwarnings("ignore::FutureWarning")   # gc also lists torch.distributed's deprecated reduce_op
def test_the_graph_is_dropped_once_the_bytes_are_counted():
    """A saved output (ReLU's, log-softmax's) must not keep its graph alive through the counting hook."""
    torch.manual_seed(0)
    model = build_model("resnet19", 10, width=0.0625)
    x, y = torch.randn(2, 3, 8, 8), torch.tensor([0, 1])
    before = live_tensors()
    assert saved_activation_bytes(model, lambda: F.cross_entropy(model(x, 3).float(), y)) > 0
    assert live_tensors() - before == set()
