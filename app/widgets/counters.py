"""Shift counters of the active recipe: inspected, OK, REVIEW, NG, yield; the shift (name,
start-end) and lot they belong to, a "Lot…" button and a reset button."""

from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton

from core.inspection.counters import CounterSnapshot

_FIELDS = (("inspected", "Inspected"), ("ok", "OK"), ("review", "REVIEW"), ("ng", "NG"), ("yield", "Yield"))


def _clock(t: float, tz: _dt.tzinfo | None, fmt: str = "%H:%M") -> str:
    return _dt.datetime.fromtimestamp(t, tz).strftime(fmt)


def shift_text(snap: CounterSnapshot, tz: _dt.tzinfo | None = None) -> str:
    """Which figures these are: the shift and its hours in the station's zone ``tz`` (None:
    the machine's), or since when without shifts."""
    if snap.shift is None:
        return "since " + _clock(snap.started_at, tz, "%H:%M:%S")
    text = f"shift {snap.shift} {_clock(snap.shift_start, tz)}–{_clock(snap.shift_end, tz)}"
    if snap.started_at > snap.shift_start:  # reset during the shift
        text += f", since {_clock(snap.started_at, tz, '%H:%M:%S')}"
    return text


class CountersPanel(QGroupBox):
    """Read-only view of a :class:`CounterSnapshot`; ``resetRequested`` / ``lotRequested``
    when the buttons are pressed."""

    resetRequested = Signal()
    lotRequested = Signal()

    def __init__(self, parent=None, tz: _dt.tzinfo | None = None) -> None:
        """``tz``: the shift schedule's time zone, for the shift's hours."""
        super().__init__("Since shift start", parent)
        self.tz = tz
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
        self.lot_label = QLabel("Lot: —", alignment=Qt.AlignmentFlag.AlignLeft)
        self.lot_button = QPushButton("Lot…")
        self.lot_button.setToolTip("Set the lot number the parts from now on belong to")
        self.lot_button.clicked.connect(self.lotRequested)
        self.reset_button = QPushButton("Reset counters")
        self.reset_button.setToolTip("Zero this recipe's counters for the rest of the shift")
        self.reset_button.clicked.connect(self.resetRequested)
        grid.addWidget(self.since_label, 2, 0, 1, 5)
        grid.addWidget(self.lot_label, 3, 0, 1, 2)
        grid.addWidget(self.lot_button, 3, 2)
        grid.addWidget(self.reset_button, 3, 3, 1, 2)
        self._last: CounterSnapshot | None = None

    def set_recipe(self, name: str) -> None:
        """Counters are kept per recipe and shift: the title says whose they are."""
        self.setTitle(f"{name}: this shift")

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
        self.since_label.setText(shift_text(snap, self.tz))
        self.lot_label.setText(f"Lot: {snap.lot or '—'}")
        self.lot_label.setToolTip("" if snap.lot is None else snap.lot)
