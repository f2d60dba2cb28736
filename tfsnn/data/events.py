"""Event files in their publishers' formats, read with tonic's readers, and turned into frames.

Formats (timestamps in microseconds):

- ``.bin``, N-MNIST and N-Caltech101 (Orchard et al. 2015, https://www.garrickorchard.com/datasets):
  5 bytes (40 bits) per event, big-endian: x (8 bits), y (8 bits), polarity (1 bit, 1 = ON),
  timestamp (23 bits). Read by ``tonic.io.read_mnist_file``.
- ``.aedat`` version 2.0, jAER's format, in which CIFAR10-DVS was released on figshare (Li et al.
  2017; https://docs.inivation.com/software/software-advanced-usage/file-formats/aedat-2.0.html):
  header lines that start with ``#`` and end in CRLF, the first ``#!AER-DAT2.0``; then 8-byte
  events, a 32-bit address and a 32-bit timestamp, big-endian. DVS128 address: bits 14-8 and 7-1
  the two coordinates, bit 0 the polarity.
- ``.aedat`` version 3.1, cAER's format (.../aedat-3.1.html): header lines up to ``#!END-HEADER``,
  then packets: a 28-byte little-endian header (type, source, event size, timestamp offset,
  timestamp overflow, capacity, number, valid) and ``capacity`` 8-byte polarity events, a 32-bit
  word (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x) and a 32-bit timestamp.
- ``.aedat4``, AEDAT 4.0 (DV), the layout of tonic's re-hosted CIFAR10-DVS, read by
  ``tonic.io.read_aedat4`` (which needs the ``aedat`` package).

Versions 2.0 and 3.1 are read by tonic's ``read_aedat_header_from_file`` and
``get_aer_events_from_file``; the address words are decoded here, because tonic 1.7's
``read_dvs_128`` fails to unpack the header tuple it reads. Frames come from
``tonic.transforms.ToFrame``.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..errors import DataError

EVENTS = np.dtype([("x", np.int32), ("y", np.int32), ("t", np.int64), ("p", np.int8)])
BIN_EVENT_BYTES = 5
AEDAT_MAGIC = b"#!AER-DAT"
AEDAT2_EVENT_BYTES = 8
AEDAT3_PACKET_HEADER = 28
AEDAT3_POLARITY = 1  # event type of polarity packets
DVS128_MAX = 127
FRAME_SPLITS = {"events": "n_event_bins", "time": "n_time_bins"}


def _nonempty(events: np.ndarray, path: Path) -> np.ndarray:
    if len(events) == 0:
        raise DataError(f"{path} holds no events; download or extract that file again")
    return events


def read_bin(path: Path) -> np.ndarray:
    """Events of an N-MNIST / N-Caltech101 ``.bin`` file."""
    from tonic.io import read_mnist_file

    size = path.stat().st_size
    if size % BIN_EVENT_BYTES:
        raise DataError(f"{path} is truncated ({size} bytes is not a whole number of 5-byte events); "
                        f"download or extract it again")
    return _nonempty(read_mnist_file(str(path), dtype=EVENTS), path)


def aedat_version(path: Path) -> float:
    """The AEDAT version of the file's first header line ``#!AER-DATx.y``."""
    with open(path, "rb") as f:
        head = f.readline(64)
    try:
        if not head.startswith(AEDAT_MAGIC):
            raise ValueError
        return float(head[len(AEDAT_MAGIC):].strip().decode())
    except (ValueError, UnicodeDecodeError):
        raise DataError(f"{path} does not start with an '#!AER-DATx.y' line, so it is not an AEDAT file; "
                        f"download or extract it again") from None


