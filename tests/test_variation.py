"""The stand-ins' seeded variation (tfsnn.data.variation): documented ranges, exact geometry, seeded bytes."""
import numpy as np
import torch
import torch.nn.functional as F

from tfsnn.data.variation import RANGES, affine_theta, draw, upscale, vary


def none(n=1, **changes):
    p = {"rotation": np.zeros(n), "scale": np.ones(n), "shear": np.zeros(n), "shift": np.zeros((n, 2)),
         "stroke": np.zeros(n), "noise": np.zeros(n)}
    p.update({k: np.asarray(v, dtype=float) for k, v in changes.items()})
    return p


def warp(image, p):
    x = image[None, None]
    grid = F.affine_grid(affine_theta(p), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", align_corners=False)[0, 0]


def test_draws_are_the_documented_uniforms_in_a_fixed_order():
    u = np.random.default_rng(7).random((3, 7))
    p = draw(np.random.default_rng(7), 3)
    lo, hi = RANGES["scale"]
    assert np.allclose(p["rotation"], 12.0 * (2 * u[:, 0] - 1))
    assert np.allclose(p["scale"], lo + (hi - lo) * u[:, 1])
    assert np.allclose(p["shear"], 0.15 * (2 * u[:, 2] - 1))
    assert np.allclose(p["shift"], 0.08 * (2 * u[:, 3:5] - 1))
    assert np.allclose(p["stroke"], 0.6 * (2 * u[:, 5] - 1))
    assert np.allclose(p["noise"], 0.06 * u[:, 6])
    half = draw(np.random.default_rng(7), 3, strength=0.5)
    assert np.allclose(half["rotation"], p["rotation"] / 2) and np.allclose(half["scale"] - 1, (p["scale"] - 1) / 2)


def test_many_draws_fill_their_ranges():
    p = draw(np.random.default_rng(0), 20000)
    assert 11.9 < p["rotation"].max() <= 12 and -12 <= p["rotation"].min() < -11.9
    assert 0.85 <= p["scale"].min() < 0.851 and 1.149 < p["scale"].max() <= 1.15
    assert np.abs(p["shift"]).max() <= 0.08 and np.abs(p["stroke"]).max() <= 0.6
    assert 0 <= p["noise"].min() and p["noise"].max() <= 0.06


def test_identity_and_a_quarter_turn_are_exact():
    image = torch.zeros(6, 6)
    image[1, 4] = 1.0   # top right
    image[2:5, 1] = 0.5  # a bar on the left
    assert torch.allclose(warp(image, none()), image, atol=1e-6)
    # +90 degrees maps the right edge (x=1, y=0) to the bottom (0, 1): clockwise on a y-down image
    assert torch.allclose(warp(image, none(rotation=[90.0])), torch.rot90(image, -1, (0, 1)), atol=1e-5)


def test_shift_moves_by_the_stated_fraction_of_the_side():
    image = torch.zeros(10, 10)
    image[3, 3] = 1.0
    moved = warp(image, none(shift=[[0.2, -0.1]]))  # +2 px right, 1 px up
    assert moved.argmax().item() == 2 * 10 + 5 and abs(moved.max().item() - 1) < 1e-5


def test_zoom_scales_about_the_centre():
    image = torch.zeros(8, 8)
    image[2:6, 2:6] = 1.0  # a 4 x 4 square in the middle
    assert abs(warp(image, none(scale=[0.5])).sum().item() - 4.0) < 1e-4  # a quarter of the area


def test_strength_zero_is_plain_upscaling_and_draws_nothing():
    digits = torch.rand(3, 8, 8)
    rng = np.random.default_rng(1)
    out = vary(digits, (24, 24), rng, strength=0)
    assert torch.equal(out, upscale(digits, (24, 24)))
    assert rng.random() == np.random.default_rng(1).random()


def test_seeded_bytes_stroke_and_noise():
    digits = torch.rand(4, 8, 8)
    a = vary(digits, (32, 32), np.random.default_rng(5))
    assert torch.equal(a, vary(digits, (32, 32), np.random.default_rng(5)))
    assert not torch.equal(a, vary(digits, (32, 32), np.random.default_rng(6)))
    assert a.min() >= 0 and a.max() <= 1 and a.shape == (4, 32, 32)
    clean = vary(digits, (32, 32), np.random.default_rng(5), noise=False)
    p = draw(np.random.default_rng(5), 4)
    grain = (a - clean).flatten(1).std(1)
    assert np.allclose(grain.numpy(), p["noise"], atol=0.02)  # clamping trims a little of the noise
    # the other draws do not depend on whether noise is added
    assert torch.equal(vary(digits, (32, 32), np.random.default_rng(5), noise=False), clean)


def test_positive_stroke_is_bolder_negative_thinner(monkeypatch):
    import tfsnn.data.variation as variation

    digit = torch.zeros(1, 8, 8)
    digit[0, 1:7, 3:5] = 1.0
    ink = {}
    for stroke in (-0.6, 0.0, 0.6):
        monkeypatch.setattr(variation, "draw", lambda rng, n, strength=1.0, s=stroke: none(n, stroke=[s]))
        ink[stroke] = vary(digit, (32, 32), np.random.default_rng(0)).sum().item()
    assert ink[-0.6] < ink[0.0] < ink[0.6]
