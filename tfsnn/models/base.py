"""A temporally flexible SNN: stages that each run their own number of time steps.

``TemporalNet(x, t)`` runs stage ``i`` at ``t[i]`` steps; a TTM at the start of every stage but the
first re-times the spike train from ``t[i-1]`` to ``t[i]`` (identity where they are equal). The
first stage includes the stem and sees the input encoded over ``t[0]`` steps:

- ``"static"`` images ``[B, C, H, W]`` are repeated ``t[0]`` times (direct encoding);
- ``"frames"`` inputs ``[B, F, C, H, W]`` (event frames) contribute their first ``t[0]`` frames; with a
  :class:`~tfsnn.models.layers.FrameStem` first stage the stem's conv-BN sees all F frames and the
  first ``t[0]`` of its outputs go on;
- ``"sequence"`` inputs ``[B, L, F]`` contribute their first ``t[0]`` steps.

The output is the per-step classifier logits averaged over the last stage's steps.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from torch import nn

from ..neuron import LIF
from ..temporal import TTM, ConfigError, format_config
from .layers import FrameStem, Seq

INPUT_KINDS = ("static", "frames", "sequence")


class Stage(nn.Module):
    """One stage: a TTM (absent in the first stage) followed by the stage's layers."""

    def __init__(self, layers: nn.Module, first: bool = False):
        super().__init__()
        self.ttm = None if first else TTM()
        self.layers = layers

    def forward(self, x_seq: torch.Tensor, t: int) -> torch.Tensor:
        if self.ttm is not None:
            x_seq = self.ttm(x_seq, t)
        if isinstance(self.layers, FrameStem):
            return self.layers(x_seq, t)
        return self.layers(x_seq)


class TemporalNet(nn.Module):
    def __init__(self, stages: Sequence[nn.Module], classifier: nn.Module, input_kind: str,
                 pool: bool = True, arch: str = "", arch_kwargs: dict | None = None):
        super().__init__()
        if input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {input_kind!r}")
        self.stages = nn.ModuleList(Stage(layers, first=(i == 0)) for i, layers in enumerate(stages))
        self.pool = Seq(nn.AdaptiveAvgPool2d(1), nn.Flatten(1)) if pool else None
        self.classifier = Seq(classifier)
        self.input_kind = input_kind
        self.arch = arch
        self.arch_kwargs = dict(arch_kwargs or {})

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    def resolve(self, t: int | Sequence[int]) -> tuple[int, ...]:
        """A configuration for this network: an int means uniform ``t``."""
        if isinstance(t, int):
            t = (t,) * self.n_stages
        t = tuple(int(v) for v in t)
        if len(t) != self.n_stages:
            raise ConfigError(f"temporal configuration {format_config(t)} has {len(t)} entries but "
                              f"{self.arch or 'the network'} has {self.n_stages} stages")
        if min(t) < 1:
            raise ConfigError(f"temporal configuration {format_config(t)} has a time step below 1")
        return t

    @property
    def stem_frames(self) -> str:
        """``"all"``: the stem's conv-BN runs on every input frame (:class:`FrameStem`); else ``"t1"``."""
        return "all" if isinstance(self.stages[0].layers, FrameStem) else "t1"

    def encode(self, x: torch.Tensor, t1: int) -> torch.Tensor:
        """The input over the first stage's ``t1`` steps (all frames for a :class:`FrameStem`), time-first."""
        if self.input_kind == "static":
            return x.unsqueeze(0).expand((t1,) + tuple(x.shape))
        available = x.shape[1]
        if t1 > available:
            raise ConfigError(f"the first stage asks for {t1} steps but the input has only {available}; "
                              f"use t_1 <= {available}")
        return (x if self.stem_frames == "all" else x[:, :t1]).transpose(0, 1)

    def forward(self, x: torch.Tensor, t: int | Sequence[int], return_steps: bool = False) -> torch.Tensor:
        t = self.resolve(t)
        x_seq = self.encode(x, t[0])
        for stage, t_i in zip(self.stages, t):
            x_seq = stage(x_seq, t_i)
        if self.pool is not None:
            x_seq = self.pool(x_seq)
        logits = self.classifier(x_seq)
        return logits if return_steps else logits.mean(0)

    # ------------------------------------------------------------------ firing rates

    def stage_lifs(self) -> list[list[LIF]]:
        return [[m for m in stage.modules() if isinstance(m, LIF)] for stage in self.stages]

    @contextlib.contextmanager
    def recording_rates(self) -> Iterator[None]:
        """Count spikes of every LIF while inside; read them with :meth:`firing_rates`."""
        lifs = [m for group in self.stage_lifs() for m in group]
        for m in lifs:
            m.reset_counts()
            m.recording = True
        try:
            yield
        finally:
            for m in lifs:
                m.recording = False

    def spike_counts(self) -> list[tuple[float, int]]:
        """Per stage: (spikes, neuron-steps) counted since :meth:`recording_rates` began."""
        out = []
        for group in self.stage_lifs():
            spikes = sum(float(m.spike_count) for m in group)
            out.append((spikes, sum(m.neuron_steps for m in group)))
        return out

    def firing_rates(self) -> list[float]:
        """Per stage: spikes per neuron per time step, averaged over the stage's LIF neurons."""
        return [s / n if n else 0.0 for s, n in self.spike_counts()]
