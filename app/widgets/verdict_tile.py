"""Large colour-coded verdict tile: OK / REVIEW / NG, the image score and the thresholds.

Two states that change what the tile means are impossible to miss: a frozen display (the tile
shows an old frame while inspection goes on) and a threshold preview (the verdict is what the
unapplied limits would say). Each puts a banner across the tile and a striped border on it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from app.widgets.numfmt import decimals_to_tell_apart

BANNERS = {
    "frozen": "FROZEN: display paused, inspection goes on",
    "preview": "PREVIEW: limits not applied",
}


class VerdictTile(QFrame):
    """Shows one verdict; colours come from the ``verdict`` dynamic property via QSS."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setProperty("verdict", "")
        self.setProperty("state", "")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.banner = QLabel("", objectName="tileBanner", alignment=Qt.AlignmentFlag.AlignCenter)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.verdict_label = QLabel("—", objectName="verdictText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.score_label = QLabel("score —", objectName="scoreText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.threshold_label = QLabel("", objectName="thresholdText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.threshold_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(2)
        for w in (self.banner, self.verdict_label, self.score_label, self.threshold_label):
            layout.addWidget(w)
        self.setMinimumWidth(220)
        self._frozen = False
        self._preview = False

    @property
    def verdict(self) -> str:
        return str(self.property("verdict"))

    def show_result(self, verdict: str, score: float, ok_limit: float, ng_limit: float,
                    preview: bool = False) -> None:
        """Display a verdict; ``preview`` marks thresholds that are not applied yet."""
        d = decimals_to_tell_apart(score, ok_limit, ng_limit, minimum=3)
        self.verdict_label.setText(verdict)
        self.score_label.setText(f"score {score:.{d}f}")
        self.threshold_label.setText(f"OK < {ok_limit:.{d}f}   NG ≥ {ng_limit:.{d}f}")
        self._set_verdict(verdict)
        self._preview = bool(preview)
        self._refresh_state()

    def set_frozen(self, frozen: bool) -> None:
        self._frozen = bool(frozen)
        self._refresh_state()

    def clear(self, text: str = "—") -> None:
        self.verdict_label.setText(text)
        self.score_label.setText("score —")
        self.threshold_label.setText("")
        self._preview = False
        self._set_verdict("")
        self._refresh_state()

    def _refresh_state(self) -> None:
        states = [s for s, on in (("frozen", self._frozen), ("preview", self._preview)) if on]
        self.banner.setText("\n".join(BANNERS[s] for s in states))
        self.banner.setVisible(bool(states))
        self._set_property("state", "+".join(states))

    def _set_verdict(self, verdict: str) -> None:
        self._set_property("verdict", verdict)

    def _set_property(self, name: str, value: str) -> None:
        if self.property(name) == value:
            return
        self.setProperty(name, value)
        self.style().unpolish(self)
        self.style().polish(self)
        for child in self.findChildren(QLabel):
            self.style().unpolish(child)
            self.style().polish(child)
