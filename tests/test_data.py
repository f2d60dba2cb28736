"""Stand-ins in the CIFAR pickle layout, read by the real CIFAR reader; Fashion-MNIST; augmentation."""
import pickle
from pathlib import Path

import pytest
import torch

from tfsnn.data import load_data, prepare_dataset
from tfsnn.data.cifar import read_cifar_split
from tfsnn.data.registry import TRAIN_SIZES
from tfsnn.data.split import holdout
from tfsnn.data.standins import digits_split
from tfsnn.data.transforms import Cutout, channel_stats, train_transform
from tfsnn.errors import DataError

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_digits10_layout_is_cifar10(digits10_root):
    folder = digits10_root / "cifar-10-batches-py"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["batches.meta"] + [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    with open(folder / "data_batch_1", "rb") as f:
        d = pickle.load(f, encoding="latin1")
    assert {"data", "labels", "batch_label", "filenames"} <= set(d)
    assert d["data"].dtype.name == "uint8" and d["data"].shape[1] == 3 * 8 * 8
    x, y = read_cifar_split(digits10_root, 10, "train")
    xt, yt = read_cifar_split(digits10_root, 10, "test")
    assert x.shape[1:] == (3, 8, 8) and len(x) + len(xt) == 1797
    assert torch.bincount(yt, minlength=10).min() >= 30


def test_train_and_test_never_share_a_source_image():
    x, y, train_idx, test_idx = digits_split(0)
    assert not set(train_idx.tolist()) & set(test_idx.tolist())
    assert len(train_idx) + len(test_idx) == len(y) == 1797
    assert torch.equal(test_idx, digits_split(0)[3])


def test_digits100_pairs(digits100_root, digits10_root):
    x, y = read_cifar_split(digits100_root, 100, "train")
    xt, yt = read_cifar_split(digits100_root, 100, "test")
    assert x.shape[1:] == (3, 8, 16) and set(y.tolist()) == set(range(100))
    assert len(y) == TRAIN_SIZES["digits100"] and len(read_cifar_split(digits10_root, 10, "train")[1]) == TRAIN_SIZES["digits10"]
    # left half shows digit a = y // 10: its pixels are one of the train digits of that class
    tr_x, tr_y = read_cifar_split(digits10_root, 10, "train")
    te_x, _ = read_cifar_split(digits10_root, 10, "test")
    for i in range(0, len(y), 97):
        left, right = x[i, :, :, :8], x[i, :, :, 8:]
        assert ((tr_x == left).flatten(1).all(1) & (tr_y == y[i] // 10)).any()
        assert ((tr_x == right).flatten(1).all(1) & (tr_y == y[i] % 10)).any()
    for i in range(0, len(yt), 53):
        assert (te_x == xt[i, :, :, :8]).flatten(1).all(1).any()


def test_digits10_32_is_digits10_upscaled_and_varied_in_cifar_size(tmp_path, digits10_root):
    """Table 8's stand-in: the same split and labels as digits10, at CIFAR's 32x32, each digit varied once
    from a seeded stream (so the same seed writes the same bytes)."""
    import numpy as np

    from tfsnn.data.standins import CIFAR32_PURPOSE
    from tfsnn.data.variation import vary

    root = tmp_path / "digits10_32"
    prepare_dataset("digits10_32", root)
    for split in ("train", "test"):
        x, y = read_cifar_split(root, 10, split)
        x8, y8 = read_cifar_split(digits10_root, 10, split)
        assert x.shape[1:] == (3, 32, 32) and torch.equal(y, y8)
    assert len(read_cifar_split(root, 10, "train")[1]) == TRAIN_SIZES["digits10_32"]
    # test image i is source digit test_idx[i], varied by the draw of that index in the stand-in's stream
    images, _, _, test_idx = digits_split(0)
    expected = vary(images[:, 0].float() / 255, (32, 32), np.random.default_rng([0, CIFAR32_PURPOSE]))
    xt = read_cifar_split(root, 10, "test")[0]
    assert torch.equal(xt[:, 0], (expected[test_idx] * 255).round().to(torch.uint8))
    assert torch.equal(xt[:, 0], xt[:, 2])
    again = tmp_path / "again"
    prepare_dataset("digits10_32", again)
    assert (again / "manifest.json").read_text() == (root / "manifest.json").read_text()   # file digests included


def test_digits100_has_no_32px_variant(tmp_path):
    from tfsnn.data.standins import make_digits

    with pytest.raises(ValueError, match="10 classes"):
        make_digits(tmp_path, 100, side=32)


def test_preparation_is_cached(tmp_path):
    import time

    prepare_dataset("digits10", tmp_path / "d")
    t = time.perf_counter()
    prepare_dataset("digits10", tmp_path / "d")
    assert time.perf_counter() - t < 1.0


def test_load_data_val_split_and_normalisation(digits10_root):
    d = load_data("digits10", digits10_root, val_split=100, seed=1)
    assert d.sizes == {"train": 1338, "val": 100, "test": 359}
    assert d.num_classes == 10 and d.in_channels == 3 and d.input_kind == "static"
    x, label = d.train[0]
    assert x.dtype == torch.float32 and x.shape == (3, 8, 8) and 0 <= label < 10
    xs = torch.stack([d.test[i][0] for i in range(len(d.test))])
    assert abs(float(xs.mean())) < 0.2


def test_holdout_is_stratified_and_seeded():
    y = torch.arange(1000) % 10
    keep, held = holdout(y, 100, seed=3)
    assert len(held) == 100 and len(keep) == 900 and not set(keep.tolist()) & set(held.tolist())
    assert torch.bincount(y[held]).tolist() == [10] * 10
    assert torch.equal(held, holdout(y, 100, seed=3)[1])


def test_missing_and_wrong_data(tmp_path):
    with pytest.raises(DataError, match=r"cifar-10-batches-py/data_batch_1.*cifar-10-python.tar.gz"):
        load_data("cifar10", tmp_path / "nothing")
    with pytest.raises(DataError, match="prepare digits10"):
        load_data("digits10", tmp_path / "nothing")
    bad = tmp_path / "bad" / "cifar-100-python"
    bad.mkdir(parents=True)
    for name in ("train", "test"):
        (bad / name).write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="not a readable CIFAR pickle"):
        load_data("cifar100", tmp_path / "bad")
    with pytest.raises(DataError, match="unknown dataset"):
        load_data("imagenet1k")


def test_cutout_zeroes_one_square():
    torch.manual_seed(0)
    img = torch.ones(3, 32, 32)
    out = Cutout(16)(img)
    zero_cols = (out[0] == 0).any(0).sum()
    assert 8 <= int((out[0] == 0).sum() ** 0.5 + 0.5) <= 16 and zero_cols <= 16
    assert torch.equal(out[0] == 0, out[2] == 0) and img.min() == 1


@pytest.mark.skipif(not FASHION.is_dir(), reason="needs apt package dataset-fashion-mnist")
def test_fashion_mnist_from_the_system_package(tmp_path):
    root = prepare_dataset("fashion10", tmp_path / "fashion")
    d = load_data("fashion10", root)
    assert d.sizes == {"train": 60000, "val": 0, "test": 10000} and d.image_shape == (1, 28, 28)
    p = load_data("fashion100", root)
    assert p.num_classes == 100 and p.image_shape == (1, 28, 56) and p.sizes["train"] == 60000


def test_fashion_missing_names_three_ways(tmp_path, monkeypatch):
    from tfsnn.data import fashion

    monkeypatch.setattr(fashion, "SYSTEM_DIR", tmp_path / "none")
    with pytest.raises(DataError, match="dataset-fashion-mnist.*download"):
        fashion.prepare_fashion(tmp_path / "f", download=False)


def test_reads_the_original_cifar_pickles(tmp_path):
    """The published files are Python 2 pickles with bytes keys and 3x32x32 rows, no shape entry."""
    import numpy as np

    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("train", 6), ("test", 4)):
        d = {b"filenames": [b"x.png"] * n, b"batch_label": b"training batch 1 of 1",
             b"fine_labels": list(range(n)), b"coarse_labels": [0] * n,
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        with open(folder / name, "wb") as f:
            pickle.dump(d, f, protocol=2)
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [b"apple"] * 100, b"coarse_label_names": [b"fruit"] * 20}, f, protocol=2)
    x, y = read_cifar_split(tmp_path, 100, "train")
    assert x.shape == (6, 3, 32, 32) and x.dtype == torch.uint8 and y.tolist() == list(range(6))
    with open(folder / "train", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    assert torch.equal(x[2], torch.from_numpy(raw[b"data"][2].reshape(3, 32, 32)))


def _with_fill(fill: str, img: torch.Tensor, mean, std, seed: int = 3, **kw) -> torch.Tensor:
    torch.manual_seed(seed)
    return train_transform(mean, std, image_size=img.shape[-2:], cutout_fill=fill, **kw)(img)


def test_cutout_fill_black_cuts_before_normalisation():
    """``black`` (the official order: Cutout between ToTensor and Normalize) fills the hole with
    (0 - mean) / std, ``mean`` with 0; the same hole, and the same pixels elsewhere."""
    mean, std = [0.3, 0.45, 0.62], [0.2, 0.25, 0.3]  # x 255 not whole: no pixel normalises to exactly 0
    img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    kw = dict(crop_padding=4, hflip=True, cutout=True, cutout_size=16)
    black, mean_fill = _with_fill("black", img, mean, std, **kw), _with_fill("mean", img, mean, std, **kw)
    plain = _with_fill("mean", img, mean, std, crop_padding=4, hflip=True, cutout=False)
    hole = (mean_fill != plain).any(0)
    rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
    assert 0 < len(rows) <= 16 and 0 < len(cols) <= 16
    assert int(hole.sum()) == len(rows) * len(cols)  # one rectangle
    expected = -torch.tensor(mean) / torch.tensor(std)
    assert torch.allclose(black[:, hole], expected[:, None].expand(3, int(hole.sum())))
    assert torch.equal(mean_fill[:, hole], torch.zeros(3, int(hole.sum())))
    assert torch.equal(black[:, ~hole], mean_fill[:, ~hole]) and torch.equal(black[:, ~hole], plain[:, ~hole])
    assert torch.equal(*[_with_fill(fill, img, mean, std, cutout=False) for fill in ("black", "mean")])
    with pytest.raises(ValueError, match="cutout_fill"):
        train_transform(mean, std, cutout=True, cutout_fill="grey", image_size=(32, 32))


def test_load_data_threads_cutout_fill(digits10_root):
    images = {}
    for fill in ("mean", "black"):
        d = load_data("digits10", digits10_root, cutout=True, cutout_size=4, cutout_fill=fill)
        torch.manual_seed(5)
        images[fill] = d.train[7][0]
    mean, std = channel_stats(d.train.images)
    hole = images["mean"] != images["black"]
    assert hole.any() and torch.equal(hole[0], hole[1]) and torch.equal(hole[0], hole[2])
    assert torch.equal(images["mean"][hole], torch.zeros(int(hole.sum())))
    expected = (-torch.tensor(mean) / torch.tensor(std))[:, None, None].expand_as(hole)
    assert torch.allclose(images["black"][hole], expected[hole])


def test_frame_cache_files_get_the_mode_of_other_results(tmp_path):
    """mkstemp makes 0600 files; a shared cache must be readable by the group like every other result."""
    import os

    from tfsnn.data.cache import CacheWriter

    umask = os.umask(0o022)
    try:
        w = CacheWriter(tmp_path)
        w.array("frames", (2, 3), "uint8")[:] = 7
        w.commit({"version": 1})
    finally:
        os.umask(umask)
    for name in ("frames.npy", "meta.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
