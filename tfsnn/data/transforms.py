"""Image transforms on uint8 tensors: crop + flip, AutoAugment and Cutout as independent switches (A.2)."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torchvision import transforms as T


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


class ToFloatNormalized:
    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        return (img.float() / 255.0 - self.mean) / self.std


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images ``[N, C, H, W]`` scaled to [0, 1]."""
    x = images.float().div_(255.0).transpose(0, 1).reshape(images.shape[1], -1)
    return x.mean(1).tolist(), x.std(1).clamp_min(1e-3).tolist()


def train_transform(mean, std, crop_padding: int = 4, hflip: bool = True, autoaugment: bool = False,
                    cutout: bool = False, cutout_size: int = 16, image_size: Sequence[int] | None = None
                    ) -> Callable[[torch.Tensor], torch.Tensor]:
    steps: list = []
    if crop_padding > 0:
        steps.append(T.RandomCrop(tuple(image_size), padding=crop_padding))
    if hflip:
        steps.append(T.RandomHorizontalFlip())
    if autoaugment:
        steps.append(T.AutoAugment(T.AutoAugmentPolicy.CIFAR10))
    steps.append(ToFloatNormalized(mean, std))
    if cutout:
        steps.append(Cutout(cutout_size))
    return T.Compose(steps)


def eval_transform(mean, std) -> Callable[[torch.Tensor], torch.Tensor]:
    return ToFloatNormalized(mean, std)
