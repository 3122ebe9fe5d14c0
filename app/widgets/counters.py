"""Shift counters: inspected, OK, REVIEW, NG, yield, with a reset button."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton

from core.inspection.counters import CounterSnapshot

_FIELDS = (("inspected", "Inspected"), ("ok", "OK"), ("review", "REVIEW"), ("ng", "NG"), ("yield", "Yield"))


class CountersPanel(QGroupBox):
    """Read-only view of a :class:`CounterSnapshot`; ``resetRequested`` when the button is pressed."""

    resetRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Since shift start", parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        self.values: dict[str, QLabel] = {}
        for col, (key, name) in enumerate(_FIELDS):
            name_label = QLabel(name, alignment=Qt.AlignmentFlag.AlignCenter)
            name_label.setProperty("role", "name")
            value = QLabel("0", alignment=Qt.AlignmentFlag.AlignCenter)
            value.setProperty("role", "value")
            grid.addWidget(name_label, 0, col)
            grid.addWidget(value, 1, col)
            self.values[key] = value
        self.since_label = QLabel("", alignment=Qt.AlignmentFlag.AlignLeft)
        self.reset_button = QPushButton("Reset counters")
        self.reset_button.setToolTip("Start a new shift: zero all counters")
        self.reset_button.clicked.connect(self.resetRequested)
        grid.addWidget(self.since_label, 2, 0, 1, 3)
        grid.addWidget(self.reset_button, 2, 3, 1, 2)
        self._last: CounterSnapshot | None = None

    def set_recipe(self, name: str) -> None:
        """Counters are kept per recipe: the title says whose they are."""
        self.setTitle(f"{name}: since shift start")

    def show_counts(self, snap: CounterSnapshot) -> None:
        if snap == self._last:
            return
        self._last = snap
        self.values["inspected"].setText(str(snap.inspected))
        self.values["ok"].setText(str(snap.ok))
        self.values["review"].setText(str(snap.review))
        self.values["ng"].setText(str(snap.ng))
        y = snap.yield_pct
        self.values["yield"].setText("—" if y is None else f"{y:.1f} %")
        self.since_label.setText("since " + time.strftime("%H:%M:%S", time.localtime(snap.started_at)))
