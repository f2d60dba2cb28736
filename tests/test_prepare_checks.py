"""``prepare`` says "ready" only for whole source files: a damaged stand-in file is named with how to
regenerate it; real data is read in full (or, for image trees, each image's header and end marker)."""
import json
import shutil

import pytest

from test_cli import one_line_error
from test_train import cli
from tfsnn.data import imagenet, prepare_dataset
from tfsnn.errors import DataError


def cut(path, n):
    path.write_bytes(path.read_bytes()[:-n])


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    base = tmp_path_factory.mktemp("standins")
    return {name: prepare_dataset(name, base / name)
            for name in ("digits_seqmnist", "digits_nmnist", "digits_shd", "digits_imagenet")}


def copy(root, tmp_path):
    out = tmp_path / root.name
    shutil.copytree(root, out)
    return out


def test_truncated_standin_batch_stops_prepare(tmp_path, digits10_root):
    root = copy(digits10_root, tmp_path)
    cut(root / "cifar-10-batches-py" / "data_batch_3", 1000)
    r = cli("prepare", "digits10", "--root", root)
    one_line_error(r, rf"{root}/cifar-10-batches-py/data_batch_3 is missing, truncated or changed since the "
                      rf"digits10 stand-in was generated; delete {root} and run .*prepare digits10")
    assert "ready" not in r.stdout
    shutil.rmtree(root)  # the fix the message names
    prepare_dataset("digits10", root)


# (stand-in, damaged file, bytes cut): an idx file, a .bin recording cut by whole 5-byte events (it still
# parses), an HDF5 spike file, a JPEG image
DAMAGE = [("digits_seqmnist", "MNIST/raw/t10k-images-idx3-ubyte", 10),
          ("digits_nmnist", "Train/3/00180.bin", 50),
          ("digits_shd", "shd_test.h5", 100),
          ("digits_imagenet", "val/digit_7/00210.JPEG", 100)]


@pytest.mark.parametrize("name, rel, n", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_standin_file_is_named(standins, tmp_path, name, rel, n):
    root = copy(standins[name], tmp_path)
    cut(root / rel, n)
    with pytest.raises(DataError, match=rf"{root / rel} is missing, truncated or changed since the {name} "
                                        rf"stand-in was generated; delete {root}"):
        prepare_dataset(name, root)


def test_standin_without_digests_is_read_as_before(standins, tmp_path):
    """A stand-in generated before digests were recorded is checked by reading it."""
    root = copy(standins["digits_seqmnist"], tmp_path)
    manifest = json.loads((root / "standin.json").read_text())
    del manifest["digests"]
    (root / "standin.json").write_text(json.dumps(manifest))
    prepare_dataset("digits_seqmnist", root)
    cut(root / "MNIST" / "raw" / "train-labels-idx1-ubyte", 3)
    with pytest.raises(DataError, match="train idx files in .* cannot be read"):
        prepare_dataset("digits_seqmnist", root)


def test_image_tree_images_are_checked(standins, tmp_path):
    """The ImageNet reader (here on the stand-in's tree) opens every image and finds truncated JPEGs."""
    root = copy(standins["digits_imagenet"], tmp_path)
    imagenet.prepare(root, 10, "digits_imagenet", 128, 146)
    image = root / "train" / "digit_4" / "00240.JPEG"
    cut(image, 200)
    with pytest.raises(DataError, match=rf"{image} is truncated \(it lacks the JPEG end-of-image marker\)"):
        imagenet.prepare(root, 10, "digits_imagenet", 128, 146)
    image.write_bytes(b"not an image")
    with pytest.raises(DataError, match=rf"{image} is not a readable image"):
        imagenet.prepare(root, 10, "digits_imagenet", 128, 146)


def test_fashion_idx_file_shorter_than_its_header(tmp_path, monkeypatch):
    import struct

    from tfsnn.data import fashion

    monkeypatch.setattr(fashion, "SYSTEM_DIR", tmp_path / "none")
    raw = fashion.raw_folder(tmp_path / "f")
    raw.mkdir(parents=True)
    for name, (magic, n) in fashion.FILES.items():  # the right headers, but only the first 100 samples
        images = magic == 2051
        head = struct.pack(">IIII", magic, n, 28, 28) if images else struct.pack(">II", magic, n)
        (raw / name).write_bytes(head + bytes(100 * 784 if images else 100))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte is damaged \(78416 bytes, its header promises "
                                        r"47040016\); delete it"):
        fashion.prepare_fashion(tmp_path / "f", download=False)


def _table(stdout):
    """{dataset: (root, files, targets)} of `prepare list --preset`'s table."""
    lines = stdout.split("\n\n")[0].splitlines()[2:]
    return {cells[0]: (cells[1], cells[2], cells[3:]) for cells in (line.split() for line in lines)}


def _fake_fashion(root):
    """The four idx files with Fashion-MNIST's headers, sparse: present as far as a check that reads nothing goes."""
    import os
    import struct

    from tfsnn.data import fashion

    raw = fashion.raw_folder(root)
    raw.mkdir(parents=True)
    for name, (magic, n) in fashion.FILES.items():
        images = magic == 2051
        (raw / name).write_bytes(struct.pack(">IIII", magic, n, 28, 28) if images else struct.pack(">II", magic, n))
        os.truncate(raw / name, 16 + n * 784 if images else 8 + n)


def prepare_list(capsys, preset):
    from tfsnn.cli import main

    rc = main(["prepare", "list", "--preset", preset])
    out, err = capsys.readouterr()
    return rc, out, err


def test_prepare_list_preset_names_what_each_target_needs(tmp_path, monkeypatch, capsys, digits10_root):
    monkeypatch.chdir(tmp_path)  # relative roots: data/... below here
    rc, out, err = prepare_list(capsys, "mini")
    assert rc == 0, err
    rows = _table(out)
    assert "table4" in rows["cifar10dvs"][2] and "table4" in rows["ncaltech101"][2]
    assert rows["fashion10"][:2] == ("data/fashion", "missing") and "table5" in rows["fashion10"][2]
    assert rows["shd"] == ("data/shd", "missing", ["table15"])
    assert "- shd: Spiking Heidelberg Digits not found: expected data/shd/shd_train.h5" in out
    assert "- fashion10: Fashion-MNIST " in out
    _fake_fashion(tmp_path / "data" / "fashion")
    rows = _table(prepare_list(capsys, "mini")[1])
    assert rows["fashion10"][1] == rows["fashion100"][1] == "present" and rows["nmnist"][1] == "missing"
    (tmp_path / "data" / "digits10").symlink_to(digits10_root)
    out = prepare_list(capsys, "smoke")[1]
    rows = _table(out)
    assert rows["digits10"][:2] == ("data/digits10", "present") and rows["digits100"][1] == "missing"
    assert "- digits100: the digits100 stand-in is not in data/digits100; run `python -m tfsnn prepare" in out
    rc, _, err = prepare_list(capsys, "huge")
    assert rc == 2 and err == "tfsnn: error: no preset 'huge': give smoke, mini, paper or a preset's YAML file\n"
