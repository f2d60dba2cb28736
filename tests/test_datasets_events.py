"""Event datasets: the publishers' formats byte by byte, stand-ins through the real readers, the frame
cache and its split, augmentation, bad input, and tiny training runs on each event stand-in."""
import json
import shutil
import struct
import time

import numpy as np
import pytest
import torch

from tfsnn.config import RunConfig
from tfsnn.data import dvs, load_data, prepare_dataset
from tfsnn.data.event_standins import aedat2_bytes, aedat4_bytes, aedat31_bytes, bin_bytes
from tfsnn.data.events import read_aedat, read_bin, to_frames
from tfsnn.data.registry import TRAIN_SIZES
from tfsnn.data.transforms import EventAugment
from tfsnn.errors import DataError
from tfsnn.train import train_run

FAST = dict(method="mtt", s=1, epochs=1, calib_batches=1, seed=3, lr=0.05)


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("events")
    return {name: prepare_dataset(name, base / name) for name in ("digits_dvs", "digits_ncaltech", "digits_nmnist")}


def events(*rows):
    x, y, t, p = (np.asarray(c, dtype=np.int64) for c in zip(*rows))
    return {"x": x, "y": y, "t": t, "p": p}


# ---------------------------------------------------------------------- the formats, from their specifications


def test_bin_event_is_40_bits_as_orchard_2015(tmp_path):
    """x (8 bits), y (8 bits), polarity (1 bit), timestamp (23 bits), big-endian."""
    ev = events((1, 2, 0x123456, 1), (33, 0, 5, 0))
    raw = bin_bytes(ev)
    assert raw == bytes([1, 2, 0x80 | 0x12, 0x34, 0x56, 33, 0, 0x00, 0x00, 0x05])
    (tmp_path / "a.bin").write_bytes(raw)
    got = read_bin(tmp_path / "a.bin")
    assert got["x"].tolist() == [1, 33] and got["y"].tolist() == [2, 0]
    assert got["t"].tolist() == [0x123456, 5] and got["p"].tolist() == [1, 0]


def test_nmnist_standin_bytes_decode_by_hand(roots):
    path = sorted((roots["digits_nmnist"] / "Train" / "3").glob("*.bin"))[0]
    raw = np.frombuffer(path.read_bytes(), dtype=np.uint8).reshape(-1, 5).astype(np.int64)
    x, y = raw[:, 0], raw[:, 1]
    p = raw[:, 2] >> 7
    t = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    assert x.max() < 34 and y.max() < 34 and set(p.tolist()) == {0, 1}
    assert np.all(np.diff(t) >= 0) and t.max() < 2 ** 23 and (y != 240).all()
    got = read_bin(path)  # tonic's reader
    assert np.array_equal(got["x"], x) and np.array_equal(got["y"], y)
    assert np.array_equal(got["t"], t) and np.array_equal(got["p"], p)


def test_aedat2_standin_bytes_decode_by_hand(roots):
    """AEDAT 2.0: '#' header lines ending CRLF, first '#!AER-DAT2.0'; 8-byte big-endian address/timestamp
    records; DVS128 addresses use bits 14-0 only."""
    path = sorted((roots["digits_dvs"] / "bird").glob("*.aedat"))[0]
    data = path.read_bytes()
    assert data.startswith(b"#!AER-DAT2.0\r\n")
    pos = 0
    while data[pos:pos + 1] == b"#":
        end = data.index(b"\r\n", pos) + 2
        pos = end
    body = data[pos:]
    assert len(body) % 8 == 0
    words = np.frombuffer(body, dtype=">u4").reshape(-1, 2).astype(np.int64)
    address, t = words[:, 0], words[:, 1]
    assert (address >> 15 == 0).all() and np.all(np.diff(t) >= 0)
    got = read_aedat(path)  # tonic's header and record readers
    assert np.array_equal(got["t"], t)
    assert np.array_equal(got["x"], 127 - ((address >> 8) & 0x7F))
    assert np.array_equal(got["y"], 127 - ((address >> 1) & 0x7F))
    assert np.array_equal(got["p"], 1 - (address & 1))


