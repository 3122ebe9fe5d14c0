"""A one-line label that never asks for more width than it gets: a text too long for the
space is cut with an ellipsis, and the whole text is in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy

MAX_HINT = 400  # pixels: the most a label asks for


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent=None, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        # its natural width (at most MAX_HINT) when there is room, down to nothing when not
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(min(super().sizeHint().width(), MAX_HINT), super().sizeHint().height())

    def elided_text(self) -> str:
        """The text as painted in the current width."""
        m = self.contentsMargins()
        room = max(0, self.width() - m.left() - m.right() - 2 * self.margin() - 2 * self.indent())
        return self.fontMetrics().elidedText(self.text().replace("\n", " "), Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        self.drawFrame(painter)  # the style sheet's background and border
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), self.elided_text(), self.foregroundRole())
