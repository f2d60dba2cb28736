"""ImageNet's image-folder layout: the stand-in through torchvision's ImageFolder, the standard views, bad trees,
and a tiny ResNet-34 run."""
import shutil

import pytest
import torch

from tfsnn.config import RunConfig
from tfsnn.data import load_data, prepare_dataset
from tfsnn.data.registry import TRAIN_SIZES
from tfsnn.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from tfsnn.errors import DataError
from tfsnn.train import train_run


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return prepare_dataset("digits_imagenet", tmp_path_factory.mktemp("imagenet") / "digits_imagenet")


def test_tree_is_an_image_folder_of_jpeg_files(root):
    train = sorted(p.name for p in (root / "train").iterdir())
    assert train == sorted(p.name for p in (root / "val").iterdir()) == [f"digit_{c}" for c in range(10)]
    files = sorted((root / "train" / "digit_4").iterdir())
    assert len(files) == 60 and all(f.suffix == ".JPEG" for f in files)
    data = files[0].read_bytes()
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"  # JPEG start and end of image markers


def test_views_and_sizes(root):
    d = load_data("digits_imagenet", root, val_split=30, seed=0)
    assert d.input_kind == "static" and d.image_shape == (3, 128, 128) and d.in_channels == 3
    assert d.sizes == {"train": 570, "val": 30, "test": 300} and d.per_class["test"] == [30] * 10
    assert TRAIN_SIZES["digits_imagenet"] == 600
    x, label = d.test[0]
    y, _ = d.test[0]
    assert x.shape == (3, 128, 128) and x.dtype == torch.float32 and torch.equal(x, y)  # evaluation is fixed
    low = (0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(x.amin((1, 2)), low, atol=0.05)  # the background is black, normalised
    torch.manual_seed(0)
    a, b = d.train[0][0], d.train[0][0]
    assert a.shape == (3, 128, 128) and not torch.equal(a, b)  # random resized crops


def _copy(root, tmp_path):
    out = tmp_path / "tree"
    shutil.copytree(root, out)
    return out


def test_bad_trees(root, tmp_path):
    tree = _copy(root, tmp_path)
    for f in (tree / "val" / "digit_7").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"val/digit_7 holds no images"):
        load_data("digits_imagenet", tree)
    shutil.rmtree(tree / "val" / "digit_7")
    with pytest.raises(DataError, match=r"class folders differ between train/ and val/.*'digit_7' is in train/"):
        load_data("digits_imagenet", tree)
    shutil.rmtree(tree / "val")
    (tree / "val").mkdir()
    shutil.copy(next((tree / "train" / "digit_1").iterdir()), tree / "val" / "ILSVRC2012_val_00000001.JPEG")
    with pytest.raises(DataError, match="holds images directly.*valprep.sh"):
        load_data("digits_imagenet", tree)
    shutil.rmtree(tree / "val")
    with pytest.raises(DataError, match="ImageNet not found.*image-net.org"):
        load_data("imagenet", tree)
    with pytest.raises(DataError, match="train has 10 class folders but ImageNet has 1000"):
        load_data("imagenet", root)


@pytest.mark.slow
def test_tiny_resnet34_run(root, tmp_path):
    cfg = RunConfig.from_dict(dict(dataset="digits_imagenet", data_root=str(root), arch="resnet34", width=1 / 16,
                                   method="mtt", t_max=2, s=1, epochs=1, batch_size=128, calib_batches=1,
                                   optimizer="adamw", lr=0.004, weight_decay=0.02, seed=5))
    result = train_run(cfg, tmp_path / "run", progress=False, log=lambda msg: None)
    assert set(result["accuracy"]) == {"1", "2"} and result["n_stages"] == 16