def test_aedat2_record_is_big_endian_address_then_timestamp(tmp_path):
    data = aedat2_bytes(events((3, 5, 0x01020304, 1)))
    body = data[data.rindex(b"\r\n") + 2:]
    address = (127 - 3) << 8 | (127 - 5) << 1 | 0  # CIFAR10-DVS orientation: x, y mirrored, ON stored as 0
    assert body == address.to_bytes(4, "big") + bytes([1, 2, 3, 4])
    (tmp_path / "one.aedat").write_bytes(data)
    got = read_aedat(tmp_path / "one.aedat")
    assert (got["x"][0], got["y"][0], got["t"][0], got["p"][0]) == (3, 5, 0x01020304, 1)


def test_aedat31_packets_decode_by_hand(tmp_path):
    """AEDAT 3.1: header lines to '#!END-HEADER'; packets of a 28-byte little-endian header and 8-byte
    polarity events (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x; int32 timestamp)."""
    ev = events(*[(i % 128, (3 * i) % 128, 10 * i, i % 2) for i in range(10)])
    data = aedat31_bytes(ev, packet_events=4)
    lines = data.split(b"\r\n")
    assert lines[0] == b"#!AER-DAT3.1" and lines[1] == b"#Format: RAW"
    pos = data.index(b"#!END-HEADER\r\n") + len(b"#!END-HEADER\r\n")
    xs, ys, ts, ps = [], [], [], []
    while pos < len(data):
        header = struct.unpack("<hhiiiiii", data[pos:pos + 28])
        etype, source, size, ts_offset, overflow, capacity, number, valid = header
        assert (etype, size, ts_offset) == (1, 8, 4) and capacity == number == valid <= 4
        pos += 28
        for _ in range(capacity):
            word, stamp = struct.unpack("<Ii", data[pos:pos + 8])
            assert word & 1 == 1
            ps.append((word >> 1) & 1)
            ys.append((word >> 2) & 0x7FFF)
            xs.append(word >> 17)
            ts.append(stamp)
            pos += 8
    assert pos == len(data)
    assert (xs, ys, ts, ps) == (ev["x"].tolist(), ev["y"].tolist(), ev["t"].tolist(), ev["p"].tolist())
    (tmp_path / "r.aedat").write_bytes(data)
    got = read_aedat(tmp_path / "r.aedat")
    assert got["x"].tolist() == xs and got["y"].tolist() == ys and got["t"].tolist() == ts and got["p"].tolist() == ps


def test_aedat4_layout_decodes_by_hand(tmp_path):
    """AEDAT 4.0: magic line, length-prefixed IOHeader flatbuffer (its description XML names the EVTS
    stream), then packets: stream id, length, a size-prefixed EVTS flatbuffer of 16-byte events."""
    ev = events(*[(i, 2 * i, 100 + i, i % 2) for i in range(5)])
    data = aedat4_bytes(ev, 128, 128)
    assert data.startswith(b"#!AER-DAT4.0\r\n")
    (head_len,) = struct.unpack_from("<I", data, 14)
    head, pos = data[18:18 + head_len], 18 + head_len
    root = struct.unpack_from("<I", head, 0)[0]
    vtable = root - struct.unpack_from("<i", head, root)[0]
    _, _, compression, data_table, description = struct.unpack_from("<5H", head, vtable)
    assert head[4:8] == b"IOHE" and compression == 0 and data_table == 0  # defaults: NONE, no data table
    text = root + description + struct.unpack_from("<I", head, root + description)[0]
    xml = head[text + 4:text + 4 + struct.unpack_from("<I", head, text)[0]].decode()
    assert '<node name="0"' in xml and 'key="typeIdentifier" type="string">EVTS<' in xml and ">128<" in xml
    stream, length = struct.unpack_from("<II", data, pos)
    packet = data[pos + 8:]
    assert stream == 0 and len(packet) == length and struct.unpack_from("<I", packet, 0)[0] == length - 4
    assert packet[8:12] == b"EVTS"
    root = 4 + struct.unpack_from("<I", packet, 4)[0]
    field = struct.unpack_from("<H", packet, root - struct.unpack_from("<i", packet, root)[0] + 4)[0]
    vector = root + field + struct.unpack_from("<I", packet, root + field)[0]
    n = struct.unpack_from("<I", packet, vector)[0]
    assert n == 5 and (vector + 4) % 8 == 0
    records = [struct.unpack_from("<qhh?", packet, vector + 4 + 16 * i) for i in range(n)]
    assert records == [(100 + i, i, 2 * i, bool(i % 2)) for i in range(5)]
    (tmp_path / "r.aedat4").write_bytes(data)
    got = read_aedat(tmp_path / "r.aedat4")  # tonic.io.read_aedat4, i.e. the aedat package
    assert got["t"].tolist() == [r[0] for r in records] and got["p"].tolist() == [i % 2 for i in range(5)]


