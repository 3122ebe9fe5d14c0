"""Histogram of recent image scores, with draggable OK / NG limit lines."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.widgets.plot_lines import EmptyPlot, ThresholdLines, score_span


class HistogramPlot(pg.PlotWidget):
    def __init__(self, parent=None, bins: int = 40) -> None:
        super().__init__(parent)
        self.bins = bins
        self.setMinimumHeight(120)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.setLabel("bottom", "score")
        item.setLabel("left", "frames")
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        self.bars = pg.PlotDataItem([0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                                    brush=pg.mkBrush(138, 180, 248, 150), pen=pg.mkPen("#8ab4f8"))
        self.addItem(self.bars)
        self.lines = ThresholdLines(item, angle=90)
        self.setMouseEnabled(x=False, y=False)
        self.setXRange(0.0, 1.0, padding=0.02)
        self.placeholder = EmptyPlot(self, self.lines)
        self.bars.setVisible(False)  # no bars before the first score

    def set_scores(self, scores: np.ndarray) -> None:
        """Histogram over a range that shows the finite ``scores`` and both limits."""
        scores = np.asarray(scores, dtype=float)
        self.placeholder.set_empty(len(scores) == 0)
        self.bars.setVisible(len(scores) > 0)
        lo, hi = score_span(scores, self.lines)
        counts, edges = np.histogram(scores[np.isfinite(scores)], bins=self.bins, range=(lo, hi))
        self.bars.setData(edges, counts.astype(float))
        self.setXRange(lo, hi, padding=0.0)
