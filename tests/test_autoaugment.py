"""torchvision's CIFAR10 AutoAugment (what tfsnn uses) against the official code's ``CIFAR10Policy``.

The official time-stepped code (train-time-stepped/data/autoaugment.py, applied to PIL images after
crop + flip) and ``torchvision.transforms.AutoAugment(AutoAugmentPolicy.CIFAR10)`` (applied by tfsnn
to uint8 tensors after crop + flip) hold nearly the same table: 25 sub-policies in the same order,
each two operations with the same magnitude bins (0..9) and the same probabilities but one: in row 17
(equalize, then equalize) the second fires with p = 0.8 in the official code and p = 0.6 in
torchvision (0.6 also in TensorFlow implementations of the AutoAugment paper's policy). Both pick
one sub-policy uniformly and apply each of its operations with its probability, so that equalize
fires in 0.8% more of the images with the official code. The magnitude of each bin agrees for shear
(0..0.3, random sign), the four enhancements (factor 1 +- m, m in 0..0.9, i.e. 0.1..1.9, random sign)
and posterize (bits 8,8,7,7,6,6,5,5,4,4). What differs (pinned by the tests below):

- fill colour: the official code fills the area that shear, translate and rotate uncover with grey
  (128, 128, 128); tfsnn builds AutoAugment with torchvision's default ``fill=None``, i.e. black (0).
  Translations of bin 8 or 9 (13 to 15 px of 32) sit in five sub-policies (rows 2, 4, 11, 22, 25),
  so this is the most visible difference.
- translate: both draw 150/331 x 32 px x bin/9 with a random sign, but PIL's nearest-neighbour affine
  rounds the offset (5, 13, 15 px for bins 3, 8, 9) and torchvision truncates it (4, 12, 14 px).
- rotate: the official code always rotates by +angle (counter-clockwise; its signed variant is
  commented out); torchvision draws the sign (+-). Same angles (bin 2 = 6.67 degrees, row 2).
- shear: the official code resamples bicubically, torchvision (as tfsnn calls it) nearest-neighbour.
  Both shear about the top-left corner with the matrix entry m.
- solarize thresholds: official 256..0 (``linspace(256, 0, 10)``), torchvision 255..0. Of the bins
  the policy uses (2, 3, 5, 8) only bins 2 and 3 differ, in one grey level each: torchvision also
  inverts pixels equal to 199 (bin 2) or 170 (bin 3).
- arithmetic: PIL on images versus torchvision's tensor kernels: colour, contrast and sharpness
  round differently by at most one grey level (measured on random images); the others agree
  exactly. An operation fires when ``random() < p`` (official) or ``rand <= p`` (torchvision), which
  differs with probability 0.

A run setting to switch between the two is not provided; config/paper.yaml records this next to
``autoaugment``.
"""
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import AutoAugment, AutoAugmentPolicy, InterpolationMode
from torchvision.transforms.autoaugment import _apply_op

from tfsnn.data.transforms import train_transform

# The official CIFAR10Policy, row by row: ((operation, probability, bin), (operation, probability, bin)).
# Bins of invert/autocontrast/equalize are in the official table but unused (those take no magnitude).
OFFICIAL_CIFAR10 = [
    (("invert", 0.1, 7), ("contrast", 0.2, 6)),
    (("rotate", 0.7, 2), ("translateX", 0.3, 9)),
    (("sharpness", 0.8, 1), ("sharpness", 0.9, 3)),
    (("shearY", 0.5, 8), ("translateY", 0.7, 9)),
    (("autocontrast", 0.5, 8), ("equalize", 0.9, 2)),
    (("shearY", 0.2, 7), ("posterize", 0.3, 7)),
    (("color", 0.4, 3), ("brightness", 0.6, 7)),
    (("sharpness", 0.3, 9), ("brightness", 0.7, 9)),
    (("equalize", 0.6, 5), ("equalize", 0.5, 1)),
    (("contrast", 0.6, 7), ("sharpness", 0.6, 5)),
    (("color", 0.7, 7), ("translateX", 0.5, 8)),
    (("equalize", 0.3, 7), ("autocontrast", 0.4, 8)),
    (("translateY", 0.4, 3), ("sharpness", 0.2, 6)),
    (("brightness", 0.9, 6), ("color", 0.2, 8)),
    (("solarize", 0.5, 2), ("invert", 0.0, 3)),
    (("equalize", 0.2, 0), ("autocontrast", 0.6, 0)),
    (("equalize", 0.2, 8), ("equalize", 0.8, 4)),
    (("color", 0.9, 9), ("equalize", 0.6, 6)),
    (("autocontrast", 0.8, 4), ("solarize", 0.2, 8)),
    (("brightness", 0.1, 3), ("color", 0.7, 0)),
    (("solarize", 0.4, 5), ("autocontrast", 0.9, 3)),
    (("translateY", 0.9, 9), ("translateY", 0.7, 9)),
    (("autocontrast", 0.9, 2), ("solarize", 0.8, 3)),
    (("equalize", 0.8, 8), ("invert", 0.1, 3)),
    (("translateY", 0.7, 9), ("autocontrast", 0.9, 1)),
]

