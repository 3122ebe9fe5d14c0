"""Small generated image sets for tests (no shared datasets needed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def part_image(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    img = np.full((size, size, 3), 110, np.uint8)
    img = cv2.add(img, rng.integers(0, 25, (size, size, 3), dtype=np.uint8))
    c = size // 2 + int(rng.integers(-2, 3))
    cv2.circle(img, (c, c), size // 4, (190, 170, 80), -1)
    return img


def make_mvtec_tree(root: Path, n_train: int = 12, n_good: int = 3, n_bad: int = 3,
                    size: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for sub in ("train/good", "test/good", "test/spot", "ground_truth/spot"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n_train):
        cv2.imwrite(str(root / f"train/good/{i:03d}.png"), part_image(rng, size))
    for i in range(n_good):
        cv2.imwrite(str(root / f"test/good/{i:03d}.png"), part_image(rng, size))
    for i in range(n_bad):
        img = part_image(rng, size)
        mask = np.zeros((size, size), np.uint8)
        cv2.circle(mask, (size // 3 + 3 * i, size // 3), size // 10, 255, -1)
        img[mask > 0] = (20, 20, 230)
        cv2.imwrite(str(root / f"test/spot/{i:03d}.png"), img)
        cv2.imwrite(str(root / f"ground_truth/spot/{i:03d}_mask.png"), mask)
    return root
