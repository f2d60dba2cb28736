"""Event-camera stand-ins: scikit-learn's digits seen by a simulated event sensor, in the publishers' formats.

As N-MNIST was recorded from MNIST (Orchard et al. 2015), each digit (8x8, upscaled bilinearly, varied
by a seeded draw of ``variation.py`` at half strength, its contrast steepened by ``sharpen``) is moved
over the sensor along N-MNIST's three saccades (a triangle: +(a/2, a), +(a/2, -a), -(a, 0), 100 ms
each), from a random start with a random amplitude (``motion``). Every one-pixel step a pixel emits one
ON (OFF) event per contrast threshold its log intensity has risen (fallen) since its last event,
timestamped uniformly within the step; a few background-noise events are added. The recordings are
written by the writers below and read back only by the real datasets' readers (``events.py``, i.e.
tonic's), through the same conversion. The AEDAT 3.1 and 4.0 writers serve the tests of those readers'
other branches.

| stand-in        | role         | format (writer)              | layout                                     |
|-----------------|--------------|------------------------------|--------------------------------------------|
| digits_dvs      | CIFAR10-DVS  | AEDAT 2.0, DVS128 128 x 128  | ``<cifar class>/<n>.aedat``                 |
| digits_ncaltech | N-Caltech101 | ``.bin``, 240 x 180          | ``Caltech101/<digit name>/image_<n>.bin``   |
| digits_nmnist   | N-MNIST      | ``.bin``, 34 x 34            | ``Train/<digit>/<n>.bin``, ``Test/...``     |

Each recording comes from its own source image, so train and test never share one: N-MNIST's
Train/Test folders come from the digits' seeded train/test split, and the 9:1 split of the other
two is a split of distinct images.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import atomic_path, write_json
from .dvs import CIFAR10_CLASSES
from .standins import clear_generated, current_manifest, digit_intensities, standin_sources, written_digests
from .variation import vary

GENERATOR_VERSION = 2  # bump when the written bytes change
SACCADES = ((0.5, 1.0), (0.5, -1.0), (-1.0, 0.0))  # N-MNIST's saccade legs (x, y), in units of the amplitude
LEG_US = 100_000
STEP_PX = 1.0  # sensor pixels the digit moves between two updates of the simulated pixels
THRESHOLD = 0.75  # log-intensity contrast per event
BACKGROUND = 0.1  # screen intensity where the digit is dark
SHARPEN = 4.0  # contrast gain of the upscaled digits (sharpen)
NOISE_EVENTS = 20  # mean number of background-activity events per recording
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


# ---------------------------------------------------------------------------------- the sensor


def _log_view(img: np.ndarray, width: int, height: int, x: float, y: float) -> np.ndarray:
    """Log intensity of the sensor with ``img`` placed at sub-pixel offset (x, y), bilinearly."""
    h, w = img.shape
    ix, iy = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - ix, y - iy
    spread = np.zeros((h + 1, w + 1))
    spread[:h, :w] += (1 - fx) * (1 - fy) * img
    spread[:h, 1:] += fx * (1 - fy) * img
    spread[1:, :w] += (1 - fx) * fy * img
    spread[1:, 1:] += fx * fy * img
    canvas = np.zeros((height, width))
    canvas[iy:iy + h + 1, ix:ix + w + 1] = spread
    return np.log(BACKGROUND + (1 - BACKGROUND) * canvas)


def saccade_events(img: np.ndarray, sensor_width: int, sensor_height: int, origin: tuple[float, float],
                   amplitude: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Events (x, y, t in us, p with 1 = ON), time-ordered, of ``img`` (values in [0, 1]) moved along the
    saccades from ``origin`` (its top-left corner on the sensor)."""
    # only the pixels the digit passes over can change: simulate that window of the sensor
    path = np.cumsum([(0.0, 0.0)] + [np.array(leg) * amplitude for leg in SACCADES], axis=0) + origin
    x0, y0 = np.floor(path.min(0)).astype(int)
    x1, y1 = np.ceil(path.max(0)).astype(int) + (img.shape[1] + 1, img.shape[0] + 1)
    if x0 < 0 or y0 < 0 or x1 > sensor_width or y1 > sensor_height:
        raise ValueError(f"a {img.shape} digit at {origin} with saccades of {amplitude} px leaves the sensor")
    width, height = x1 - x0, y1 - y0
    pos = np.array(origin, dtype=float) - (x0, y0)
    ref = _log_view(img, width, height, *pos)
    xs, ys, ts, ps = [], [], [], []
    t_start = 0.0
    for leg in SACCADES:
        move = np.array(leg) * amplitude
        steps = int(np.ceil(np.abs(move).max() / STEP_PX))
        for k in range(1, steps + 1):
            cur = _log_view(img, width, height, *(pos + move * k / steps))
            n = np.floor(np.abs(cur - ref) / THRESHOLD).astype(np.int64)
            yy, xx = np.nonzero(n)
            counts = n[yy, xx]
            sign = np.sign(cur - ref)[yy, xx]
            ref[yy, xx] += sign * counts * THRESHOLD
            t0, t1 = t_start + LEG_US * (k - 1) / steps, t_start + LEG_US * k / steps
            xs.append(np.repeat(xx, counts))
            ys.append(np.repeat(yy, counts))
            ps.append(np.repeat(sign > 0, counts).astype(np.int64))
            ts.append(rng.uniform(t0, t1, int(counts.sum())))
        pos = pos + move
        t_start += LEG_US
    xs, ys = [np.concatenate(xs) + x0], [np.concatenate(ys) + y0]
    n_noise = rng.poisson(NOISE_EVENTS)
    xs.append(rng.integers(0, sensor_width, n_noise))
    ys.append(rng.integers(0, sensor_height, n_noise))
    ps.append(rng.integers(0, 2, n_noise))
    ts.append(rng.uniform(0, t_start, n_noise))
    ev = {"x": np.concatenate(xs), "y": np.concatenate(ys), "t": np.concatenate(ts).astype(np.int64),
          "p": np.concatenate(ps)}
    order = np.argsort(ev["t"], kind="stable")
    return {k: v[order] for k, v in ev.items()}


