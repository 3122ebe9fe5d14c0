"""The alarm rules of a recipe as a form: one row per rule of core/recipe/alarm_rules.py, a
check box to turn it on and its numbers in spin boxes limited to the ranges the recipe itself
accepts (``alarm_rules.RANGES``), so no number out of range can be typed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QDoubleSpinBox, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QSpinBox)

from core.recipe.alarm_rules import DEFAULT, RANGES, AlarmRules

# (rule, check box text, its spin boxes (a key of RANGES) and the words between them, tooltip)
RULES = (
    ("consecutive_ng", "NG parts in a row:", ("consecutive_ng",),
     "An alarm when this many parts in a row are NG"),
    ("yield", "Yield below", ("yield_below_pct", "over the last", "yield_window"),
     "An alarm when the share of OK parts among the last N falls below this"),
    ("camera_fault", "Camera fault", (),
     "An alarm when the camera stalls, disconnects or reports an error"),
    ("skip", "Live mode: skipping more than", ("skip_above_pct", "of frames over the last",
                                               "skip_window"),
     "An alarm when inspection cannot keep up and leaves this share of frames uninspected"),
    ("min_free_mb", "Results or archive disk: less than", ("min_free_mb", "free"),
     "An alarm when the disk of the results database or of the image archive fills up"),
    ("line_down", "A line I/O link is down", (),
     "An alarm when a configured link to the line (PLC, broker) is not connected"),
)
SUFFIX = {"consecutive_ng": " parts", "yield_below_pct": " %", "yield_window": " parts",
          "skip_above_pct": " %", "skip_window": " frames", "min_free_mb": " MB"}
DECIMALS = {"yield_below_pct": 1, "skip_above_pct": 1, "min_free_mb": 0}  # the rest: whole
# what a rule that is off offers when turned on (the recipe's own value when it has one)
SUGGESTED = {"consecutive_ng": 5, "yield_below_pct": 90.0, "yield_window": 200,
             "skip_above_pct": 20.0, "min_free_mb": 500.0}
KEPT_WHEN_OFF = {"skip_window"}  # has a value of its own whether the rule is on or not


def _spin(key: str) -> QAbstractSpinBox:
    lo, hi, lowest_ok = RANGES[key]
    if key in DECIMALS:
        spin = QDoubleSpinBox()
        spin.setDecimals(DECIMALS[key])
        step = 10.0 ** -DECIMALS[key]
        spin.setRange(lo if lowest_ok else lo + step, hi)
    else:
        spin = QSpinBox()
        spin.setRange(lo if lowest_ok else lo + 1, hi)
    spin.setSuffix(SUFFIX[key])
    spin.setAccelerated(True)
    spin.setObjectName(f"alarm_{key}")
    return spin


class AlarmsForm(QGroupBox):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Alarms", parent)
        self.boxes: dict[str, QCheckBox] = {}
        self.spins: dict[str, QAbstractSpinBox] = {}
        grid = QGridLayout(self)
        for row, (rule, text, parts, tip) in enumerate(RULES):
            box = QCheckBox(text)
            box.setToolTip(tip)
            box.toggled.connect(self._toggled)
            self.boxes[rule] = box
            grid.addWidget(box, row, 0)
            line = QHBoxLayout()
            for part in parts:
                if part in RANGES:
                    spin = self.spins[part] = _spin(part)
                    spin.valueChanged.connect(lambda _v: self.changed.emit())
                    line.addWidget(spin)
                else:
                    line.addWidget(QLabel(part))
            line.addStretch(1)
            grid.addLayout(line, row, 1)
        grid.setColumnStretch(1, 1)

    def _toggled(self) -> None:
        for rule, _text, parts, _tip in RULES:
            for key in parts:
                if key in self.spins:
                    self.spins[key].setEnabled(self.boxes[rule].isChecked())
        self.changed.emit()

    def set_rules(self, rules: AlarmRules | None) -> None:
        r = rules or DEFAULT
        on = {"consecutive_ng": r.consecutive_ng is not None, "yield": r.yield_window is not None,
              "camera_fault": r.camera_fault, "skip": r.skip_above_pct is not None,
              "min_free_mb": r.min_free_mb is not None, "line_down": r.line_down}
        for key, spin in self.spins.items():
            value = getattr(r, key)
            spin.setValue(SUGGESTED[key] if value is None else value)
        for rule, box in self.boxes.items():
            box.setChecked(on[rule])
        self._toggled()

    def values(self) -> dict[str, object]:
        """``{"alarms.<key>": value}`` for every key of AlarmRules (None: the rule is off)."""
        out: dict[str, object] = {}
        for rule, _text, parts, _tip in RULES:
            on = self.boxes[rule].isChecked()
            if not parts:
                out[f"alarms.{rule}"] = on
            for key in parts:
                if key in self.spins:
                    value = self.spins[key].value()
                    out[f"alarms.{key}"] = value if on or key in KEPT_WHEN_OFF else None
        return out
