"""Temporal configurations: TTM grouping (Eq. 8), the TTM itself, and configuration samplers.

A temporal configuration ``t = (t_1, ..., t_n)`` gives one time step per stage. Between stages
with different time steps a temporal transformation module (TTM, 4.3.1) re-times the spike
train: down-sampling sums groups of adjacent frames, up-sampling copies a frame to every output
frame of its group. Groups follow Eq. 8, ``b_i = round((i-1) * l / k - eps) + 1`` (1-based),
i.e. the boundary ``(i-1) * l / k`` rounded to the nearest integer with ties rounded down.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import torch
from torch import nn

from .errors import TfsnnError


class ConfigError(TfsnnError, ValueError):
    """A temporal configuration that does not fit the network or the allowed range."""


# ----------------------------------------------------------------------------- grouping (Eq. 8)

def group_starts(l: int, k: int) -> list[int]:
    """0-based index of the first frame of each of the ``k`` groups of ``l`` frames (Eq. 8)."""
    if not (1 <= k <= l):
        raise ValueError(f"cannot split {l} frames into {k} groups: need 1 <= k <= l")
    # nearest integer to (i*l)/k with ties rounded down == ceil((2*i*l - k) / (2*k))
    return [-((k - 2 * i * l) // (2 * k)) for i in range(k)]


@functools.lru_cache(maxsize=None)
def _groups(l: int, k: int) -> tuple[tuple[int, ...], ...]:
    starts = group_starts(l, k) + [l]
    return tuple(tuple(range(starts[i], starts[i + 1])) for i in range(k))


def ttm_groups(l: int, k: int) -> list[list[int]]:
    """Partition of frames ``0..l-1`` into ``k`` groups of adjacent frames, as evenly as Eq. 8 allows."""
    return [list(g) for g in _groups(int(l), int(k))]


@functools.lru_cache(maxsize=None)
def _frame_to_group(l: int, k: int) -> tuple[int, ...]:
    """For each of ``l`` frames, the group it falls in when split into ``k`` groups."""
    return tuple(i for i, g in enumerate(_groups(l, k)) for _ in g)


_INDEX_CACHE: dict[tuple[int, int, torch.device], torch.Tensor] = {}


def _index(l: int, k: int, device: torch.device) -> torch.Tensor:
    key = (l, k, device)
    idx = _INDEX_CACHE.get(key)
    if idx is None:
        idx = torch.tensor(_frame_to_group(l, k), dtype=torch.long, device=device)
        _INDEX_CACHE[key] = idx
    return idx


def dense_frame(frame: torch.Tensor) -> bool:
    """True when ``frame`` occupies exactly ``frame.numel()`` consecutive storage elements (any order)."""
    if frame.numel() == 0:
        return False
    expected = 1
    for stride, size in sorted((st, sz) for st, sz in zip(frame.stride(), frame.size()) if sz != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _frames_as_rows(x_seq: torch.Tensor) -> torch.Tensor | None:
    """``x_seq`` ``[T, ...]`` seen as ``[T, S]`` over its storage, when every frame is one dense block."""
    T, frame = x_seq.shape[0], x_seq[0]
    S = frame.numel()
    if x_seq.stride(0) != S or not dense_frame(frame):
        return None
    return x_seq.as_strided((T, S), (S, 1))


def ttm(x_seq: torch.Tensor, t_out: int) -> torch.Tensor:
    """Re-time ``x_seq`` ``[t_in, ...]`` to ``t_out`` frames (4.3.1).

    ``t_out < t_in``: frame ``i`` of the output is the sum of group ``i`` of the ``t_in`` input frames.
    ``t_out > t_in``: output frame ``j`` copies the input frame whose group (of ``t_out`` frames split
    into ``t_in`` groups) contains ``j``. ``t_out == t_in``: the input itself.
    One ``index_add`` or ``index_select`` over whole frames; frames keep their memory layout
    (channels_last stays channels_last).
    """
    t_in = x_seq.shape[0]
    t_out = int(t_out)
    if t_out < 1:
        raise ConfigError(f"a TTM needs at least one output frame, got t_out={t_out}")
    if t_out == t_in:
        return x_seq
    rows = _frames_as_rows(x_seq)
    src = rows if rows is not None else x_seq
    if t_out < t_in:
        idx = _index(t_in, t_out, x_seq.device)
        out = src.new_zeros((t_out,) + tuple(src.shape[1:])).index_add(0, idx, src)
    else:
        out = src.index_select(0, _index(t_out, t_in, x_seq.device))
    if rows is None:
        return out
    frame = x_seq[0]
    return out.as_strided((t_out,) + tuple(frame.shape), (frame.numel(),) + tuple(frame.stride()))


class TTM(nn.Module):
    """Temporal transformation module at the start of a stage: ``forward(x_seq, t_out)``."""

    def forward(self, x_seq: torch.Tensor, t_out: int) -> torch.Tensor:
        return ttm(x_seq, t_out)


# ----------------------------------------------------------------------------- configurations

def format_config(t: Sequence[int]) -> str:
    """``(3, 2, 2)`` -> ``"3,2,2"``."""
    return ",".join(str(int(v)) for v in t)


def parse_config(text: str | Sequence[int] | int, n_stages: int | None = None) -> tuple[int, ...]:
    """Parse ``"3,2,2,3,5,3,6,2"`` (or a sequence); a single ``T`` means uniform ``T`` when ``n_stages`` is given."""
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, str):
        parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise ConfigError(f"temporal configuration {text!r} is not a comma-separated list of integers, "
                              f"e.g. '3,2,2,3,5,3,6,2'") from None
    else:
        values = [int(v) for v in text]
    if not values:
        raise ConfigError("empty temporal configuration; give one time step per stage, e.g. '3,2,2,3'")
    if n_stages is not None and len(values) == 1:
        values = values * n_stages
    t = tuple(values)
    if n_stages is not None:
        check_config(t, n_stages)
    return t


def check_config(t: Sequence[int], n_stages: int, t_min: int = 1, t_max: int | None = None) -> tuple[int, ...]:
    """Raise :class:`ConfigError` unless ``t`` has one entry per stage, each in ``[t_min, t_max]``."""
    t = tuple(int(v) for v in t)
    if len(t) != n_stages:
        raise ConfigError(f"temporal configuration {format_config(t)} has {len(t)} entries but the network "
                          f"has {n_stages} stages; give exactly one time step per stage")
    hi = "inf" if t_max is None else t_max
    bad = [v for v in t if v < t_min or (t_max is not None and v > t_max)]
    if bad:
        raise ConfigError(f"temporal configuration {format_config(t)} has time step(s) {bad} outside "
                          f"[{t_min}, {hi}]; use values in that range")
    return t


def uniform(T: int, n_stages: int) -> tuple[int, ...]:
    return (int(T),) * n_stages


# ----------------------------------------------------------------------------- samplers

class ConfigSampler:
    """Draws temporal configurations from its own seeded generator (state is checkpointable).

    ``fixed``: every draw is the same configuration and uses no random numbers (SDT), so an iteration's
    ``s`` passes are one pass repeated (:func:`tfsnn.engine.train_one_epoch` computes it once).
    """

    fixed = False

    def __init__(self, n_stages: int, seed: int = 0):
        self.n_stages = int(n_stages)
        self.generator = torch.Generator().manual_seed(int(seed))

    def sample(self) -> tuple[int, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _randint(self, lo: int, hi: int, n: int) -> list[int]:
        """``n`` integers uniform in ``[lo, hi]``."""
        return torch.randint(lo, hi + 1, (n,), generator=self.generator).tolist()

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class FixedSampler(ConfigSampler):
    """SDT: the same uniform configuration every time."""

    fixed = True

    def __init__(self, n_stages: int, T: int, seed: int = 0):
        super().__init__(n_stages, seed)
        self.T = int(T)

    def sample(self) -> tuple[int, ...]:
        return uniform(self.T, self.n_stages)


class StageSampler(ConfigSampler):
    """MTT with granularity ``g``: one ``T`` uniform in ``[t_min, t_max]`` per group of ``g`` adjacent stages.

    ``g = 1`` is MTT, ``g >= n_stages`` is NMT (one ``T`` for the whole network).
    """

    def __init__(self, n_stages: int, t_min: int, t_max: int, g: int = 1, seed: int = 0):
        super().__init__(n_stages, seed)
        if not (1 <= t_min <= t_max):
            raise ConfigError(f"need 1 <= t_min <= t_max, got t_min={t_min}, t_max={t_max}")
        if g < 1:
            raise ConfigError(f"granularity g must be at least 1, got {g}")
        self.t_min, self.t_max, self.g = int(t_min), int(t_max), int(g)

    def sample(self) -> tuple[int, ...]:
        n_groups = math.ceil(self.n_stages / self.g)
        values = self._randint(self.t_min, self.t_max, n_groups)
        return tuple(values[i // self.g] for i in range(self.n_stages))


class MonotoneSampler(ConfigSampler):
    """Sequence tasks (A.12): first stage at the input's length, later stages non-increasing."""

    def __init__(self, n_stages: int, t_in: int, t_min: int = 1, seed: int = 0):
        super().__init__(n_stages, seed)
        if not (1 <= t_min <= t_in):
            raise ConfigError(f"need 1 <= t_min <= t_in, got t_min={t_min}, t_in={t_in}")
        self.t_in, self.t_min = int(t_in), int(t_min)

    def sample(self) -> tuple[int, ...]:
        rest = sorted(self._randint(self.t_min, self.t_in, self.n_stages - 1), reverse=True)
        return (self.t_in, *rest)


METHODS = ("sdt", "nmt", "mtt")


def make_sampler(method: str, n_stages: int, t_max: int, t_min: int = 1, g: int = 1,
                 monotone: bool = False, seed: int = 0) -> ConfigSampler:
    """The training sampler of a method: ``sdt`` (fixed ``t_max``), ``nmt`` or ``mtt`` (granularity ``g``).

    With ``monotone=True`` (sequence tasks) ``mtt``/``nmt`` draw non-increasing configurations whose first
    entry is ``t_max``, the input's length.
    """
    if method == "sdt":
        return FixedSampler(n_stages, t_max, seed)
    if method not in METHODS:
        raise ConfigError(f"unknown training method {method!r}; choose one of {', '.join(METHODS)}")
    if monotone:
        return MonotoneSampler(n_stages, t_max, t_min, seed)
    return StageSampler(n_stages, t_min, t_max, n_stages if method == "nmt" else g, seed)


def is_monotone(t: Sequence[int]) -> bool:
    return all(a >= b for a, b in zip(t, t[1:]))
