"""Sequence datasets: SHD/SSC HDF5 and MNIST idx files by their specifications, binning, bad input, the RNN
baseline, and tiny training runs on the sequence stand-ins."""
import json
import time

import h5py
import numpy as np
import pytest
import torch

from tfsnn.config import RunConfig
from tfsnn.data import audio, load_data, prepare_dataset
from tfsnn.data.seqmnist import PIXELS_PER_STEP
from tfsnn.data.standins import write_hsd
from tfsnn.errors import DataError
from tfsnn.models import build_model
from tfsnn.train import train_run

FAST = dict(method="mtt", s=1, epochs=1, calib_batches=1, seed=3, batch_size=64, optimizer="adamw", lr=0.01)


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("seq")
    return {name: prepare_dataset(name, base / name) for name in ("digits_shd", "digits_ssc", "digits_seqmnist")}


def test_hdf5_layout_matches_the_published_files(roots):
    """spikes/times (vlen float, seconds), spikes/units (vlen uint16), labels (uint16), extra/keys."""
    for name, files in (("digits_shd", ["shd_train.h5", "shd_test.h5"]),
                        ("digits_ssc", ["ssc_train.h5", "ssc_valid.h5", "ssc_test.h5"])):
        for file in files:
            with h5py.File(roots[name] / file, "r") as f:
                assert set(f) >= {"spikes", "labels", "extra"} and set(f["spikes"]) == {"times", "units"}
                assert h5py.check_vlen_dtype(f["spikes/times"].dtype) == np.float16
                assert h5py.check_vlen_dtype(f["spikes/units"].dtype) == np.uint16
                assert f["labels"].dtype == np.uint16 and len(f["labels"]) == len(f["spikes/times"])
                t, u = f["spikes/times"][0], f["spikes/units"][0]
                assert len(t) == len(u) > 0 and 0 <= t.min() and t.max() < 1.0 and u.max() < 700
                assert np.all(np.diff(t.astype(np.float64)) >= 0)
                assert [k.decode() for k in f["extra/keys"][()]] == [str(c) for c in range(10)]


def test_binning_10ms_and_channels_pooled_by_10():
    times = [np.array([0.0, 0.0099, 0.010, 0.0255, 5.0]), np.array([0.001])]
    units = [np.array([0, 9, 10, 699, 3]), np.array([123])]
    x = audio.count_spikes(times, units, steps=4)
    assert x.shape == (2, 4, 70) and x.dtype == np.uint8
    assert x[0, 0, 0] == 2 and x[0, 1, 1] == 1 and x[0, 2, 69] == 1 and x.sum() == 5  # 5 s is past the window
    assert x[1, 0, 12] == 1


