"""Seeded variation of the digits: more distinct stand-in samples than 1,797 images give on their own.

A stand-in that needs larger images (ImageNet's 128 px crops, an event sensor's field of view) draws
each sample from one source digit, upscaled bilinearly to its size and varied by three independent,
documented draws (``RANGES``), each uniform:

| draw        | what                                                                   | range            |
|-------------|------------------------------------------------------------------------|------------------|
| rotation    | degrees, about the image centre                                        | -12 ... 12       |
| scale       | zoom of the digit (>1 larger)                                          | 0.85 ... 1.15    |
| shear       | x shear as a fraction of y                                             | -0.15 ... 0.15   |
| shift       | translation in x and y, as a fraction of the side                      | -0.08 ... 0.08   |
| stroke      | >0 blends towards a 3x3 grey dilation (bolder), <0 towards an erosion  | -0.6 ... 0.6     |
| noise       | standard deviation of additive Gaussian background noise               | 0 ... 0.06       |

Every draw comes from the generator the caller passes (seeded from the stand-in's seed and its
purpose), in a fixed order per sample, so a stand-in's bytes follow from its seed alone.
``strength=0`` gives the plain bilinear upscaling.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

RANGES = {"rotation": 12.0, "scale": (0.85, 1.15), "shear": 0.15, "shift": 0.08, "stroke": 0.6, "noise": 0.06}


def draw(rng: np.random.Generator, n: int, strength: float = 1.0) -> dict[str, np.ndarray]:
    """The variation parameters of ``n`` samples (one row each), scaled by ``strength`` towards none."""
    lo, hi = RANGES["scale"]
    u = rng.random((n, 7))  # one row per sample, columns in a fixed order
    return {"rotation": strength * RANGES["rotation"] * (2 * u[:, 0] - 1),
            "scale": 1 + strength * (lo + (hi - lo) * u[:, 1] - 1),
            "shear": strength * RANGES["shear"] * (2 * u[:, 2] - 1),
            "shift": strength * RANGES["shift"] * (2 * u[:, 3:5] - 1),
            "stroke": strength * RANGES["stroke"] * (2 * u[:, 5] - 1),
            "noise": strength * RANGES["noise"] * u[:, 6]}


def affine_theta(p: dict[str, np.ndarray]) -> torch.Tensor:
    """``[n, 2, 3]`` sampling matrices for ``F.affine_grid``: output coordinates to input coordinates
    (normalised to [-1, 1]), i.e. the inverse of rotate-shear-scale-shift applied to the digit."""
    a = np.deg2rad(p["rotation"])
    cos, sin = np.cos(a), np.sin(a)
    n = len(a)
    forward = np.zeros((n, 3, 3))
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear = np.zeros((n, 2, 2))
    shear[:, 0, 0] = shear[:, 1, 1] = 1
    shear[:, 0, 1] = p["shear"]
    forward[:, :2, :2] = p["scale"][:, None, None] * rot @ shear
    forward[:, :2, 2] = 2 * p["shift"]  # a fraction of the side is twice that in normalised units
    forward[:, 2, 2] = 1
    return torch.from_numpy(np.linalg.inv(forward)[:, :2, :]).float()


def upscale(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[N, h, w]`` images in [0, 1] upscaled bilinearly to ``size``."""
    x = F.interpolate(images[:, None].float(), size=size, mode="bilinear", align_corners=False)
    return x[:, 0].clamp(0, 1)


def vary(images: torch.Tensor, size: tuple[int, int], rng: np.random.Generator, strength: float = 1.0,
         noise: bool = True) -> torch.Tensor:
    """``images`` ``[N, h, w]`` (values in [0, 1]) upscaled to ``size`` and varied, one draw per image.
    ``noise=False`` leaves the background clean (an event sensor adds its own noise events); the noise
    parameter is drawn either way, so the other draws do not depend on it."""
    x = upscale(images, size)[:, None]
    if strength == 0:
        return x[:, 0]
    p = draw(rng, len(images), strength)
    grid = F.affine_grid(affine_theta(p), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    k = max(3, 2 * int(math.ceil(min(size) / 32)) + 1)  # a stroke of the 8x8 digit spans about side/8 pixels
    bold = F.max_pool2d(x, k, 1, k // 2)
    thin = -F.max_pool2d(-x, k, 1, k // 2)
    s = torch.from_numpy(p["stroke"]).float()[:, None, None, None]
    x = torch.where(s > 0, x + s * (bold - x), x + (-s) * (thin - x))
    if noise:
        grain = torch.from_numpy(rng.standard_normal((len(images),) + tuple(size))).float()[:, None]
        x = x + torch.from_numpy(p["noise"]).float()[:, None, None, None] * grain
    return x[:, 0].clamp(0, 1)
