"""Apply a recipe's preprocessing and ROI to a frame (numpy only).

Order: rotate (clockwise), flip horizontally, flip vertically, grayscale, then crop the ROI
(so ROI coordinates refer to the rotated/flipped frame).
"""

from __future__ import annotations

import numpy as np

from core.recipe.model import Preprocessing, Roi


def apply_preprocessing(frame: np.ndarray, pre: Preprocessing, roi: Roi | None) -> np.ndarray:
    """Return the preprocessed, cropped view of ``frame`` (H x W or H x W x C, BGR)."""
    out = frame
    if pre.rotate:
        out = np.rot90(out, k=-(pre.rotate // 90), axes=(0, 1))
    if pre.flip_horizontal:
        out = out[:, ::-1]
    if pre.flip_vertical:
        out = out[::-1]
    if pre.grayscale and out.ndim == 3:
        if out.shape[2] >= 3:
            gray = out[..., :3].astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
            if np.issubdtype(frame.dtype, np.integer):
                gray = np.clip(np.rint(gray), np.iinfo(frame.dtype).min, np.iinfo(frame.dtype).max)
            out = gray.astype(frame.dtype)
        else:
            out = out[..., 0]
    if roi is not None:
        h, w = out.shape[:2]
        if roi.x + roi.w > w or roi.y + roi.h > h:
            raise ValueError(f"roi {roi.x},{roi.y},{roi.w}x{roi.h} lies outside the "
                             f"{w}x{h} frame")
        out = out[roi.y: roi.y + roi.h, roi.x: roi.x + roi.w]
    return np.ascontiguousarray(out)
