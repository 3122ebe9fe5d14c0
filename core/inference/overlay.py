"""Rendering of the anomaly map M_o over an image (for files and snapshots)."""

from __future__ import annotations

import cv2
import numpy as np


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any uint8/uint16 gray or BGR(A) image as uint8 BGR for display."""
    img = image
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img * 255.0, 0, 255).astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def heatmap_bgr(amap: np.ndarray) -> np.ndarray:
    """M_o in [0,1] as a colour-mapped uint8 BGR image (blue low, red high)."""
    return cv2.applyColorMap(np.clip(amap * 255.0, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)


def render_overlay(image: np.ndarray, amap: np.ndarray, alpha: float = 0.45,
                   pixel_threshold: float | None = 0.5) -> np.ndarray:
    """Blend the heat map over the image and outline pixels above ``pixel_threshold``."""
    base = to_bgr8(image)
    h, w = base.shape[:2]
    if amap.shape != (h, w):
        amap = cv2.resize(amap, (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.addWeighted(base, 1.0 - alpha, heatmap_bgr(amap), alpha, 0.0)
    if pixel_threshold is not None:
        region = (amap >= pixel_threshold).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, (255, 255, 255), max(1, round(min(h, w) / 256)))
    return out