def _check_aedat3_packets(path: Path, start: int) -> None:
    """Every packet whole and of polarity events, which is all tonic's 3.x reader understands."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = start
        while pos < size:
            f.seek(pos)
            head = f.read(AEDAT3_PACKET_HEADER)
            if len(head) < AEDAT3_PACKET_HEADER:
                break
            etype, _, esize, _, _, capacity = struct.unpack("<hhiiii", head[:20])
            if etype != AEDAT3_POLARITY or esize != AEDAT2_EVENT_BYTES:
                raise DataError(f"{path} holds a packet of event type {etype} (size {esize}) at byte {pos}; "
                                f"only polarity events can be read, so export the DVS events alone")
            pos += AEDAT3_PACKET_HEADER + capacity * esize
        if pos != size:
            raise DataError(f"{path} is truncated (its last AEDAT 3.1 packet ends past byte {size}); "
                            f"download or extract it again")


def read_aedat(path: Path) -> np.ndarray:
    """Events of an AEDAT 2.0, 3.1 or 4.0 file.

    AEDAT 2.0 (CIFAR10-DVS as published) is oriented as SpikingJelly reads it, which the SNN
    literature's CIFAR10-DVS frames follow: x = 127 - (bits 14-8), y = 127 - (bits 7-1),
    polarity = 1 - bit 0. AEDAT 3.1 and 4.0 events are taken as the file states them.
    """
    version = aedat_version(path)
    if version >= 4:
        return _read_aedat4(path)
    from tonic.io import get_aer_events_from_file, read_aedat_header_from_file

    version, start, _ = read_aedat_header_from_file(str(path))
    if 2 <= version < 3:
        if (path.stat().st_size - start) % AEDAT2_EVENT_BYTES:
            raise DataError(f"{path} is truncated (its events are not a whole number of 8-byte records); "
                            f"download or extract it again")
    elif version > 3:
        _check_aedat3_packets(path, start)
    else:
        raise DataError(f"{path} is AEDAT {version}, which cannot be read; convert it to AEDAT 2.0, 3.1 or 4.0")
    raw = get_aer_events_from_file(str(path), version, start)
    address = raw["address"].astype(np.int64)
    events = np.empty(len(raw), EVENTS)
    events["t"] = raw["timeStamp"]
    if version < 3:
        events["x"] = DVS128_MAX - ((address >> 8) & 0x7F)
        events["y"] = DVS128_MAX - ((address >> 1) & 0x7F)
        events["p"] = 1 - (address & 1)
    else:
        events["x"] = (address >> 17) & 0x7FFF
        events["y"] = (address >> 2) & 0x7FFF
        events["p"] = (address >> 1) & 1
    return _nonempty(events, path)


def _read_aedat4(path: Path) -> np.ndarray:
    try:
        from tonic.io import read_aedat4

        raw = read_aedat4(str(path))
    except ImportError:
        raise DataError("reading AEDAT 4.0 files needs the 'aedat' package; pip install aedat==2.3.0") from None
    except Exception as e:  # the decoder reports damage with its own exception types
        raise DataError(f"{path} cannot be decoded as AEDAT 4.0 ({e}); download or extract it again") from None
    events = np.empty(len(raw), EVENTS)
    events["t"], events["x"], events["y"] = raw["t"], raw["x"], raw["y"]
    events["p"] = raw[raw.dtype.names[3]]  # "on" in the aedat package
    return _nonempty(events, path)


def to_frames(events: np.ndarray, sensor: tuple[int, int], size: tuple[int, int], bins: int,
              split: str = "events") -> np.ndarray:
    """Event counts ``[bins, 2, H, W]`` (int16) of ``events`` (fields or keys x, y, t, p) from a ``sensor``
    (width, height).

    Coordinates are scaled to ``size`` (H, W) by ``floor(x * W / width)``, so every event lands in
    exactly one output pixel and the frames stay integer counts. ``split="events"``: ``bins`` slices
    of an equal number of events (SpikingJelly's usual ``split_by='number'``); ``"time"``: slices of
    equal duration. tonic drops the remainder (fewer than ``bins`` events, or the last time tick).
    """
    from tonic.transforms import ToFrame

    width, height = sensor
    h, w = size
    ev = np.empty(len(events["t"]), EVENTS)
    ev["x"] = events["x"].astype(np.int64) * w // width
    ev["y"] = events["y"].astype(np.int64) * h // height
    ev["t"], ev["p"] = events["t"], events["p"]
    ev = ev[np.argsort(ev["t"], kind="stable")]
    frames = ToFrame(sensor_size=(w, h, 2), **{FRAME_SPLITS[split]: bins})(ev)
    return np.asarray(frames, dtype=np.int16)