# ---------------------------------------------------------------------------------- the writers


def bin_bytes(ev: dict[str, np.ndarray]) -> bytes:
    """N-MNIST / N-Caltech101 ``.bin``: 40 bits per event, x | y | polarity (1 bit) | timestamp (23 bits)."""
    t = ev["t"].astype(np.int64)
    if t.max(initial=0) >= 1 << 23 or ev["y"].max(initial=0) >= 240:  # y = 240 marks a timestamp overflow
        raise ValueError("the .bin writer takes timestamps below 2**23 us and y below 240")
    out = np.empty((len(t), 5), dtype=np.uint8)
    out[:, 0] = ev["x"]
    out[:, 1] = ev["y"]
    out[:, 2] = (ev["p"].astype(np.int64) << 7) | ((t >> 16) & 0x7F)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    return out.tobytes()


def aedat2_bytes(ev: dict[str, np.ndarray]) -> bytes:
    """AEDAT 2.0 with DVS128 addresses, oriented so that ``events.read_aedat`` returns ``ev`` again."""
    head = (b"#!AER-DAT2.0\r\n"
            b"# tfsnn digits stand-in for CIFAR10-DVS: DVS128 addresses (bits 14-8, 7-1, 0 = polarity)\r\n"
            b"# each event: int32 address, int32 timestamp in us, big-endian\r\n")
    address = ((127 - ev["x"].astype(np.int64)) << 8) | ((127 - ev["y"].astype(np.int64)) << 1) \
        | (1 - ev["p"].astype(np.int64))
    body = np.empty(len(address), dtype=[("address", ">i4"), ("t", ">i4")])
    body["address"], body["t"] = address, ev["t"]
    return head + body.tobytes()


def aedat31_bytes(ev: dict[str, np.ndarray], packet_events: int = 4096) -> bytes:
    """AEDAT 3.1: header lines, then packets of a 28-byte header and 8-byte polarity events."""
    head = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
            b"#Start-Time: 2019-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n")
    word = (ev["x"].astype(np.int64) << 17) | (ev["y"].astype(np.int64) << 2) | (ev["p"].astype(np.int64) << 1) | 1
    chunks = [head]
    for start in range(0, len(word), packet_events):
        n = min(packet_events, len(word) - start)
        # type 1 (polarity), source 1, event size 8, timestamp offset 4, overflow 0, capacity, number, valid
        chunks.append(struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, n, n, n))
        body = np.empty(n, dtype=[("data", "<u4"), ("t", "<i4")])
        body["data"], body["t"] = word[start:start + n], ev["t"][start:start + n]
        chunks.append(body.tobytes())
    return b"".join(chunks)


def aedat4_bytes(ev: dict[str, np.ndarray], width: int = 128, height: int = 128) -> bytes:
    """AEDAT 4.0 (the layout of tonic's CIFAR10-DVS copy), uncompressed, one event stream, one packet.

    ``#!AER-DAT4.0\r\n``, the IOHeader flatbuffer (length-prefixed; its description is the XML that
    names stream 0 an ``EVTS`` stream of ``width`` x ``height``), then a packet: stream id and length
    (u32 each), and a size-prefixed ``EVTS`` flatbuffer whose ``elements`` vector holds 16-byte
    events (int64 t, int16 x, int16 y, bool on, 3 padding bytes), 8-byte aligned.
    """
    xml = ('<dv version="2.0"><node name="outInfo" path="/outInfo/"><node name="0" path="/outInfo/0/">'
           '<attr key="compression" type="string">NONE</attr><attr key="typeIdentifier" type="string">EVTS</attr>'
           f'<node name="info" path="/outInfo/0/info/"><attr key="sizeX" type="int">{width}</attr>'
           f'<attr key="sizeY" type="int">{height}</attr></node></node></node></dv>').encode()
    # IOHeader: root offset 20, "IOHE"; vtable at 8 (3 fields, only the description set); table at 20; string at 28
    head = struct.pack("<I4s5H2x", 20, b"IOHE", 10, 8, 0, 0, 4) + struct.pack("<iII", 12, 4, len(xml)) + xml + b"\0"
    head += b"\0" * (-len(head) % 4)
    n = len(ev["t"])
    events = np.zeros(n, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "u1"), ("pad", "V3")])
    events["t"], events["x"], events["y"], events["on"] = ev["t"], ev["x"], ev["y"], ev["p"]
    # EventPacket after its size prefix: root offset 16, "EVTS"; vtable at 8; table at 16; vector at 24, elements at 28
    packet = struct.pack("<I4s3H2x", 16, b"EVTS", 6, 8, 4) + struct.pack("<iII", 8, 4, n) + events.tobytes()
    packet = struct.pack("<I", len(packet)) + packet
    return (b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(head)) + head
            + struct.pack("<II", 0, len(packet)) + packet)


