"""Annotated defective images for DSR's supervised extension: read, check, scale, crop.

A defect folder is either in the MVTec AD layout (``test/<kind>/<stem>.png`` with
``ground_truth/<kind>/<stem>_mask.png``; the folder may be the object's root or one
``test/<kind>`` folder of it) or a plain folder of images with ``<stem>_mask.png`` beside each
(any image extension), or in ``masks/`` as the Validate page's defect folder has them. Every
image that cannot be used is skipped and reported as (path, reason): no mask, an unreadable
image or mask, a mask of another size, an empty mask, a good image (``test/good``). Nothing
here raises on a bad file.

Images come back as uint8 BGR, masks as uint8 {0, 1}; ``size``/``mode``/``scale`` scale them
exactly as the good images were (:func:`core.training.data.fit_images`, the logic of
``load_image_set``), the masks to each scaled image's size (a scaled mask pixel is a defect
when any source pixel under it was).

**Hold-out honesty.** An annotated image used for training has been *seen*: it must never be
counted in an evaluation of a model trained with it (its score would flatter the model). Keep
the images you train on apart from the ones you test on (e.g. copy a few defect images out of
the test set into their own folder), and have evaluation report every image it leaves out
rather than leave it out silently. :attr:`DefectSet.paths` names the files used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import torch

from core.inference.tiling import pad_to
from core.evaluation.datasets import (
    Sample, binary_mask, file_digest, is_mvtec_layout, test_samples,
)
from core.io.images import IMAGE_EXTENSIONS, ImageReadError, list_images, load_images, read_image
from core.training.data import fit_images

__all__ = ["DefectSet", "DefectBatches", "MASK_SUFFIX", "DEFECT_PREFERENCE", "find_defects",
           "load_defects", "usable_defects", "defects_meta", "defect_crop", "defect_batches",
           "DefectFeed", "DefectsRanOut", "check_share", "mix_in"]

MASK_SUFFIX = "_mask"
DefectBatches = Iterable[tuple[torch.Tensor, torch.Tensor]]
"""What the DSR stages take as ``defects``: (images [B, C, H, W], masks [B, 1, H, W]) batches."""
DEFECT_PREFERENCE = 0.9
"""Share of the crops drawn around a defect pixel; the rest fall anywhere (defect-free parts
of a defective image are real normal surface too)."""


@dataclass
class DefectSet:
    """Annotated defects: ``images[i]`` (uint8 BGR HxWx3) with ``masks[i]`` (uint8 {0, 1} HxW)
    from ``paths[i]``; ``skipped`` the (path, reason) of every image left out."""

    paths: list[Path] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    scale: float | None = None

    def __len__(self) -> int:
        return len(self.paths)


def _is_mask(p: Path) -> bool:
    return p.stem.endswith(MASK_SUFFIX)


def _mask_beside(image: Path) -> Path | None:
    """``<stem>_mask.*`` beside the image, else in ``masks/`` (the Validate page's defect
    folder: ``masks/<stem>_mask.png`` or ``masks/<stem>.png``)."""
    for folder, stems in ((image.parent, (image.stem + MASK_SUFFIX,)),
                          (image.parent / "masks", (image.stem + MASK_SUFFIX, image.stem))):
        for stem in stems:
            for ext in IMAGE_EXTENSIONS:
                for cand in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
                    if cand.is_file():
                        return cand
    return None


def _mvtec_samples(root: Path) -> list[Sample] | None:
    """The test samples when ``root`` is an MVTec object, or one ``test/<kind>`` folder of it."""
    if is_mvtec_layout(root):
        return test_samples(root)
    if root.parent.name == "test" and is_mvtec_layout(root.parent.parent):
        return [s for s in test_samples(root.parent.parent) if s.path.parent == root]
    return None


def find_defects(folder: str | Path) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """(image, mask) path pairs in ``folder`` and the (path, reason) of images without a mask.

    MVTec layout through core.evaluation.datasets.test_samples (the same masks evaluation
    finds). Raises ValueError (one line) only for a folder that is missing or not one.
    """
    root = Path(folder)
    samples = _mvtec_samples(root) if root.is_dir() else None
    if samples is None:
        samples = [Sample(p, 1, "defect", _mask_beside(p)) for p in list_images(root)
                   if not _is_mask(p)]
    pairs: list[tuple[Path, Path]] = []
    missing: list[tuple[Path, str]] = []
    for s in samples:
        if s.label == 0:
            missing.append((s.path, "a good image (test/good), not a defect"))
        elif s.mask_path is None:
            missing.append((s.path, f"no mask {s.path.stem}{MASK_SUFFIX}.png for it"))
        else:
            pairs.append((s.path, s.mask_path))
    return pairs, missing


def _mask_to(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if mask.shape[:2] == shape:
        return mask
    shrink = shape[0] <= mask.shape[0] and shape[1] <= mask.shape[1]
    out = cv2.resize(mask.astype(np.float32), (shape[1], shape[0]),
                     interpolation=cv2.INTER_AREA if shrink else cv2.INTER_NEAREST)
    return (out > 0).astype(np.uint8)


def load_defects(folder: str | Path, size: tuple[int, int] | None = None, mode: str = "resize",
                 scale: float | None = None, grayscale: bool = False) -> DefectSet:
    """The usable annotated defects of ``folder``; unusable ones in ``skipped`` with the reason.

    ``size=None`` keeps the camera's pixels; otherwise the images are fitted like the good
    ones: resize mode squashes them to ``size``, tiles mode scales them by ``scale`` (pass the
    good images' ``ImageSet.scale``); ``grayscale``: made gray (three equal channels) as a
    model trained on gray images sees them. See the module docstring on hold-out honesty.
    """
    if mode not in ("resize", "tiles"):
        raise ValueError(f"mode must be 'resize' or 'tiles', got {mode!r}")
    pairs, skipped = find_defects(folder)
    loaded, unreadable = load_images([img for img, _ in pairs])
    skipped += unreadable
    mask_of = dict(pairs)
    paths, images, masks = [], [], []
    for path, image in loaded:
        try:
            mask = binary_mask(read_image(mask_of[path]))
        except ImageReadError as exc:
            skipped.append((path, f"mask {mask_of[path].name}: {exc.problem}"))
            continue
        if mask.shape != image.shape[:2]:
            skipped.append((path, f"mask {mask.shape[1]}x{mask.shape[0]} is not the image's size "
                                  f"{image.shape[1]}x{image.shape[0]}"))
        elif not mask.any():
            skipped.append((path, f"mask {mask_of[path].name} marks no defect pixel"))
        else:
            paths.append(path)
            images.append(image)
            masks.append(mask)
    out = DefectSet(paths, [], [], sorted(skipped), None)
    if images:
        if size is None:  # the camera's pixels, made uint8 BGR as training makes them
            fitted, _ = fit_images(images, (1, 1), "tiles", 1.0)
        else:
            fitted, out.scale = fit_images(images, size, mode, scale)
        out.images = list(fitted)
        if grayscale:
            out.images = [cv2.cvtColor(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
                          for im in out.images]
        out.masks = [_mask_to(m, im.shape[:2]) for m, im in zip(masks, out.images)]
    return out


def usable_defects(folder: str | Path, size: tuple[int, int] | None = None, mode: str = "resize",
                   scale: float | None = None, grayscale: bool = False) -> DefectSet:
    """:func:`load_defects` for a training run: ValueError (one line) when ``folder`` gives no
    usable annotated defect, naming the first reason."""
    found = load_defects(folder, size, mode, scale, grayscale)
    if not len(found):
        why = f"; e.g. {found.skipped[0][0].name}: {found.skipped[0][1]}" if found.skipped else ""
        raise ValueError(f"no usable annotated defect image in {folder} "
                         f"({len(found.skipped)} skipped{why})")
    return found


def defects_meta(defects: DefectSet, folder: str | Path, share: float) -> dict:
    """What a bundle records of the annotated defects it was trained on (``meta
    ["training_data"]["defects"]``): how many, from where, the share, and each file's SHA-256,
    by which evaluation leaves them out (core.evaluation.datasets.leave_out_trained)."""
    return {"source": str(folder), "images": len(defects), "skipped": len(defects.skipped),
            "share": float(share), "sha256": [file_digest(p) for p in defects.paths]}


def defect_crop(image: np.ndarray, mask: np.ndarray, size: int | tuple[int, int],
                rng: np.random.Generator, prefer: float = DEFECT_PREFERENCE
                ) -> tuple[np.ndarray, np.ndarray]:
    """A ``size`` (side, or (h, w)) crop of (image, mask); with probability ``prefer`` one
    holding a defect pixel chosen at random (at a random place in the crop), else anywhere.
    An image smaller than ``size`` is padded by reflection first, its mask alike."""
    ch, cw = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    image, mask = pad_to(image, (ch, cw)), pad_to(mask, (ch, cw))
    h, w = mask.shape[:2]
    ys, xs = np.nonzero(mask)
    if len(ys) and rng.random() < prefer:
        i = int(rng.integers(len(ys)))
        y0 = int(rng.integers(max(0, ys[i] - ch + 1), min(ys[i], h - ch) + 1))
        x0 = int(rng.integers(max(0, xs[i] - cw + 1), min(xs[i], w - cw) + 1))
    else:
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return image[y0:y0 + ch, x0:x0 + cw], mask[y0:y0 + ch, x0:x0 + cw]


def defect_batches(defects: DefectSet, size: int | tuple[int, int], batch: int, seed: int = 0,
                   prefer: float = DEFECT_PREFERENCE
                   ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless batches of crops for the DSR stages' ``defects``: (images float [B, 3, H, W] in
    [0, 1], masks float {0, 1} [B, 1, H, W]), image i drawn uniformly, reproducible by seed.
    ``size``: the crop's side or (h, w) (resize mode: the model's input size)."""
    if not len(defects):
        raise ValueError("no usable annotated defect images")
    sides = (size, size) if isinstance(size, int) else tuple(size)
    if min(sides) < 1 or batch < 1:
        raise ValueError(f"crop size and batch must be >= 1, got {size} and {batch}")
    rng = np.random.default_rng((seed, 5))
    while True:
        crops = [defect_crop(defects.images[j], defects.masks[j], size, rng, prefer)
                 for j in rng.integers(len(defects), size=batch)]
        images = np.stack([c[0] for c in crops]).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        masks = np.stack([c[1] for c in crops])[:, None].astype(np.float32)
        yield torch.from_numpy(images), torch.from_numpy(masks)


def check_share(share: object) -> float:
    """``share`` as a float when it is a fraction in [0, 1]; else ValueError (one line)."""
    if isinstance(share, bool) or not (isinstance(share, (int, float)) and 0.0 <= share <= 1.0):
        raise ValueError(f"defect_share must be a fraction in [0, 1], got {share!r}")
    return float(share)


class DefectsRanOut(Exception):
    """The defect batches ended (a training stage then stops as when its images end)."""


class DefectFeed:
    """Real defect samples, a few per step, from an iterable of (images, masks) batches."""

    def __init__(self, defects: DefectBatches, share: float):
        self.stream, self.share = iter(defects), check_share(share)
        self.images: list[torch.Tensor] = []
        self.masks: list[torch.Tensor] = []

    def take(self, like: torch.Tensor, generator: torch.Generator
             ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """For a batch ``like``: share x B real samples, rounded up or down at random so that
        the share holds on average (exact when share x B is whole); None for none. A share
        of 0 draws nothing from ``generator`` (the stage runs as without defects)."""
        if not self.share:
            return None
        b = like.shape[0]
        u = float(torch.rand((1,), generator=generator, device=generator.device))
        k = min(b, int(self.share * b + u))
        while sum(len(i) for i in self.images) < k:
            try:
                images, masks = next(self.stream)
            except StopIteration:
                raise DefectsRanOut from None
            images = torch.as_tensor(images).to(like)
            masks = torch.as_tensor(masks).to(like)
            want = (len(images), 1, *like.shape[-2:])
            if images.shape[1:] != like.shape[1:] or masks.shape != want:
                raise ValueError(f"defect batches must be images {tuple(like.shape[1:])} with masks "
                                 f"(1, {like.shape[-2]}, {like.shape[-1]}), got "
                                 f"{tuple(images.shape[1:])} and {tuple(masks.shape[1:])}")
            self.images.append(images)
            self.masks.append((masks > 0.5).to(like))
        if not k:
            return None
        images, masks = torch.cat(self.images), torch.cat(self.masks)
        self.images, self.masks = [images[k:]], [masks[k:]]
        return images[:k], masks[:k]


def mix_in(synthetic: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """The batch with its last samples replaced by the real ones."""
    return torch.cat([synthetic[:synthetic.shape[0] - real.shape[0]], real])
