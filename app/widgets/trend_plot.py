"""Trend of the last few hundred image scores, with draggable OK / NG limit lines."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.widgets.plot_lines import ThresholdLines


class TrendPlot(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.setLabel("left", "score")
        item.setLabel("bottom", "frames ago")
        item.showGrid(x=False, y=True, alpha=0.25)
        self.curve = self.plot([], [], pen=pg.mkPen("#8ab4f8", width=1.5))
        item.getAxis("left").enableAutoSIPrefix(False)
        self.lines = ThresholdLines(item, angle=0)
        self.setMouseEnabled(x=False, y=False)
        self._range = (0.0, 1.0)
        self.setYRange(*self._range, padding=0.02)

    def set_score_range(self, lo: float, hi: float) -> None:
        """Fixed y range (the score scale), so that the threshold lines stay in view."""
        self._range = (float(lo), float(hi))
        self.setYRange(lo, hi, padding=0.02)

    def set_scores(self, scores: np.ndarray) -> None:
        """Draw ``scores`` (oldest first); the newest is at x = 0."""
        scores = np.asarray(scores, dtype=float)
        n = len(scores)
        self.curve.setData(np.arange(-n + 1, 1, dtype=float), scores)
        finite = scores[np.isfinite(scores)]
        hi = max(self._range[1], float(finite.max())) if finite.size else self._range[1]
        self.setYRange(self._range[0], hi, padding=0.02)
