"""Small Qt helpers shared by the wizard pages: numpy -> pixmap, background calls, labels."""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
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


class _Relay(QObject):
    finished = Signal(object, object, object)  # (callback, result, error message or None)


class Background:
    """Run a function in a plain thread; the callback runs in the GUI thread."""

    def __init__(self) -> None:
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver)
        self.busy = False

    def run(self, fn: Callable[[], Any], done: Callable[[Any, str | None], None]) -> None:
        self.busy = True

        def work() -> None:
            try:
                result, error = fn(), None
            except Exception as exc:  # shown to the user, never swallowed
                traceback.print_exc()
                result, error = None, str(exc) or type(exc).__name__
            self._relay.finished.emit(done, result, error)

        threading.Thread(target=work, daemon=True).start()

    def _deliver(self, done: Callable[[Any, str | None], None], result: Any, error: str | None) -> None:
        self.busy = False
        done(result, error)


class EventRelay(QObject):
    """Carries events from a reader thread to the GUI thread (queued connection)."""

    event = Signal(object)
