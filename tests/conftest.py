import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def digits10_root(tmp_path_factory):
    from tfsnn.data import prepare_dataset

    root = tmp_path_factory.mktemp("data") / "digits10"
    prepare_dataset("digits10", root)
    return root


@pytest.fixture(scope="session")
def digits100_root(tmp_path_factory):
    from tfsnn.data import prepare_dataset

    root = tmp_path_factory.mktemp("data") / "digits100"
    prepare_dataset("digits100", root)
    return root