TORCHVISION_NAME = {"shearX": "ShearX", "shearY": "ShearY", "translateX": "TranslateX",
                    "translateY": "TranslateY", "rotate": "Rotate", "color": "Color", "posterize": "Posterize",
                    "solarize": "Solarize", "contrast": "Contrast", "sharpness": "Sharpness",
                    "brightness": "Brightness", "autocontrast": "AutoContrast", "equalize": "Equalize",
                    "invert": "Invert"}
NO_MAGNITUDE = {"autocontrast", "equalize", "invert"}
# (row, operation) counted from 1 -> (official probability, torchvision probability)
PROBABILITIES_THAT_DIFFER = {(17, 2): (0.8, 0.6)}
SIZE = 32  # CIFAR


def official_magnitudes(size: int = SIZE) -> dict[str, tuple[np.ndarray, bool]]:
    """The official magnitude of each bin and whether a random sign is drawn, for a ``size`` image."""
    bins = 10
    enhance = (np.linspace(0.0, 0.9, bins), True)  # factor 1 +- m
    return {
        "shearX": (np.linspace(0.0, 0.3, bins), True),
        "shearY": (np.linspace(0.0, 0.3, bins), True),
        "translateX": (np.linspace(0.0, 150 / 331, bins) * size, True),  # a fraction of the image side
        "translateY": (np.linspace(0.0, 150 / 331, bins) * size, True),
        "rotate": (np.linspace(0.0, 30.0, bins), False),
        "color": enhance, "contrast": enhance, "sharpness": enhance, "brightness": enhance,
        "posterize": (np.round(np.linspace(8, 4, bins)).astype(int), False),
        "solarize": (np.linspace(256.0, 0.0, bins), False),
    }


def torchvision_magnitudes(size: int = SIZE) -> dict[str, tuple[np.ndarray, bool]]:
    space = AutoAugment(AutoAugmentPolicy.CIFAR10)._augmentation_space(10, (size, size))
    return {op: (space[name][0].double().numpy(), space[name][1]) for op, name in TORCHVISION_NAME.items()
            if op not in NO_MAGNITUDE}


def used_bins(op: str) -> list[int]:
    return sorted({b for row in OFFICIAL_CIFAR10 for name, _, b in row if name == op})


def test_torchvision_policy_table_is_the_official_one():
    """Same 25 sub-policies, same order, same operations and magnitude bins; the same probabilities
    except in ``PROBABILITIES_THAT_DIFFER``."""
    tv = AutoAugment(AutoAugmentPolicy.CIFAR10)
    policies = tv._get_policies(AutoAugmentPolicy.CIFAR10)
    assert policies == tv.policies
    assert len(OFFICIAL_CIFAR10) == 25 and len(policies) == 25
    for i, (official, theirs) in enumerate(zip(OFFICIAL_CIFAR10, policies)):
        assert len(theirs) == 2, f"row {i + 1}"
        for j, ((op, p, b), (tv_op, tv_p, tv_b)) in enumerate(zip(official, theirs)):
            assert TORCHVISION_NAME[op] == tv_op, f"row {i + 1}: {op} vs {tv_op}"
            expected = PROBABILITIES_THAT_DIFFER.get((i + 1, j + 1), (p, p))
            assert (p, tv_p) == expected, f"row {i + 1}, {op}: probability {p} vs {tv_p}"
            assert tv_b == (None if op in NO_MAGNITUDE else b), f"row {i + 1}, {op}: bin {b} vs {tv_b}"


