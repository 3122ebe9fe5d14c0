"""The GUI thread's only job: paint. A ~30 Hz timer pulls the newest result and the status.

Freeze keeps the displayed result; a threshold preview (panel edited but not applied)
re-judges the displayed result at once, without re-running the model.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.widgets.counters import CountersPanel
from app.widgets.histogram_plot import HistogramPlot
from app.widgets.image_view import LiveImageView
from app.widgets.status_bar import CameraStatusBar
from app.widgets.thresholds_panel import ThresholdsPanel
from app.widgets.trend_plot import TrendPlot
from app.widgets.verdict_tile import VerdictTile
from core.inspection.result import InspectionResult
from core.recipe import Thresholds

PLOT_EVERY = 3  # ticks between plot updates (10 Hz at 30 Hz)
STATUS_EVERY = 8  # ticks between counter / status updates


class LivePresenter(QObject):
    displayed = Signal(object)  # the InspectionResult just painted (re-judged under a preview)

    def __init__(self, controller, view: LiveImageView, tile: VerdictTile, counters: CountersPanel,
                 trend: TrendPlot, histogram: HistogramPlot, panel: ThresholdsPanel,
                 status_bar: CameraStatusBar, fps: float = 30.0, parent=None) -> None:
        super().__init__(parent)
        self.controller, self.view, self.tile, self.counters = controller, view, tile, counters
        self.trend, self.histogram, self.panel, self.status_bar = trend, histogram, panel, status_bar
        self.frozen = False
        self.result: InspectionResult | None = None  # as inspected (in-force thresholds)
        self._preview: Thresholds | None = None
        self._in_force: Thresholds | None = None
        self._seq = -1
        self._history_mark = -1
        self._ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, round(1000.0 / fps)))
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    # --- state ------------------------------------------------------------------------------
    def set_frozen(self, frozen: bool) -> None:
        self.frozen = bool(frozen)
        self.tile.set_frozen(self.frozen)

    def preview(self) -> Thresholds | None:
        """Thresholds being tried in the panel (None when the ones in force are shown)."""
        return self._preview

    def set_in_force(self, thresholds: Thresholds | None) -> None:
        """The thresholds the worker applies (after a start or an apply)."""
        self._in_force = thresholds
        self.set_preview(self._preview)

    def set_preview(self, thresholds: Thresholds | None) -> None:
        """Show the displayed frame, the what-if counts and the lines under ``thresholds``."""
        self._preview = thresholds
        t = thresholds or self._in_force
        if t is not None:
            self.trend.lines.set_values(t.ok_limit, t.ng_limit)
            self.histogram.lines.set_values(t.ok_limit, t.ng_limit)
            self.panel.show_what_if(self.controller.history.what_if(t.ok_limit, t.ng_limit))
        self._paint_result(full=False)

    def displayed_result(self) -> InspectionResult | None:
        if self.result is None:
            return None
        t = self._preview or self._in_force
        return self.result if t is None or t == self.result.thresholds else self.result.rejudged(t)

    def clear(self) -> None:
        self.result, self._seq = None, -1
        self.tile.clear()
        self.view.clear()

    # --- painting ---------------------------------------------------------------------------
    def tick(self) -> None:
        self._ticks += 1
        if not self.frozen:
            r = self.controller.latest()
            if r is not None and r.seq != self._seq:
                self.result, self._seq = r, r.seq
                self._paint_result(full=True)
        if self._ticks % PLOT_EVERY == 0:
            self._paint_history()
        if self._ticks % STATUS_EVERY == 0:
            self.counters.show_counts(self.controller.counters.snapshot())
            self.status_bar.show_status(self.controller.status())

    def _paint_result(self, full: bool) -> None:
        shown = self.displayed_result()
        if shown is None:
            return
        t = shown.thresholds
        if full:
            self.view.show_frame(shown.image, shown.anomaly_map, t.pixel)
        else:
            self.view.set_pixel_threshold(t.pixel)
        self.tile.show_result(str(shown.verdict), shown.score, t.ok_limit, t.ng_limit,
                              preview=self._preview is not None)
        self.displayed.emit(shown)

    def _paint_history(self) -> None:
        h = self.controller.history
        if h.version == self._history_mark:
            return
        self._history_mark = h.version
        scores = h.scores()
        self.trend.set_scores(scores)
        self.histogram.set_scores(scores)
        t = self._preview or self._in_force
        if t is not None:
            self.panel.show_what_if(h.what_if(t.ok_limit, t.ng_limit))
