"""Collecting good samples for training (no Qt): near-duplicates, blur, the sample folder.

* Near-duplicates: each image becomes a small grayscale thumbnail (normalised for
  brightness); two images whose thumbnails differ by less than ``threshold`` grey levels
  on average are near-duplicates (a part that did not move, the same file imported twice).
* Blur: variance of the Laplacian, compared with the median of the set; an image far below
  the median is flagged (focus lost, motion blur).
* :class:`SampleFolder`: numbered PNG files in one folder; removed samples move to a
  ``removed/`` sub-folder so nothing is lost.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from core.display import to_uint8
from core.io.images import ImageReadError, list_images, read_image, write_image_atomic

RECOMMENDED_SAMPLES = 50   # shown against the counter; DRAEM trains on fewer, but less reliably
MINIMUM_SAMPLES = 8        # below this the wizard refuses to train (4 to train + held-out ones)
THUMB_SIZE = 16
DUPLICATE_THRESHOLD = 2.0  # mean absolute difference of thumbnails, grey levels (0-255)
BLUR_RATIO = 0.35          # flagged when the Laplacian variance is below this x the set's median


def _gray8(image: np.ndarray) -> np.ndarray:
    img = to_uint8(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
    return img


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A 16x16 float32 grayscale thumbnail with the mean removed (robust to small brightness drift)."""
    small = cv2.resize(_gray8(image), (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    return small - small.mean()


def thumb_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, in grey levels."""
    return float(np.mean(np.abs(a - b)))


def blur_score(image: np.ndarray) -> float:
    """Variance of the Laplacian: high for sharp images, low for blurred ones."""
    return float(cv2.Laplacian(_gray8(image), cv2.CV_64F).var())


class DuplicateFilter:
    """Remembers the thumbnails of accepted images; :meth:`accept` refuses near-duplicates."""

    def __init__(self, threshold: float = DUPLICATE_THRESHOLD) -> None:
        self.threshold = threshold
        self._thumbs: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._thumbs)

    def is_duplicate(self, image: np.ndarray) -> bool:
        t = thumbnail(image)
        return any(thumb_distance(t, other) < self.threshold for other in self._thumbs)

    def accept(self, image: np.ndarray) -> bool:
        """Add ``image`` unless it is a near-duplicate of one already accepted; True if added."""
        t = thumbnail(image)
        if any(thumb_distance(t, other) < self.threshold for other in self._thumbs):
            return False
        self._thumbs.append(t)
        return True

    def add(self, image: np.ndarray) -> None:
        """Remember ``image`` without checking (samples already on disk)."""
        self._thumbs.append(thumbnail(image))


@dataclass
class ReviewFlags:
    """Per-image findings of :func:`review`; ``problems`` maps a path to its reasons."""

    blur: dict[Path, float] = field(default_factory=dict)
    problems: dict[Path, list[str]] = field(default_factory=dict)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)

    def flagged(self) -> list[Path]:
        return sorted(self.problems)


def review(paths: list[Path], *, duplicate_threshold: float = DUPLICATE_THRESHOLD,
           blur_ratio: float = BLUR_RATIO) -> ReviewFlags:
    """Flag blurred images and near-duplicates (the later of each pair) among ``paths``."""
    flags = ReviewFlags()
    thumbs: list[tuple[Path, np.ndarray]] = []
    for p in paths:
        try:
            img = read_image(p)
        except ImageReadError as exc:
            flags.unreadable.append((p, exc.problem))
            flags.problems.setdefault(p, []).append("unreadable")
            continue
        flags.blur[p] = blur_score(img)
        t = thumbnail(img)
        for q, other in thumbs:
            if thumb_distance(t, other) < duplicate_threshold:
                flags.problems.setdefault(p, []).append(f"near-duplicate of {q.name}")
                break
        thumbs.append((p, t))
    if flags.blur:
        median = float(np.median(list(flags.blur.values())))
        for p, score in flags.blur.items():
            if median > 0 and score < blur_ratio * median:
                flags.problems.setdefault(p, []).append(
                    f"blurred (sharpness {score:.0f}, set median {median:.0f})")
    return flags


class SampleFolder:
    """Good samples of one recipe: ``sample-00001.png`` ... in ``root``."""

    PREFIX = "sample-"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._next = self._highest() + 1

    def _highest(self) -> int:
        numbers = [0]
        for folder in (self.root, self.root / "removed"):
            if folder.is_dir():
                for p in folder.glob(f"{self.PREFIX}*"):
                    digits = p.stem[len(self.PREFIX):]
                    if digits.isdigit():
                        numbers.append(int(digits))
        return max(numbers)

    def paths(self) -> list[Path]:
        return sorted(p for p in list_images(self.root) if p.parent == self.root)

    def __len__(self) -> int:
        return len(self.paths())

    def add(self, image: np.ndarray) -> Path:
        """Write ``image`` as the next numbered PNG (atomically); returns its path."""
        path = self.root / f"{self.PREFIX}{self._next:05d}.png"
        write_image_atomic(path, image)
        self._next += 1
        return path

    def import_folder(self, folder: str | Path, dedupe: DuplicateFilter | None = None
                      ) -> tuple[list[Path], list[tuple[Path, str]]]:
        """Copy the readable images of ``folder`` in; returns (added, skipped with reasons)."""
        src = Path(folder)
        if not src.is_dir():
            raise FileNotFoundError(f"import folder {src} does not exist or is not a folder")
        added: list[Path] = []
        skipped: list[tuple[Path, str]] = []
        for p in list_images(src):
            try:
                img = read_image(p)
            except ImageReadError as exc:
                skipped.append((p, str(exc)))
                continue
            if dedupe is not None and not dedupe.accept(img):
                skipped.append((p, "near-duplicate of an image already collected"))
                continue
            added.append(self.add(img))
        return added, skipped

    def remove(self, paths: list[Path]) -> Path:
        """Move ``paths`` to ``removed/`` (kept, not deleted); returns that folder."""
        dest = self.root / "removed"
        dest.mkdir(exist_ok=True)
        for p in paths:
            p = Path(p)
            if p.parent != self.root:
                raise ValueError(f"{p} is not a sample of {self.root}")
            shutil.move(str(p), str(dest / p.name))
        return dest