@pytest.mark.parametrize("name", ["digits_shd", "digits_ssc"])
def test_spike_standins_load_as_sequences(roots, name):
    d = load_data(name, roots[name], val_split=20, seed=2)
    assert d.input_kind == "sequence" and d.image_shape == (30, 70) and d.num_classes == 10
    assert d.sizes == {"train": 580, "val": 20, "test": 300} and d.per_class["test"] == [30] * 10
    x, label = d.train[0]
    assert x.shape == (30, 70) and x.dtype == torch.float32 and torch.equal(x, x.round()) and x.min() >= 0
    assert x.sum() > 0 and 0 <= label < 10
    # the counts are those of the HDF5 file, binned by hand
    with h5py.File(roots[name] / f"{name[-3:]}_test.h5", "r") as f:
        t, u = f["spikes/times"][3].astype(np.float64), f["spikes/units"][3].astype(np.int64)
    ref = np.zeros((30, 70))
    np.add.at(ref, (np.floor(t / 0.01).astype(int), u // 10), 1)
    assert torch.equal(d.test[3][0], torch.from_numpy(ref).float())


def test_idx_files_by_their_magic_numbers(roots):
    raw = roots["digits_seqmnist"] / "MNIST" / "raw"
    images = (raw / "train-images-idx3-ubyte").read_bytes()
    labels = (raw / "train-labels-idx1-ubyte").read_bytes()
    assert images[:4] == b"\x00\x00\x08\x03" and labels[:4] == b"\x00\x00\x08\x01"
    n, h, w = np.frombuffer(images[4:16], dtype=">i4")
    assert (h, w) == (8, 8) and len(images) == 16 + n * h * w
    assert np.frombuffer(labels[4:8], dtype=">i4")[0] == n and len(labels) == 8 + n
    d = load_data("digits_seqmnist", roots["digits_seqmnist"])
    assert d.image_shape == (64 // PIXELS_PER_STEP, PIXELS_PER_STEP) and d.sizes["train"] == n
    x, label = d.train[5]
    pixels = np.frombuffer(images[16 + 5 * 64:16 + 6 * 64], dtype=np.uint8)
    assert torch.allclose(x.flatten(), torch.from_numpy(pixels / 255.0).float()) and label == labels[8 + 5]


def test_damaged_idx_file_is_named(roots, tmp_path):
    import shutil

    root = tmp_path / "m"
    shutil.copytree(roots["digits_seqmnist"], root)
    images = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"t10k idx files in .*MNIST/raw cannot be read"):
        load_data("digits_seqmnist", root)


def test_real_idx_format_reads(tmp_path):
    """The reader takes real MNIST-format files: Fashion-MNIST's, where the system package has them."""
    from pathlib import Path

    system = Path("/usr/share/datasets/fashion-mnist")
    if not system.is_dir():
        pytest.skip("needs apt package dataset-fashion-mnist")
    import gzip

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        src = system / name if (system / name).is_file() else system / f"{name}.gz"
        (raw / name).write_bytes(gzip.decompress(src.read_bytes()) if src.suffix == ".gz" else src.read_bytes())
    d = load_data("seqmnist", tmp_path)
    assert d.image_shape == (784, 1) and d.sizes == {"train": 60000, "val": 0, "test": 10000}


def test_second_preparation_is_a_cache_hit(roots):
    start = time.perf_counter()
    prepare_dataset("digits_shd", roots["digits_shd"])
    assert time.perf_counter() - start < 1.0
    meta = json.loads(next((roots["digits_shd"] / "sequences").glob("*/meta.json")).read_text())
    assert meta["bin_s"] == audio.BIN_S and meta["pool"] == 10 and meta["steps"] == 30


def test_bad_spike_files(tmp_path, roots, monkeypatch):
    monkeypatch.setattr(audio, "fetch", lambda *a: False)  # as without a network
    with pytest.raises(DataError, match=r"shd_train\.h5.*zenkelab"):
        prepare_dataset("shd", tmp_path / "none")
    with pytest.raises(DataError, match="looks like Spiking Speech Commands"):
        load_data("shd", roots["digits_ssc"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "shd_train.h5").write_bytes(b"not hdf5 at all")
    (bad / "shd_test.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match=r"shd_train\.h5 is not a readable HDF5 file"):
        load_data("shd", bad)
    many = tmp_path / "many"  # labels beyond SHD's 20 classes: another dataset's file
    for part in ("train", "test"):
        write_hsd(many / f"shd_{part}.h5", [np.array([0.1])], [np.array([5])], np.array([30]), ["x"])
    with pytest.raises(DataError, match="labels 30..30, but Spiking Heidelberg Digits has 20 classes"):
        load_data("shd", many)
    with pytest.raises(DataError, match=r"MNIST not found.*train-images-idx3-ubyte"):
        load_data("seqmnist", tmp_path / "none")


def test_rnn_layers_run_their_own_time_steps():
    net = build_model("rnn_seqmnist", num_classes=4, width=0.5)
    steps = {}
    for i, stage in enumerate(net.stages):
        stage.layers.cell.register_forward_hook(lambda m, inp, out, i=i: steps.setdefault(i, []).append(1))
    out = net(torch.rand(3, 12, 1), (12, 5))
    assert out.shape == (3, 4) and len(steps[0]) == 12 and len(steps[1]) == 5
    assert net(torch.rand(3, 12, 1), 12, return_steps=True).shape == (12, 3, 4)
    assert net.input_kind == "sequence" and net.arch == "rnn_seqmnist" and net.firing_rates() == [0.0, 0.0]


@pytest.mark.parametrize("name, arch, extra", [
    ("digits_shd", "fc_shd", dict(width=0.25, t_max=30, monotone=True)),
    ("digits_ssc", "fc_shd", dict(width=0.25, t_max=30, monotone=True)),
    ("digits_seqmnist", "fc_seqmnist", dict(width=0.5, t_max=64, monotone=True)),
    ("digits_seqmnist", "rnn_seqmnist", dict(width=0.5, t_max=64, method="sdt")),
])
def test_tiny_training_run(roots, tmp_path, name, arch, extra):
    cfg = RunConfig.from_dict({**FAST, **extra, "dataset": name, "arch": arch, "data_root": str(roots[name])})
    result = train_run(cfg, tmp_path / "run", progress=False, log=lambda msg: None)
    assert len(result["accuracy"]) == cfg.t_max and result["data_sizes"]["train"] == 600