@pytest.mark.parametrize("op", ["shearX", "shearY", "color", "contrast", "sharpness", "brightness", "posterize"])
def test_magnitudes_that_agree(op):
    (ours, signed), (theirs, tv_signed) = official_magnitudes()[op], torchvision_magnitudes()[op]
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-6)
    assert signed == tv_signed


def test_rotate_angles_agree_but_only_torchvision_draws_a_sign():
    (ours, signed), (theirs, tv_signed) = official_magnitudes()["rotate"], torchvision_magnitudes()["rotate"]
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-5)
    assert used_bins("rotate") == [2] and abs(ours[2] - 20 / 3) < 1e-9
    assert (signed, tv_signed) == (False, True)


def _shift(out: np.ndarray, ramp_step: int) -> int:
    """How far a horizontal ramp moved: ``out[x] = in[x + k]``, read at the middle column."""
    return (int(out[SIZE // 2]) - 1) // ramp_step - SIZE // 2


@pytest.mark.parametrize("sign", [1, -1])
def test_translate_pixels_agree_but_pil_rounds_and_torchvision_truncates(sign):
    (ours, _), (theirs, _) = official_magnitudes()["translateX"], torchvision_magnitudes()["translateX"]
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-4)  # both in pixels: 0 .. 14.50
    ramp = (np.arange(SIZE, dtype=np.uint8) * 4 + 1)[None].repeat(SIZE, 0)
    pil = Image.fromarray(np.stack([ramp] * 3, -1))
    tensor = torch.from_numpy(ramp)[None].repeat(3, 1, 1)
    pil_shifts, tv_shifts = [], []
    for b in used_bins("translateX") + used_bins("translateY"):
        offset = sign * float(ours[b])
        moved = pil.transform(pil.size, Image.AFFINE, (1, 0, offset, 0, 1, 0), fillcolor=(128, 128, 128))
        pil_shifts.append(_shift(np.array(moved)[0, :, 0], 4))
        moved = _apply_op(tensor, "TranslateX", sign * float(theirs[b]), InterpolationMode.NEAREST, None)
        tv_shifts.append(-_shift(moved[0, 0].numpy(), 4))
    assert used_bins("translateX") + used_bins("translateY") == [8, 9, 3, 9]
    assert pil_shifts == [sign * k for k in (13, 15, 5, 15)]  # official: offsets rounded
    assert tv_shifts == [sign * k for k in (12, 14, 4, 14)]  # torchvision: int() truncates


def test_solarize_thresholds_differ_by_one_grey_level():
    (ours, _), (theirs, _) = official_magnitudes()["solarize"], torchvision_magnitudes()["solarize"]
    assert ours[0] == 256 and theirs[0] == 255
    np.testing.assert_allclose(theirs, np.linspace(255.0, 0.0, 10), atol=1e-4)
    pixels = np.arange(256)
    differ = {b: pixels[(pixels >= ours[b]) != (pixels >= theirs[b])].tolist() for b in used_bins("solarize")}
    assert differ == {2: [199], 3: [170], 5: [], 8: []}


def test_tfsnn_uses_torchvision_cifar10_policy_with_black_fill():
    """The settings tfsnn's transform gives AutoAugment: the fill and resampling differences above."""
    tf = train_transform([0.5] * 3, [0.25] * 3, autoaugment=True, image_size=(SIZE, SIZE))
    (aa,) = [t for t in tf.transforms if isinstance(t, AutoAugment)]
    assert aa.policy == AutoAugmentPolicy.CIFAR10
    assert aa.fill is None  # black; the official code fills with (128, 128, 128)
    assert aa.interpolation == InterpolationMode.NEAREST  # the official shear is bicubic