def test_tonics_aedat4_layout_gives_the_same_frames(roots, tmp_path):
    """CIFAR10-DVS as tonic re-hosts it (.aedat4) reads to the frames of the AEDAT 2.0 originals."""
    tree, tree2 = tmp_path / "c4", tmp_path / "c2"
    for folder in sorted(roots["digits_dvs"].iterdir()):
        for src in sorted(folder.glob("*.aedat"))[:10]:  # ten recordings per class
            for out, data in ((tree, aedat4_bytes(read_aedat(src))), (tree2, src.read_bytes())):
                target = out / folder.name / (src.stem + (".aedat4" if out == tree else ".aedat"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    a, b = load_data("cifar10dvs", tree), load_data("cifar10dvs", tree2)
    assert a.sizes == b.sizes == {"train": 90, "val": 0, "test": 10} and a.image_shape == (10, 2, 48, 48)
    for i in (0, 1, len(a.test) - 1):
        assert torch.equal(a.test[i][0], b.test[i][0]) and a.test[i][1] == b.test[i][1]


def test_frames_count_events():
    ev = events(*[(i % 10, i % 7, i, i % 2) for i in range(103)])
    frames = to_frames(ev, (10, 7), (7, 10), bins=10, split="events")
    assert frames.shape == (10, 2, 7, 10) and frames.dtype == np.int16
    assert frames.sum() == 100 and (frames.reshape(10, -1).sum(1) == 10).all()  # 103 // 10 per frame
    down = to_frames(ev, (10, 7), (3, 5), bins=2, split="time")
    assert down.shape == (2, 2, 3, 5) and down.min() >= 0


# ---------------------------------------------------------------------- stand-ins through the real datasets


@pytest.mark.parametrize("name, shape, n_train, n_test", [
    ("digits_dvs", (10, 2, 32, 32), 600, 400),
    ("digits_ncaltech", (10, 2, 32, 32), 600, 400),
    ("digits_nmnist", (10, 2, 34, 34), 600, 300),
])
def test_standins_load_as_frames(roots, name, shape, n_train, n_test):
    d = load_data(name, roots[name])
    assert d.input_kind == "frames" and d.image_shape == shape and d.in_channels == 2 and d.num_classes == 10
    assert d.sizes == {"train": n_train, "val": 0, "test": n_test} and TRAIN_SIZES[name] == n_train
    assert d.per_class["test"] == [n_test // 10] * 10 and d.per_class["train"] == [n_train // 10] * 10
    xs = torch.stack([d.test[i][0] for i in range(len(d.test))])
    assert xs.shape[1:] == shape and xs.dtype == torch.float32
    assert xs.min() >= 0 and torch.equal(xs, xs.round()) and xs.sum() > 0
    assert (xs.flatten(2).sum(2) > 0).all(), "every frame holds events"
    v = load_data(name, roots[name], val_split=20, seed=1)
    assert v.sizes["val"] == 20 and v.per_class["val"] == [2] * 10


def test_split_is_stratified_seeded_and_stable(roots):
    root = roots["digits_dvs"]
    path = root / "frames" / "split.json"
    first = path.read_bytes()
    split = json.loads(first)
    assert split["seed"] == dvs.SPLIT_SEED and split["test_fraction"] == 0.4  # the stand-in's (registry)
    assert not set(split["train"]) & set(split["test"]) and len(split["train"]) + len(split["test"]) == 1000
    classes = [p.split("/")[0] for p in split["test"]]
    assert sorted(set(classes)) == sorted(dvs.CIFAR10_CLASSES) and all(classes.count(c) == 40 for c in set(classes))
    start = time.perf_counter()
    prepare_dataset("digits_dvs", root)
    assert time.perf_counter() - start < 1.0, "a second conversion is a cache hit"
    assert path.read_bytes() == first
    nm = json.loads((roots["digits_nmnist"] / "frames" / "split.json").read_text())
    assert all(p.startswith("Train/") for p in nm["train"]) and all(p.startswith("Test/") for p in nm["test"])


def test_frame_settings_get_their_own_cache(roots):
    root = roots["digits_nmnist"]
    d = load_data("digits_nmnist", root, frame_bins=4, frame_split="time")
    assert d.image_shape == (4, 2, 34, 34) and (root / "frames" / "time4_34x34" / "meta.json").is_file()
    with pytest.raises(DataError, match="frame_split"):
        load_data("digits_nmnist", root, frame_split="count")


def test_older_or_interrupted_conversion_is_rebuilt(roots, tmp_path, capsys):
    root = tmp_path / "nm"
    shutil.copytree(roots["digits_nmnist"], root)
    cache = root / "frames" / "events10_34x34"
    meta = json.loads((cache / "meta.json").read_text())
    reference = np.load(cache / "frames.npy")
    (cache / "meta.json").write_text(json.dumps(dict(meta, version=0)))
    capsys.readouterr()
    load_data("digits_nmnist", root)
    assert "version=0" in capsys.readouterr().err
    assert np.array_equal(np.load(cache / "frames.npy"), reference)
    (cache / "meta.json").unlink()  # killed after the arrays, before the completion mark
    (cache / ".frames.npy.x.tmp").write_bytes(b"partial")
    load_data("digits_nmnist", root)
    assert "interrupted" in capsys.readouterr().err
    assert not list(cache.glob(".*.tmp")) and json.loads((cache / "meta.json").read_text()) == meta


def test_augmentation_flip_roll_and_temporal_inversion():
    x = torch.arange(10 * 2 * 4 * 5, dtype=torch.float32).reshape(10, 2, 4, 5)
    torch.manual_seed(0)
    seen = {"same": 0, "flip": 0, "invert": 0}
    aug = EventAugment(hflip=True, roll=0, temporal_inversion=True)
    for _ in range(2000):
        y = aug(x)
        key = "same" if torch.equal(y, x) else "flip" if torch.equal(y, x.flip(-1)) else "invert"
        assert key != "invert" or torch.equal(y, x.flip(0, 1))
        seen[key] += 1
    assert abs(seen["invert"] / 2000 - 0.25) < 0.04 and abs(seen["flip"] / 2000 - 0.25) < 0.04
    rolled = EventAugment(hflip=False, roll=2)(x)
    assert any(torch.equal(rolled, x.roll((dy, dx), dims=(-2, -1))) for dy in range(-2, 3) for dx in range(-2, 3))


# ---------------------------------------------------------------------- bad input


def test_truncated_and_foreign_files(tmp_path, roots):
    src = sorted((roots["digits_nmnist"] / "Train" / "0").glob("*.bin"))[0]
    (tmp_path / "cut.bin").write_bytes(src.read_bytes()[:-2])
    with pytest.raises(DataError, match=r"cut\.bin is truncated"):
        read_bin(tmp_path / "cut.bin")
    aedat = sorted((roots["digits_dvs"] / "cat").glob("*.aedat"))[0]
    (tmp_path / "cut.aedat").write_bytes(aedat.read_bytes()[:-3])
    with pytest.raises(DataError, match=r"cut\.aedat is truncated"):
        read_aedat(tmp_path / "cut.aedat")
    (tmp_path / "cut31.aedat").write_bytes(aedat31_bytes(events((1, 1, 1, 1), (2, 2, 2, 0)))[:-5])
    with pytest.raises(DataError, match=r"cut31\.aedat is truncated"):
        read_aedat(tmp_path / "cut31.aedat")
    (tmp_path / "junk.aedat").write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match="not an AEDAT file"):
        read_aedat(tmp_path / "junk.aedat")
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(DataError, match="no events"):
        read_bin(tmp_path / "empty.bin")


def test_empty_class_folder_is_named(roots, tmp_path):
    root = tmp_path / "dvs"
    shutil.copytree(roots["digits_dvs"], root, ignore=shutil.ignore_patterns("frames"))
    for f in (root / "frog").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"frog holds no \.aedat/\.aedat4 recordings"):
        load_data("digits_dvs", root)


def test_wrong_dataset_root_is_recognised(roots, tmp_path):
    with pytest.raises(DataError, match="looks like N-MNIST"):
        load_data("cifar10dvs", roots["digits_nmnist"])
    with pytest.raises(DataError, match="looks like CIFAR10-DVS"):
        load_data("nmnist", roots["digits_dvs"])
    fake = tmp_path / "nm"  # an N-Caltech101 recording where N-MNIST is expected: its events leave 34x34
    big = sorted((roots["digits_ncaltech"] / "Caltech101" / "two").glob("*.bin"))[0]
    for part in ("Train", "Test"):
        for d in range(10):
            (fake / part / str(d)).mkdir(parents=True)
            shutil.copy(big, fake / part / str(d) / "00001.bin")
    with pytest.raises(DataError, match="outside the 34x34 sensor of N-MNIST"):
        load_data("nmnist", fake)


def test_missing_dataset_names_the_path_and_source(tmp_path, monkeypatch):
    monkeypatch.setattr(dvs, "fetch", lambda *a: False)  # as without a network
    with pytest.raises(DataError, match=r"N-MNIST not found: expected Train/.*garrickorchard"):
        prepare_dataset("nmnist", tmp_path / "none")
    with pytest.raises(DataError, match=r"CIFAR10-DVS not found.*figshare"):
        prepare_dataset("cifar10dvs", tmp_path / "none")
    with pytest.raises(DataError, match="prepare digits_dvs"):
        load_data("digits_dvs", tmp_path / "none")


# ---------------------------------------------------------------------- tiny training runs


@pytest.mark.parametrize("name, arch, extra", [
    ("digits_nmnist", "nmnist_net", dict(width=0.5, t_max=4)),
    pytest.param("digits_dvs", "dvs_resnet18", dict(width=1 / 16, t_max=2), marks=pytest.mark.slow),
    pytest.param("digits_ncaltech", "dvs_resnet18", dict(width=1 / 16, t_max=2, temporal_inversion=True),
                 marks=pytest.mark.slow),
])
def test_tiny_training_run(roots, tmp_path, name, arch, extra):
    cfg = RunConfig.from_dict({**FAST, **extra, "dataset": name, "arch": arch, "batch_size": 64,
                               "data_root": str(roots[name])})
    result = train_run(cfg, tmp_path / "run", progress=False, log=lambda msg: None)
    assert set(result["accuracy"]) == {str(T) for T in range(1, cfg.t_max + 1)}
    assert result["data_sizes"]["train"] == load_data(name, roots[name]).sizes["train"]
