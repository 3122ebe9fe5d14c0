"""Dataset folders: the MVTec AD layout, or a plain folder of images.

MVTec AD layout::

    root/train/good/*                          defect-free training images
    root/test/good/*                           defect-free test images (label 0)
    root/test/<defect_type>/*                  defective test images (label 1)
    root/ground_truth/<defect_type>/<stem>_mask.png   optional pixel masks (non-zero = defect)

A plain folder (images directly inside) serves as training images, or as test images that
are all labelled good.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.io.images import IMAGE_EXTENSIONS, list_images, read_image

GOOD = "good"
_EXTS = ", ".join(IMAGE_EXTENSIONS)


@dataclass(frozen=True)
class Sample:
    """One test image with its ground truth."""

    path: Path
    label: int  # 0 good, 1 defective
    defect_type: str  # "good" or the defect folder name
    mask_path: Path | None  # ground-truth mask if present


def _existing_dir(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.exists():
        raise ValueError(f"dataset folder '{path}' does not exist")
    if not path.is_dir():
        raise ValueError(f"dataset folder '{path}' is not a directory")
    return path


def is_mvtec_layout(root: str | os.PathLike) -> bool:
    """True when ``root`` has ``train/good/`` or a ``test/`` folder with sub-folders."""
    path = Path(root)
    if (path / "train" / GOOD).is_dir():
        return True
    test = path / "test"
    return test.is_dir() and any(p.is_dir() for p in test.iterdir())


def train_good_images(root: str | os.PathLike) -> list[Path]:
    """Training images: ``root/train/good/*`` (MVTec layout) or the images in ``root`` itself.

    Raises ValueError naming the folder when it is missing or holds no images.
    """
    path = _existing_dir(root)
    folder = path / "train" / GOOD if is_mvtec_layout(path) else path
    if not folder.is_dir():
        raise ValueError(f"dataset '{path}' has a test/ folder but no training folder '{folder}'")
    images = list_images(folder)
    if not images:
        raise ValueError(f"no training images ({_EXTS}) in '{folder}'")
    return images


def _find_mask(ground_truth: Path, defect_type: str, image: Path) -> Path | None:
    folder = ground_truth / defect_type
    for name in (f"{image.stem}_mask.png", f"{image.stem}.png"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def test_samples(root: str | os.PathLike) -> list[Sample]:
    """Labelled test images, sorted by defect type then file name.

    MVTec layout: every ``root/test/<type>/`` image, label 0 for ``good`` and 1 otherwise;
    the mask is ``root/ground_truth/<type>/<stem>_mask.png`` (or ``<stem>.png``) when it
    exists, else None. A plain folder gives all its images as good samples.
    Raises ValueError naming the folder when no test images are found, or when images lie
    directly in ``test/`` (their label would be unknown).
    """
    path = _existing_dir(root)
    if not is_mvtec_layout(path):
        images = list_images(path)
        if not images:
            raise ValueError(f"no test images ({_EXTS}) in '{path}'")
        return [Sample(p, 0, GOOD, None) for p in images]

    test = path / "test"
    if not test.is_dir():
        raise ValueError(f"dataset '{path}' has no test folder '{test}'")
    loose = list_images(test)
    if loose:
        raise ValueError(
            f"{len(loose)} image(s) lie directly in '{test}' (e.g. '{loose[0].name}'); "
            "put them in test/good/ or test/<defect_type>/ so their label is known"
        )
    ground_truth = path / "ground_truth"
    samples: list[Sample] = []
    for folder in sorted(p for p in test.iterdir() if p.is_dir()):
        defect_type = folder.name
        for image in list_images(folder):
            if defect_type == GOOD:
                samples.append(Sample(image, 0, GOOD, None))
            else:
                mask = _find_mask(ground_truth, defect_type, image)
                samples.append(Sample(image, 1, defect_type, mask))
    if not samples:
        raise ValueError(f"no test images ({_EXTS}) in the sub-folders of '{test}'")
    return samples


def read_mask(sample: Sample, shape: tuple[int, int]) -> np.ndarray | None:
    """Ground-truth mask as uint8 {0, 1} of ``shape=(H, W)`` (nearest-neighbour resize).

    Good samples give zeros; a defective sample without a mask gives None. A mask pixel is
    a defect when it is above half the dtype's range (255-style masks, JPEG noise tolerated),
    or non-zero when the file holds only 0/1 values. Colour masks use their brightest channel.
    Raises ImageReadError for an unreadable mask file.
    """
    h, w = (int(v) for v in shape)
    if h <= 0 or w <= 0:
        raise ValueError(f"mask shape must be two positive integers (H, W), got {shape!r}")
    if sample.label == 0:
        return np.zeros((h, w), dtype=np.uint8)
    if sample.mask_path is None:
        return None
    mask = binary_mask(read_image(sample.mask_path))
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return mask


def binary_mask(raw: np.ndarray) -> np.ndarray:
    """A mask file's pixels as uint8 {0, 1} at their own size (the rule of :func:`read_mask`)."""
    if raw.ndim == 3:
        raw = raw.max(axis=2)
    limit = 0 if raw.max() <= 1 else np.iinfo(raw.dtype).max // 2
    return (raw > limit).astype(np.uint8)


TRAINED_ON = "used to train this model (an annotated defect): not counted"


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes: how a model names the annotated images it was trained on."""
    from core.inference.backends.export import file_sha256

    return file_sha256(path)


def trained_defects(meta: dict | None) -> set[str]:
    """Digests of the annotated defect images a model's training used
    (``meta["training_data"]["defects"]["sha256"]``; none for most models)."""
    data = (meta or {}).get("training_data")  # a table, or text in older bundles
    defects = data.get("defects") if isinstance(data, dict) else None
    digests = defects.get("sha256") if isinstance(defects, dict) else None
    return {str(d) for d in digests} if isinstance(digests, list) else set()


def leave_out_trained(samples: list[Sample], meta: dict | None
                      ) -> tuple[list[Sample], list[tuple[Path, str]]]:
    """Hold-out honesty: ``samples`` less every image the model was trained on, and those
    left out as (path, :data:`TRAINED_ON`) for the report: an evaluation never counts them,
    and never drops them silently."""
    used = trained_defects(meta)
    if not used:
        return samples, []
    kept, left = [], []
    for s in samples:
        try:
            seen = s.label == 1 and file_digest(s.path) in used
        except OSError:
            seen = False  # unreadable: the evaluation reports it when it reads it
        (left if seen else kept).append(s)
    return kept, [(s.path, TRAINED_ON) for s in left]
