"""Archived part images with their heat map blended over, as numpy arrays and QImages.

Runs in the gallery's worker thread (QImage, unlike QPixmap, may be made off the GUI thread):
the GUI thread only turns the finished QImage into a pixmap.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.wizard.qtutil import to_qimage
from core.display import to_bgr8
from core.store.records import ResultRecord

HEAT_ALPHA = 0.45  # as the live view's default overlay


def overlay(archive: Path, record: ResultRecord, heat: bool = True) -> np.ndarray:
    """The archived image of ``record`` (BGR), its archived heat map blended over when ``heat``
    and present. OSError when the image cannot be read (pruned, moved, unreadable)."""
    if record.image_path is None:
        raise OSError(f"result {record.id} has no archived image")
    path = archive / record.image_path
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise OSError(f"cannot read {path}")
    base = to_bgr8(image)
    if heat and record.heatmap_path:
        hm = cv2.imread(str(archive / record.heatmap_path), cv2.IMREAD_COLOR)
        if hm is not None:  # a missing heat map: the image alone is still worth showing
            if hm.shape[:2] != base.shape[:2]:
                hm = cv2.resize(hm, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_LINEAR)
            base = cv2.addWeighted(base, 1.0 - HEAT_ALPHA, hm, HEAT_ALPHA, 0.0)
    return base


def thumbnail(archive: Path, record: ResultRecord, size: int) -> QImage:
    """A ``size``-pixel (longest side) QImage of the overlay; a grey "image gone" tile when the
    file cannot be read, so that the part still shows with its verdict and score."""
    try:
        img = overlay(archive, record)
    except OSError:
        img = np.full((size, size, 3), 60, np.uint8)
        cv2.putText(img, "no image", (6, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (200, 200, 200), 1, cv2.LINE_AA)
    h, w = img.shape[:2]
    scale = size / max(h, w)
    if scale < 1.0:  # shrink in OpenCV: area averaging, and a small array to copy
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
        return to_qimage(img)
    return to_qimage(img).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
