"""Seeds of a run: every random draw comes from ``(run seed, purpose, ...)``, never from where the process is.

A run id fixes its numbers, so a draw must not depend on which process computes it, what ran before
in that process, or whether the job was killed and rerun. Two tools:

- :func:`derived_seed` turns the run's seed and a few integers (a *stream*, then e.g. an epoch or a
  calibration purpose) into a 63-bit seed;
- :class:`SeededBatches` iterates a data loader whose transforms draw from torch's global generator
  (torchvision's crop, flip and AutoAugment do) on a generator of its own: before each batch it swaps
  in its own state, after it puts the caller's state back. Augmentation then follows from the seed,
  and the caller's global stream is left exactly where it was.

Training keeps its own scheme (the global generator is reseeded from ``(seed, EPOCH, epoch)`` at every
epoch start, which makes resuming bitwise identical); everything outside the training loop uses these.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import torch

# Streams: the first part after the run seed, so that no two purposes share a seed.
CALIB = 1      # batch order of BN calibration (then: the calibration's purpose)
EPOCH = 2      # training epochs (then: the epoch)
CALIB_AUG = 3  # augmentation of the calibration batches (then: the calibration's purpose)


def derived_seed(seed: int, *parts: int) -> int:
    """A 63-bit seed from the run seed and a few integers (stream, epoch, purpose)."""
    h = seed
    for p in parts:
        h = (h * 1_000_003 + p + 0x9E3779B97F4A7C15) % (2 ** 63)
    return h


class SeededBatches:
    """Batches of ``loader`` whose random transforms draw from a CPU generator seeded with ``seed``.

    The same ``seed`` gives the same batches in any process, whatever the global generator holds; the
    global generator is the same after each batch as before it. Data loader workers seed themselves from
    the loader's own generator, so give the loader one (``shuffle`` with ``generator=``).
    """

    def __init__(self, loader: Iterable, seed: int):
        self.loader, self.seed = loader, int(seed)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator:
        state = torch.Generator().manual_seed(self.seed).get_state()
        it = None
        while True:
            outer = torch.get_rng_state()
            torch.set_rng_state(state)
            try:
                if it is None:
                    it = iter(self.loader)
                batch = next(it, StopIteration)
            finally:
                state = torch.get_rng_state()
                torch.set_rng_state(outer)
            if batch is StopIteration:
                return
            yield batch
