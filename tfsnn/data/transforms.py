"""Transforms: images as uint8 tensors (crop + flip, AutoAugment and Cutout as independent switches, A.2),
ImageNet's PIL pipeline, and the augmentation of event frames.

torchvision is imported inside the functions that build its transforms: importing it takes about a
second (it loads torch._dynamo), which event and sequence jobs, which never use it, need not pay."""
from __future__ import annotations

from typing import Callable, Sequence

import torch


class Cutout:
    """Zero one random ``size`` x ``size`` square (clipped at the border) of a float image (DeVries & Taylor 2017)."""

    def __init__(self, size: int = 16, holes: int = 1):
        self.size, self.holes = int(size), int(holes)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[-2:]
        img = img.clone()
        for _ in range(self.holes):
            cy, cx = int(torch.randint(h, ())), int(torch.randint(w, ()))
            y0, y1 = max(0, cy - self.size // 2), min(h, cy + self.size // 2)
            x0, x1 = max(0, cx - self.size // 2), min(w, cx + self.size // 2)
            img[..., y0:y1, x0:x1] = 0.0
        return img


def to_unit_float(img: torch.Tensor) -> torch.Tensor:
    """uint8 image to floats in [0, 1] (``ToTensor``'s scaling)."""
    return img.float() / 255.0


class ToFloatNormalized:
    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def from_unit(self, img: torch.Tensor) -> torch.Tensor:
        """Normalise an image already in [0, 1]."""
        return (img - self.mean) / self.std

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        return self.from_unit(to_unit_float(img))


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images ``[N, C, H, W]`` scaled to [0, 1]."""
    x = images.float().div_(255.0).transpose(0, 1).reshape(images.shape[1], -1)
    return x.mean(1).tolist(), x.std(1).clamp_min(1e-3).tolist()


CUTOUT_FILLS = ("mean", "black")


def train_transform(mean, std, crop_padding: int = 4, hflip: bool = True, autoaugment: bool = False,
                    cutout: bool = False, cutout_size: int = 16, image_size: Sequence[int] | None = None,
                    cutout_fill: str = "mean") -> Callable[[torch.Tensor], torch.Tensor]:
    """Crop, flip, AutoAugment on uint8 images, then to normalised floats, with Cutout.

    ``cutout_fill="mean"`` cuts after normalisation, so the hole is 0, the training mean colour;
    ``"black"`` cuts the [0, 1] image before normalisation (as the official transform does, Cutout
    between ``ToTensor`` and ``Normalize``), so the hole is ``-mean / std``. Both draw the same hole.
    """
    from torchvision import transforms as T

    if cutout_fill not in CUTOUT_FILLS:
        raise ValueError(f"cutout_fill must be one of {CUTOUT_FILLS}, got {cutout_fill!r}")
    steps: list = []
    if crop_padding > 0:
        steps.append(T.RandomCrop(tuple(image_size), padding=crop_padding))
    if hflip:
        steps.append(T.RandomHorizontalFlip())
    if autoaugment:
        steps.append(T.AutoAugment(T.AutoAugmentPolicy.CIFAR10))
    normalise = ToFloatNormalized(mean, std)
    if cutout and cutout_fill == "black":
        steps += [to_unit_float, Cutout(cutout_size), normalise.from_unit]
    else:
        steps.append(normalise)
        if cutout:
            steps.append(Cutout(cutout_size))
    return T.Compose(steps)


def eval_transform(mean, std) -> Callable[[torch.Tensor], torch.Tensor]:
    return ToFloatNormalized(mean, std)


# ImageNet channel statistics as used by torchvision's reference training recipe and pretrained weights
# (https://pytorch.org/vision/stable/models.html): mean and std of the ILSVRC-2012 training images.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_train_transform(crop: int = 224, hflip: bool = True, min_scale: float = 0.08) -> Callable:
    """The standard ImageNet training view of a PIL image: random resized crop (area fraction from
    ``min_scale`` to 1, torchvision's default 0.08), flip, normalise."""
    from torchvision import transforms as T

    steps: list = [T.RandomResizedCrop(crop, scale=(min_scale, 1.0))]
    if hflip:
        steps.append(T.RandomHorizontalFlip())
    steps += [T.PILToTensor(), T.ConvertImageDtype(torch.float32), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return T.Compose(steps)


def imagenet_eval_transform(crop: int = 224, resize: int = 256) -> Callable:
    """The standard ImageNet evaluation view: resize the short side, centre crop, normalise."""
    from torchvision import transforms as T

    return T.Compose([T.Resize(resize), T.CenterCrop(crop), T.PILToTensor(), T.ConvertImageDtype(torch.float32),
                      T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


INVERSION_P = 0.25  # N-Caltech101 policy of the official code: invert time, or flip, each with p = 0.25


class EventAugment:
    """Training augmentation of event frames ``[F, C, H, W]`` (A.2; the official time-stepped code).

    - ``hflip``: mirror left-right with p = 0.5;
    - ``temporal_inversion`` (N-Caltech101, Shen et al. 2023) replaces that flip by one draw: with
      p = 0.25 time and polarity are reversed, with p = 0.25 the frames are mirrored (if ``hflip``);
    - ``roll``: circular shift by independent whole-pixel offsets in ``[-roll, roll]`` along y and x.

    Random numbers come from torch's generator, which the training loop seeds per epoch.
    """

    def __init__(self, hflip: bool = True, roll: int = 5, temporal_inversion: bool = False):
        self.hflip, self.roll, self.temporal_inversion = bool(hflip), int(roll), bool(temporal_inversion)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.temporal_inversion:
            u = float(torch.rand(()))
            if u < INVERSION_P:
                x = x.flip(0, 1)
            elif u >= 1.0 - INVERSION_P and self.hflip:
                x = x.flip(-1)
        elif self.hflip and float(torch.rand(())) < 0.5:
            x = x.flip(-1)
        if self.roll > 0:
            dy, dx = torch.randint(-self.roll, self.roll + 1, (2,)).tolist()
            x = x.roll((dy, dx), dims=(-2, -1))
        return x
