"""Large colour-coded verdict tile: OK / REVIEW / NG, the image score and the thresholds."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout


class VerdictTile(QFrame):
    """Shows one verdict; colours come from the ``verdict`` dynamic property via QSS."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setProperty("verdict", "")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.verdict_label = QLabel("—", objectName="verdictText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.score_label = QLabel("score —", objectName="scoreText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.threshold_label = QLabel("", objectName="thresholdText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.threshold_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(2)
        for w in (self.verdict_label, self.score_label, self.threshold_label):
            layout.addWidget(w)
        self.setMinimumWidth(220)

    @property
    def verdict(self) -> str:
        return str(self.property("verdict"))

    def show_result(self, verdict: str, score: float, ok_limit: float, ng_limit: float,
                    preview: bool = False) -> None:
        """Display a verdict; ``preview`` marks thresholds that are not applied yet."""
        self.verdict_label.setText(verdict)
        self.score_label.setText(f"score {score:.3f}")
        note = "  (preview, not applied)" if preview else ""
        self.threshold_label.setText(f"OK < {ok_limit:.3f}   NG ≥ {ng_limit:.3f}{note}")
        self._set_verdict(verdict)

    def clear(self, text: str = "—") -> None:
        self.verdict_label.setText(text)
        self.score_label.setText("score —")
        self.threshold_label.setText("")
        self._set_verdict("")

    def _set_verdict(self, verdict: str) -> None:
        if self.property("verdict") == verdict:
            return
        self.setProperty("verdict", verdict)
        self.style().unpolish(self)
        self.style().polish(self)
        for child in self.findChildren(QLabel):
            self.style().unpolish(child)
            self.style().polish(child)
