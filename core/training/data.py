"""Training data: decoded good images and the synthetic-anomaly dataset.

Every training sample is addressed by a global index k (step * batch + i). Its image
and all random choices derive from (seed, k) alone, so a run is deterministic whatever
the number of worker processes, and a resumed run continues with exactly the samples
the interrupted one would have drawn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from core.io.images import load_images, to_model_input
from core.synth import AnomalySimulator, make_texture_source

log = logging.getLogger(__name__)


@dataclass
class ImageSet:
    """Good images decoded once and resized to the model size, kept as uint8 BGR."""

    paths: list[Path]
    images: np.ndarray                      # (N, H, W, 3) uint8
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    grayscale: bool = False                 # every source image was single-channel

    def __len__(self) -> int:
        return len(self.paths)


def load_image_set(paths: list[Path], size: tuple[int, int]) -> ImageSet:
    loaded, skipped = load_images(paths)
    for p, why in skipped:
        log.warning("skipped %s: %s", p, why)
    if not loaded:
        raise ValueError(f"none of the {len(paths)} training images could be read")
    arr = np.empty((len(loaded), size[0], size[1], 3), np.uint8)
    gray = True
    for i, (_, img) in enumerate(loaded):
        gray = gray and (img.ndim == 2 or img.shape[2] == 1)
        arr[i] = np.clip(to_model_input(img, size) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return ImageSet([p for p, _ in loaded], arr, skipped, gray)


def split_holdout(paths: list[Path], fraction: float, seed: int, minimum_train: int = 4) -> tuple[list, list]:
    """Deterministic split of good images into training and held-out validation."""
    n = len(paths)
    n_val = int(round(n * fraction))
    if n - n_val < minimum_train:
        n_val = max(0, n - minimum_train)
    order = np.random.default_rng(seed).permutation(n)
    val = sorted(paths[i] for i in order[:n_val])
    train = sorted(paths[i] for i in order[n_val:])
    return train, val


class SynthDataset(Dataset):
    """Sample k -> dict(image, augmented, mask, has_anomaly) as CHW float32 tensors."""

    def __init__(self, images: np.ndarray, simulator: AnomalySimulator, seed: int = 0):
        self.images = images
        self.sim = simulator
        self.seed = seed

    def __len__(self) -> int:  # nominal; the sampler decides which k are drawn
        return 2**62

    def image_index(self, k: int) -> int:
        n = len(self.images)
        epoch, pos = divmod(k, n)
        return int(np.random.default_rng((self.seed, 1, epoch)).permutation(n)[pos])

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, 2, k))
        img = self.images[self.image_index(k)].astype(np.float32) / 255.0
        s = self.sim(img, rng)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(s.image.transpose(2, 0, 1))),
            "augmented": torch.from_numpy(np.ascontiguousarray(s.augmented.transpose(2, 0, 1))),
            "mask": torch.from_numpy(np.ascontiguousarray(s.mask[None])),
            "has_anomaly": torch.tensor([s.has_anomaly], dtype=torch.float32),
        }


class RangeSampler(Sampler):
    def __init__(self, start: int, stop: int):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


def _worker_init(_):
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def make_loader(dataset: SynthDataset, batch_size: int, start_step: int, total_steps: int,
                workers: int, pin_memory: bool = False) -> DataLoader:
    sampler = RangeSampler(start_step * batch_size, total_steps * batch_size)
    kwargs = dict(num_workers=workers, pin_memory=pin_memory)
    if workers > 0:
        # spawn, not fork: a forked child inherits OpenCV's thread pool in whatever state the
        # parent left it and can deadlock in its first cv2 call (seen here); spawned workers
        # start clean, at the cost of a few seconds and one copy of the images each.
        kwargs.update(prefetch_factor=4, worker_init_fn=_worker_init, persistent_workers=False,
                      multiprocessing_context="spawn")
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=False, **kwargs)


def make_simulator(textures: str | Path | None, grayscale: bool) -> AnomalySimulator:
    return AnomalySimulator(make_texture_source(textures), grayscale=grayscale)
