"""Small Qt helpers shared by the wizard pages: numpy -> pixmap, labels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

from core.display import to_uint8


def to_qimage(image: np.ndarray) -> QImage:
    """BGR or gray uint8/uint16 array -> QImage (a copy)."""
    img = np.ascontiguousarray(to_uint8(image))
    h, w = img.shape[:2]
    if img.ndim == 2:
        return QImage(img.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(img[..., 2::-1])
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(image: np.ndarray, size: int | None = None) -> QPixmap:
    pix = QPixmap.fromImage(to_qimage(image))
    if size:
        pix = pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
    return pix


def message_label() -> QLabel:
    """A word-wrapped label for errors and notes (colour set by :func:`show_message`)."""
    label = QLabel("", wordWrap=True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def show_message(label: QLabel, text: str, error: bool = False) -> None:
    label.setStyleSheet("color: #c62828; font-weight: bold;" if error else "color: #1b5e20;")
    label.setText(text)

