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

from core.display import to_uint8
from core.io.images import load_images, to_model_input
from core.synth import AnomalySimulator, make_texture_source
from core.synth.simulator import simulator_for

log = logging.getLogger(__name__)


@dataclass
class ImageSet:
    """Good images decoded once, kept as uint8 BGR: resized to the model size (an array), or
    in tiles mode scaled by ``scale`` keeping their aspect (a list, sizes may differ)."""

    paths: list[Path]
    images: np.ndarray | list[np.ndarray]   # (N, H, W, 3) uint8, or N arrays (H_i, W_i, 3)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    grayscale: bool = False                 # every source image was single-channel
    scale: float | None = None              # tiles mode: the factor applied to every image

    def __len__(self) -> int:
        return len(self.paths)


def auto_scale(shapes: list[tuple[int, ...]], max_side: int = 0) -> float:
    """Tiles mode: 1.0 (the camera's own pixels) unless the median image's longer side is
    above ``max_side`` (0: no limit), then the factor that brings it there. The scale is
    fixed at training and kept in the model, so live frames are scaled the same way; the
    limit is what keeps the inspection within the camera's frame time (the cost grows with
    the pixels: a 5-MP frame would be dozens of tiles)."""
    if max_side < 0:
        raise ValueError(f"max_side must be >= 0, got {max_side}")
    longest = float(np.median([max(s[:2]) for s in shapes]))
    return 1.0 if not max_side or longest <= max_side else round(max_side / longest, 4)


def load_image_set(paths: list[Path], size: tuple[int, int], mode: str = "resize",
                   scale: float | None = None, max_side: int = 0) -> ImageSet:
    """Decode ``paths`` once. Resize mode: every image squashed to ``size``. Tiles mode:
    scaled by ``scale`` (None: :func:`auto_scale` with ``max_side``), aspect kept."""
    loaded, skipped = load_images(paths)
    for p, why in skipped:
        log.warning("skipped %s: %s", p, why)
    if not loaded:
        raise ValueError(f"none of the {len(paths)} training images could be read")
    gray = all(img.ndim == 2 or img.shape[2] == 1 for _, img in loaded)
    kept = [p for p, _ in loaded]
    out, s = fit_images([img for _, img in loaded], size, mode, scale, max_side)
    return ImageSet(kept, out, skipped, gray, s)


def fit_images(images: list[np.ndarray], size: tuple[int, int], mode: str = "resize",
               scale: float | None = None, max_side: int = 0
               ) -> tuple[np.ndarray | list[np.ndarray], float | None]:
    """Decoded images as training takes them (uint8 BGR) and the tiles-mode scale (None in
    resize mode): the scaling of :func:`load_image_set`, for anything that must match it."""
    if mode == "tiles":
        s = auto_scale([img.shape for img in images], max_side) if scale is None else float(scale)
        out = []
        for img in images:
            h, w = img.shape[:2]
            scaled = to_model_input(img, (max(1, round(h * s)), max(1, round(w * s))))
            out.append(to_uint8(scaled, nearest=True))
        return out, s
    arr = np.empty((len(images), size[0], size[1], 3), np.uint8)
    for i, img in enumerate(images):
        arr[i] = to_uint8(to_model_input(img, size), nearest=True)
    return arr, None


CROP_REACH = 0.0
"""The default reach of training crops past the frame's edge: none (docs/BENCHMARKS.md §7.8:
0.5 took magnetic tile from 0.702 to 0.790 image AUROC at 20 minutes but bottle from 0.986
to 0.940; 1 gave 0.804 and 0.971 / 0.963 (two seeds), and 0.937 on bottle at 5 minutes)."""


