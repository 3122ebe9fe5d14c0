"""Recipe preprocessing of a frame image (rotate, flips, grayscale) and the ROI crop."""

from __future__ import annotations

import cv2
import numpy as np

from core.store.recipe import Preprocessing, Roi

_ROTATIONS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def apply_preprocessing(image: np.ndarray, pre: Preprocessing | None) -> np.ndarray:
    """Rotate (clockwise degrees), then flip, then convert to gray, as the recipe says.

    A grayscale result keeps three identical channels when the input had three, so the
    model input shape does not change.
    """
    if pre is None:
        return image
    out = image
    if pre.rotate:
        if pre.rotate not in _ROTATIONS:
            raise ValueError(f"preprocessing.rotate must be 0, 90, 180 or 270, got {pre.rotate}")
        out = cv2.rotate(out, _ROTATIONS[pre.rotate])
    if pre.flip_horizontal and pre.flip_vertical:
        out = cv2.flip(out, -1)
    elif pre.flip_horizontal:
        out = cv2.flip(out, 1)
    elif pre.flip_vertical:
        out = cv2.flip(out, 0)
    if pre.grayscale and out.ndim == 3:
        gray = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
        out = cv2.merge([gray, gray, gray])
    return out


def check_roi(roi: Roi, shape: tuple[int, ...]) -> None:
    """Raise ValueError unless ``roi`` lies inside an image of ``shape`` (H, W, ...)."""
    h, w = shape[:2]
    if roi.w < 1 or roi.h < 1 or roi.x < 0 or roi.y < 0 or roi.x + roi.w > w or roi.y + roi.h > h:
        raise ValueError(f"ROI x={roi.x} y={roi.y} w={roi.w} h={roi.h} does not fit in the "
                         f"{w}x{h} frame (after preprocessing)")


def crop_roi(image: np.ndarray, roi: Roi | None) -> np.ndarray:
    """The ROI part of ``image`` (a view, no copy); the whole image when ``roi`` is None."""
    if roi is None:
        return image
    check_roi(roi, image.shape)
    return image[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]
