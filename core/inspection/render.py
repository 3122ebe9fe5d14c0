"""Display helpers for the live view: image conversion and the defect outline layer.

(Blended overlays for files and snapshots: :func:`core.inference.overlay.render_overlay`.)
"""

from __future__ import annotations

import cv2
import numpy as np


def to_display_rgb(image: np.ndarray) -> np.ndarray:
    """Row-major uint8 image for display: BGR becomes RGB, gray stays 2-D.

    uint16 frames are MSB-aligned (see :class:`core.camera.frame.Frame`), so the top byte is shown.
    """
    if image.dtype == np.uint16:
        img = (image >> 8).astype(np.uint8)
    elif image.dtype == np.uint8:
        img = image
    else:
        raise ValueError(f"image dtype {image.dtype} not supported (expected uint8 or uint16)")
    if img.ndim == 3 and img.shape[2] == 1:
        return img[:, :, 0]
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # ~10x faster than a reversed-slice copy
    if img.ndim == 3:
        return np.ascontiguousarray(img[:, :, 2::-1])
    return img


def outline_rgba(anomaly_map: np.ndarray, pixel: float, colour: tuple[int, int, int] = (0, 255, 255),
                 thickness: int | None = None) -> np.ndarray:
    """HxWx4 uint8 image, transparent except the outline (RGB ``colour``) of the pixels whose
    anomaly value is at or above ``pixel``."""
    h, w = anomaly_map.shape[:2]
    out = np.zeros((h, w, 4), dtype=np.uint8)
    mask = (np.asarray(anomaly_map) >= pixel).astype(np.uint8)
    if not mask.any():
        return out
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, max(h, w) // 300) if thickness is None else thickness
    cv2.drawContours(out, contours, -1, (*colour, 255), thickness)
    return out