def crop_origin(length: int, size: int, rng: np.random.Generator, reach: float = CROP_REACH) -> int:
    """Where a ``size`` crop starts along an axis of ``length`` >= ``size`` pixels. The origin
    is drawn uniformly from ``[-e, length - size + e]``, ``e = round(reach * (size - 1))``,
    and clamped into the image. ``reach`` 0 is a uniform origin inside the image, which shows
    the first and last pixel in 1 crop of ``length - size + 1`` but a middle pixel in up to
    ``size`` of them (on magnetic tile, whose frames end in the part's dark rim, a model
    trained so fired on the rim of good parts); ``reach`` 1 shows every pixel with a
    probability within 3 times that of the least seen one (2 on a frame at least two crops
    long), at the price of many crops in the corners (4 in 9 on a frame of two crops);
    0.5 within about 3 times (a quarter of the crops at each end of a frame of two crops).
    The default is 0 (:data:`CROP_REACH`)."""
    e = int(round(reach * (size - 1)))
    o = int(rng.integers(-e, length - size + e + 1))
    return min(max(o, 0), length - size)


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator,
                reach: float = CROP_REACH, tile_share: float = 0.0, overlap: int = 0) -> np.ndarray:
    """A ``size`` x ``size`` crop; an image smaller than that is first padded by reflection
    (as tiles mode pads a small frame). With probability ``tile_share`` the crop is one of
    the tiles inference will cut from this frame (:func:`core.inference.tiling.axis_origins`
    with ``overlap``), chosen at random: the frame's rim is seen where inference sees it, at
    a tile's border. Otherwise it is placed by :func:`crop_origin`. ``tile_share`` 0 draws
    nothing more from ``rng`` (the sampling before the field existed)."""
    from core.inference.tiling import axis_origins, pad_to

    image = pad_to(image, (size, size))
    h, w = image.shape[:2]
    if tile_share > 0.0 and rng.random() < tile_share:
        ys, xs = axis_origins(h, size, overlap), axis_origins(w, size, overlap)
        y, x = ys[int(rng.integers(len(ys)))], xs[int(rng.integers(len(xs)))]
    else:
        y = crop_origin(h, size, rng, reach)
        x = crop_origin(w, size, rng, reach)
    return image[y:y + size, x:x + size]


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
    """Sample k -> dict(image, augmented, mask, has_anomaly) as CHW float32 tensors.

    With ``crop`` each sample is a random ``crop`` x ``crop`` piece of its image (tiles
    mode), and the patch anomaly kind takes its donor from a crop of another image.
    """

    def __init__(self, images: np.ndarray | list[np.ndarray], simulator: AnomalySimulator, seed: int = 0,
                 crop: int = 0, reach: float = CROP_REACH, tile_share: float = 0.0, overlap: int = 0):
        self.images = images
        self.sim = simulator
        self.seed = seed
        self.crop = int(crop)
        self.reach = float(reach)  # see crop_origin
        self.tile_share, self.overlap = float(tile_share), int(overlap)  # see random_crop
        if not self.crop:
            shapes = {im.shape for im in images}
            if len(shapes) > 1:
                raise ValueError(f"training images differ in size ({len(shapes)} sizes): "
                                 "train them by crops (tiles mode)")

    def __len__(self) -> int:  # nominal; the sampler decides which k are drawn
        return 2**62

    def image_index(self, k: int) -> int:
        n = len(self.images)
        epoch, pos = divmod(k, n)
        return int(np.random.default_rng((self.seed, 1, epoch)).permutation(n)[pos])

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, 2, k))
        img = self.images[self.image_index(k)]
        donor = None
        if self.crop:
            img = random_crop(img, self.crop, rng, self.reach, self.tile_share, self.overlap)
            donor = random_crop(self.images[int(rng.integers(len(self.images)))], self.crop, rng, self.reach)
            donor = donor.astype(np.float32) / 255.0
        s = self.sim(img.astype(np.float32) / 255.0, rng, donor)
        return sample_tensors(s)


class SurfaceDataset(Dataset):
    """Base-model training: sample k is a crop of a normal surface drawn from a
    :class:`core.synth.surfaces.SurfaceSource` (with a donor crop of the same surface), then
    the simulator's anomaly. Deterministic in (seed, k), like :class:`SynthDataset`."""

    def __init__(self, surfaces, simulator: AnomalySimulator, seed: int = 0, crop: int = 128):
        self.surfaces, self.sim, self.seed, self.crop = surfaces, simulator, seed, int(crop)

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, 3, k))
        img, donor = self.surfaces.pair(self.crop, rng)
        s = self.sim(img, rng, donor)
        return sample_tensors(s)


def sample_tensors(s) -> dict[str, torch.Tensor]:
    """A :class:`core.synth.simulator.SimSample` as the CHW tensors a training batch holds."""
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


def make_simulator(textures: str | Path | None, grayscale: bool, anomalies: str = "paper") -> AnomalySimulator:
    return simulator_for(anomalies, make_texture_source(textures), grayscale)
