"""Draggable threshold lines shared by the trend and histogram plots."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

LINE_PENS = {
    "ok_limit": pg.mkPen("#1e8e3e", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
    "ng_limit": pg.mkPen("#c5221f", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
}
LINE_LABELS = {"ok_limit": "OK", "ng_limit": "NG"}


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
                                   labelOpts={"position": 0.95, "color": pen.color(), "movable": False})
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

    def set_movable(self, movable: bool) -> None:
        for line in self.lines.values():
            line.setMovable(movable)