# ---------------------------------------------------------------------------------- the stand-ins


@dataclass(frozen=True)
class Role:
    sensor: tuple[int, int]  # width, height
    digit: tuple[int, int]  # height, width of the upscaled digit on the sensor
    amplitude: float  # saccade amplitude in sensor pixels (each recording draws 0.75 ... 1.25 times it)
    per_class: tuple[int, int]  # distinct source digits per class, from the digits' (train, test) split
    official_split: bool  # Train/ and Test/ folders from the digits' split; else one pool the reader splits
    purpose: int  # generator stream of the role's variations and motions
    strength: float = 0.5  # of the variation (variation.py): the sensor's motion varies the recordings too


ROLES = {
    "digits_dvs": Role((128, 128), (100, 100), 8.0, (70, 30), False, 11),
    "digits_ncaltech": Role((240, 180), (160, 160), 8.0, (70, 30), False, 12),
    "digits_nmnist": Role((34, 34), (24, 24), 4.0, (60, 30), True, 13),
}


def sharpen(images: np.ndarray, gain: float = SHARPEN) -> np.ndarray:
    """Steeper edges: an 8x8 digit upscaled bilinearly has ramps many sensor pixels wide, over which a moving
    edge fires sparse, smeared events; ``gain`` times the contrast about mid-grey, clipped, gives strokes with
    edges a few pixels wide, as printed digits on a monitor have."""
    return np.clip(0.5 + gain * (images - 0.5), 0.0, 1.0)


def motion(role: Role, rng: np.random.Generator) -> tuple[tuple[float, float], float]:
    """A recording's saccade amplitude and the digit's top-left corner, anywhere the three saccades
    keep it on the sensor (they reach ``amplitude`` to the right and down of the start)."""
    amplitude = role.amplitude * rng.uniform(0.75, 1.25)
    (width, height), (h, w) = role.sensor, role.digit
    room_x, room_y = width - w - 1 - np.ceil(amplitude), height - h - 1 - np.ceil(amplitude)
    return (float(rng.uniform(0, room_x)), float(rng.uniform(0, room_y))), amplitude


def _path(name: str, root: Path, label: int, n: int, part: str) -> Path:
    if name == "digits_dvs":
        return root / CIFAR10_CLASSES[label] / f"{n:04d}.aedat"
    if name == "digits_ncaltech":
        return root / "Caltech101" / DIGIT_NAMES[label] / f"image_{n:04d}.bin"
    return root / part / str(label) / f"{n:05d}.bin"


def _top_folders(name: str, root: Path) -> list[Path]:
    if name == "digits_dvs":
        return [root / c for c in CIFAR10_CLASSES]
    return [root / "Caltech101"] if name == "digits_ncaltech" else [root / "Train", root / "Test"]


def make_event_standin(root: str | Path, name: str, seed: int = 0) -> dict:
    """Write the event stand-in ``name`` under ``root`` (skipped when its manifest matches); returns the manifest."""
    role, root = ROLES[name], Path(root)
    manifest_path = root / "standin.json"
    wanted = {"dataset": name, "seed": seed, "generator_version": GENERATOR_VERSION}
    if (manifest := current_manifest(root, wanted)) is not None:
        return manifest
    clear_generated(root, name, _top_folders(name, root))
    sources = standin_sources(seed, role.per_class)
    jobs = [("Train", s) for s in sources["train"]] + [("Test", s) for s in sources["test"]]
    digits = digit_intensities(seed)[[i for _, (i, _) in jobs]]
    variation = np.random.default_rng([seed, role.purpose])
    images = sharpen(vary(digits, role.digit, variation, role.strength, noise=False).numpy())
    rng = np.random.default_rng(seed)
    width, height = role.sensor
    writer = aedat2_bytes if name == "digits_dvs" else bin_bytes
    counts: dict[str, list[int]] = {}
    for n, ((part, (_, label)), image) in enumerate(zip(jobs, images)):
        origin, amplitude = motion(role, variation)
        ev = saccade_events(image, width, height, origin, amplitude, rng)
        with atomic_path(_path(name, root, label, n, part)) as tmp:
            tmp.write_bytes(writer(ev))
        counts.setdefault(part.lower() if role.official_split else "all", [0] * 10)[label] += 1
    manifest = dict(wanted, sensor=list(role.sensor), per_class=counts,
                    digests=written_digests(root, _top_folders(name, root)))
    write_json(manifest_path, manifest)
    return manifest
