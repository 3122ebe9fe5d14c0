"""Draggable threshold lines shared by the trend and histogram plots, and their score range."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

LINE_PENS = {
    "ok_limit": pg.mkPen("#1e8e3e", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
    "ng_limit": pg.mkPen("#c5221f", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
}
LINE_LABELS = {"ok_limit": "OK", "ng_limit": "NG"}
LABEL_POSITIONS = {"ok_limit": 0.93, "ng_limit": 0.72}  # apart, so close limits stay readable


class ThresholdLines(QObject):
    """An OK-limit and an NG-limit ``InfiniteLine`` on one plot; ``dragged(name, value)`` while moved."""

    dragged = Signal(str, float)

    def __init__(self, plot: pg.PlotItem, angle: int) -> None:
        super().__init__()
        self.lines: dict[str, pg.InfiniteLine] = {}
        for name, pen in LINE_PENS.items():
            line = pg.InfiniteLine(angle=angle, movable=False, pen=pen,
                                   hoverPen=pg.mkPen(pen.color(), width=4),
                                   label=LINE_LABELS[name],
                                   labelOpts={"position": LABEL_POSITIONS[name], "color": pen.color(),
                                              "movable": False, "fill": (0, 0, 0, 160)})
            line.setZValue(10)
            line.sigDragged.connect(lambda ln, n=name: self.dragged.emit(n, float(ln.value())))
            plot.addItem(line, ignoreBounds=True)
            self.lines[name] = line

    def set_values(self, ok_limit: float, ng_limit: float) -> None:
        for name, value in (("ok_limit", ok_limit), ("ng_limit", ng_limit)):
            line = self.lines[name]
            if abs(line.value() - value) > 1e-12:
                line.blockSignals(True)
                line.setValue(value)
                line.blockSignals(False)

    def values(self) -> tuple[float, float]:
        return float(self.lines["ok_limit"].value()), float(self.lines["ng_limit"].value())

    def set_movable(self, movable: bool) -> None:
        for line in self.lines.values():
            line.setMovable(movable)


class EmptyPlot(QObject):
    """Before the first score a plot shows a line of text instead of axes with no meaning."""

    def __init__(self, widget: pg.PlotWidget, lines: ThresholdLines,
                 text: str = "No scores yet: press Start") -> None:
        from PySide6.QtWidgets import QLabel

        super().__init__(widget)
        self.widget, self.lines = widget, lines
        self.label = QLabel(text, widget)
        self.label.setStyleSheet("color: #9aa0a6; background: transparent;")
        self.label.setAlignment(pg.QtCore.Qt.AlignmentFlag.AlignCenter)
        widget.installEventFilter(self)
        self._empty: bool | None = None
        self.set_empty(True)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == pg.QtCore.QEvent.Type.Resize:
            self.label.setGeometry(self.widget.rect())
        return False

    def isVisible(self) -> bool:  # noqa: N802 (Qt-like name)
        return not self.label.isHidden()

    def set_empty(self, empty: bool) -> None:
        if empty == self._empty:
            return
        self._empty = empty
        self.label.setGeometry(self.widget.rect())
        self.label.setVisible(empty)
        item = self.widget.getPlotItem()
        for axis in ("left", "bottom"):
            item.showAxis(axis, not empty)
        for line in self.lines.lines.values():
            line.setVisible(not empty)


def score_span(scores: np.ndarray, lines: ThresholdLines) -> tuple[float, float]:
    """A score range showing the finite ``scores`` and both limits, with a margin."""
    ok, ng = lines.values()
    finite = scores[np.isfinite(scores)]
    lo = min(ok, float(finite.min())) if finite.size else ok
    hi = max(ng, float(finite.max())) if finite.size else ng
    pad = max(0.1 * (hi - lo), 0.02)
    return max(0.0, lo - pad), hi + pad
