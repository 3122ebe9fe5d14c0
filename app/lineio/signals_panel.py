"""Every signal live: the last value of each output, the last inputs received, each link's
state (coloured dot, detail, sent / failed / queued) and the hub's counts. Fed by the page's
timer from the hub's snapshots; a table is rewritten only when what it shows changed."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from app.lineio.indicator import LINK_COLOURS
from core.lineio.contract import LineCommand, LineOutput, LinkStatus

STAT_NAMES = (("sent", "sent"), ("late", "late"), ("fail_safe", "fail-safe"), ("dropped", "dropped"),
              ("test", "test"))


def shown_value(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ON" if value else "off"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def clock_of(t_monotonic: float, now_mono: float | None = None, now_wall: float | None = None) -> str:
    """The wall-clock time (HH:MM:SS.mmm) of a time.monotonic() instant."""
    now_mono = time.monotonic() if now_mono is None else now_mono
    now_wall = time.time() if now_wall is None else now_wall
    wall = now_wall - (now_mono - t_monotonic)
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int(wall * 1000) % 1000:03d}"


def _table(headers: tuple[str, ...], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setWordWrap(False)
    # compact rows: all ten outputs fit without scrolling on a 768-pixel screen
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    h = t.horizontalHeader()
    for c in range(len(headers)):
        h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    h.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return t


def _fill(table: QTableWidget, rows: list[tuple[str, ...]], colours: list[str | None] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if c == 0 and colours and colours[r]:
                item.setForeground(QColor(colours[r]))
            table.setItem(r, c, item)


class SignalsPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.outputs = _table(("Output", "Last value"), 1)
        self.inputs = _table(("Time", "Source", "Input", "Value"), 1)
        self.links = _table(("State", "Link", "Detail", "Sent", "Failed", "Queued"), 2)
        self.counts = QLabel("", wordWrap=True)  # a long alarm text must not widen the page
        self._shown: dict[str, object] = {}
        out_box, in_box, link_box = (QGroupBox(t) for t in ("Outputs (station → line)",
                                                             "Inputs received (line → station), newest first",
                                                             "Links"))
        for box, w in ((out_box, self.outputs), (in_box, self.inputs), (link_box, self.links)):
            QVBoxLayout(box).addWidget(w)
        top = QHBoxLayout()
        top.addWidget(out_box, 2)
        top.addWidget(in_box, 3)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(link_box, 2)
        col.addLayout(top, 5)
        col.addWidget(self.counts)
        self.show_outputs({})

    def _changed(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def show_outputs(self, outputs: dict) -> None:
        by_name = {str(k): v for k, v in outputs.items()}
        rows = [(o.name, shown_value(by_name.get(o.value))) for o in LineOutput]
        if self._changed("outputs", rows):
            _fill(self.outputs, rows)

    def show_inputs(self, inputs: list[LineCommand]) -> None:
        rows = [(clock_of(c.t) if c.t else "", c.source, str(c.kind).upper(), shown_value(c.value))
                for c in reversed(inputs)]
        if self._changed("inputs", rows):
            _fill(self.inputs, rows)

    def show_links(self, statuses: list[LinkStatus]) -> None:
        rows = [(f"● {s.state}", s.name, s.detail, str(s.sent), str(s.failed), str(s.queued))
                for s in statuses]
        if self._changed("links", rows):
            _fill(self.links, rows, [LINK_COLOURS.get(s.state) for s in statuses])

    def show_stats(self, stats, alarm: str = "") -> None:
        parts = [] if stats is None else [f"{label} {getattr(stats, name, 0)}" for name, label in STAT_NAMES]
        text = "Results: " + " · ".join(parts) if parts else "No line interface running"
        if alarm:
            text += f"   |   alarm: {alarm}"
        if self._changed("counts", text):
            self.counts.setText(text)
            self.counts.setToolTip(text)

    def show_snapshot(self, signals, statuses: list[LinkStatus], stats, alarm: str) -> None:
        self.show_outputs(getattr(signals, "outputs", {}) or {})
        self.show_inputs(list(getattr(signals, "inputs", []) or []))
        self.show_links(statuses)
        self.show_stats(stats, alarm)
