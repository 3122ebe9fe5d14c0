"""Trend of the last few hundred image scores, with draggable OK / NG limit lines."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.widgets.plot_lines import EmptyPlot, ThresholdLines, score_span


class TrendPlot(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.setLabel("left", "score")
        item.setLabel("bottom", "frames ago")
        # No grid: pyqtgraph draws it with the axis, and repainting it took ~8 of the 10 ms a
        # trend update costs (10 per second); the limit lines are the reference that matters.
        item.getAxis("left").enableAutoSIPrefix(False)
        self.curve = self.plot([], [], pen=pg.mkPen("#8ab4f8", width=1.5))
        self.lines = ThresholdLines(item, angle=0)
        self.setMouseEnabled(x=False, y=False)
        self.setYRange(0.0, 1.0, padding=0.02)
        self.placeholder = EmptyPlot(self, self.lines)

    def set_scores(self, scores: np.ndarray) -> None:
        """Draw ``scores`` (oldest first; newest at x = 0); the y range shows them and both limits."""
        scores = np.asarray(scores, dtype=float)
        self.placeholder.set_empty(len(scores) == 0)
        n = len(scores)
        self.curve.setData(np.arange(-n + 1, 1, dtype=float), scores)
        self.setYRange(*score_span(scores, self.lines), padding=0.0)
