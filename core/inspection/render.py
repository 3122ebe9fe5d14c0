"""Pure-numpy/OpenCV rendering of results: display conversion, defect outline, heat-map overlay.

Used by the GUI (outline layer) and by the snapshot / archive writers (overlay images).
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(image: np.ndarray, bit_depth: int | None = None) -> np.ndarray:
    """uint8 copy of a uint8/uint16 image; uint16 is scaled by ``bit_depth`` (16 when None)."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        bits = 16 if bit_depth is None else int(bit_depth)
        return (image >> max(0, bits - 8)).clip(0, 255).astype(np.uint8)
    raise ValueError(f"image dtype {image.dtype} not supported (expected uint8 or uint16)")


def to_display_rgb(image: np.ndarray, bit_depth: int | None = None) -> np.ndarray:
    """Row-major uint8 image for display: BGR(A) becomes RGB, gray stays 2-D."""
    img = to_uint8(image, bit_depth)
    if img.ndim == 3 and img.shape[2] == 1:
        return img[:, :, 0]
    if img.ndim == 3:
        return np.ascontiguousarray(img[:, :, 2::-1])
    return img


def defect_mask(anomaly_map: np.ndarray, pixel: float) -> np.ndarray:
    """Pixels at or above the pixel threshold."""
    return np.asarray(anomaly_map) >= pixel


def outline_rgba(anomaly_map: np.ndarray, pixel: float, colour: tuple[int, int, int] = (0, 255, 255),
                 thickness: int | None = None) -> np.ndarray:
    """HxWx4 uint8 image, transparent except the outline of the defect mask (RGB ``colour``)."""
    h, w = anomaly_map.shape[:2]
    out = np.zeros((h, w, 4), dtype=np.uint8)
    mask = defect_mask(anomaly_map, pixel).astype(np.uint8)
    if not mask.any():
        return out
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, max(h, w) // 300) if thickness is None else thickness
    cv2.drawContours(out, contours, -1, (*colour, 255), thickness)
    return out


def heatmap_bgr(anomaly_map: np.ndarray) -> np.ndarray:
    """Anomaly map in [0, 1] as a BGR colour image (OpenCV 'inferno')."""
    m = (np.clip(anomaly_map, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.applyColorMap(m, cv2.COLORMAP_INFERNO)


def overlay_bgr(image: np.ndarray, anomaly_map: np.ndarray, pixel: float | None = None,
                opacity: float = 0.5, bit_depth: int | None = None) -> np.ndarray:
    """Image blended with its heat map (weighted by the anomaly value) and the defect outline."""
    img = to_uint8(image, bit_depth)
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    if img.shape[:2] != anomaly_map.shape[:2]:
        raise ValueError(f"overlay: anomaly map {anomaly_map.shape[:2]} does not match image {img.shape[:2]}")
    heat = heatmap_bgr(anomaly_map).astype(np.float32)
    alpha = (np.clip(anomaly_map, 0.0, 1.0) * float(opacity))[..., None]
    out = (img[:, :, :3].astype(np.float32) * (1 - alpha) + heat * alpha).astype(np.uint8)
    if pixel is not None:
        line = outline_rgba(anomaly_map, pixel, colour=(255, 255, 0))  # BGR cyan
        sel = line[:, :, 3] > 0
        out[sel] = line[sel][:, :3]
    return out
