"""Display helpers, Qt-free: images to uint8, the JET heat map, the defect outline, the overlay.

Used by every layer that shows or saves a picture of an image or an anomaly map (live view,
snapshots, the results archive, training previews, ``predict`` overlays, the wizard), so the
pixels come out the same wherever they are drawn. Only numpy and OpenCV; no other core module.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(image: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """``image`` as uint8: uint8 unchanged, uint16 its top byte (frames are MSB-aligned, see
    :class:`core.camera.frame.Frame`), float (values in [0, 1]) times 255, clipped, NaN as 0,
    computed in float64 for float64 input and in float32 otherwise.

    Floats are truncated, as heat maps and float images have always been shown;
    ``nearest=True`` rounds to the nearest level (training images and training previews).
    """
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    scaled = np.asarray(image, np.float64 if image.dtype == np.float64 else np.float32) * 255.0
    if nearest:
        scaled += 0.5
    return np.nan_to_num(np.clip(scaled, 0, 255)).astype(np.uint8)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any uint8/uint16/float gray or BGR(A) image as uint8 BGR."""
    img = to_uint8(image)
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def to_display_rgb(image: np.ndarray) -> np.ndarray:
    """Row-major uint8 image for the live view: BGR becomes RGB, gray stays 2-D."""
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"image dtype {image.dtype} not supported (expected uint8 or uint16)")
    img = to_uint8(image)
    if img.ndim == 3 and img.shape[2] == 1:
        return img[:, :, 0]
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # ~10x faster than a reversed-slice copy
    if img.ndim == 3:
        return np.ascontiguousarray(img[:, :, 2::-1])
    return img


def heatmap_bgr(amap: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """An anomaly map in [0, 1] as a JET-coloured uint8 BGR image (blue low, red high);
    ``nearest`` as in :func:`to_uint8`."""
    return cv2.applyColorMap(to_uint8(amap, nearest=nearest), cv2.COLORMAP_JET)


def draw_outline(canvas: np.ndarray, amap: np.ndarray, pixel: float, colour: tuple[int, ...],
                 thickness: int) -> np.ndarray:
    """Draw on ``canvas`` (in place, and returned) the outer outline of the pixels of ``amap``
    at or above ``pixel``; ``colour`` is in the canvas's channel order."""
    mask = (np.asarray(amap) >= pixel).astype(np.uint8)
    if mask.any():
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, colour, thickness)
    return canvas


def outline_rgba(anomaly_map: np.ndarray, pixel: float, colour: tuple[int, int, int] = (0, 255, 255),
                 thickness: int | None = None) -> np.ndarray:
    """The live view's outline layer: HxWx4 uint8, transparent except the outline (RGB
    ``colour``) of the pixels whose anomaly value is at or above ``pixel``."""
    h, w = anomaly_map.shape[:2]
    thickness = max(1, max(h, w) // 300) if thickness is None else thickness
    return draw_outline(np.zeros((h, w, 4), dtype=np.uint8), anomaly_map, pixel, (*colour, 255), thickness)


def render_overlay(image: np.ndarray, amap: np.ndarray, alpha: float = 0.45,
                   pixel_threshold: float | None = 0.5) -> np.ndarray:
    """The heat map blended over the image (uint8 BGR, the image's size), with the pixels at or
    above ``pixel_threshold`` outlined in white (None: no outline). For files and snapshots."""
    base = to_bgr8(image)
    h, w = base.shape[:2]
    if amap.shape != (h, w):
        amap = cv2.resize(amap, (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.addWeighted(base, 1.0 - alpha, heatmap_bgr(amap), alpha, 0.0)
    if pixel_threshold is not None:
        draw_outline(out, amap, pixel_threshold, (255, 255, 255), max(1, round(min(h, w) / 256)))
    return out
