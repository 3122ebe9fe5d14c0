"""Threshold tuning: locked by default; sliders + exact spin boxes; what-if counts; apply / revert.

Edits are a *preview*: the panel emits ``previewChanged`` on every change, and only the
Apply button (``applyRequested``) asks for the thresholds to be saved to the recipe.

The OK / NG sliders cover a span around the limits in force, a few REVIEW bands wide, not the
whole score range: on a 0-1 range one slider pixel would be wider than a typical band. The
spin boxes take any value of the range; a value typed outside the span re-centres it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSlider)

from app.widgets.numfmt import decimals_to_tell_apart
from core.inspection.history import WhatIfCounts
from core.recipe import Thresholds

NAMES = (("ok_limit", "OK limit"), ("ng_limit", "NG limit"), ("pixel", "Pixel threshold"))
_STEPS = 1000  # slider positions across its span
BAND_SPAN = 8.0  # the limit sliders span this many REVIEW bands ...
MIN_SPAN = 0.01  # ... and at least this fraction of the range (OK limit = NG limit)


def limit_span(ok: float, ng: float, lo: float, hi: float) -> tuple[float, float]:
    """The span of the OK / NG sliders: centred on the REVIEW band [ok, ng], ``BAND_SPAN``
    bands wide (at least ``MIN_SPAN`` of the range), kept inside [lo, hi]."""
    width = min(hi - lo, max(BAND_SPAN * (ng - ok), MIN_SPAN * (hi - lo)))
    start = min(max(lo, (ok + ng) / 2 - width / 2), hi - width)
    return start, start + width


class ThresholdsPanel(QGroupBox):
    previewChanged = Signal(object)  # Thresholds
    applyRequested = Signal(object)  # Thresholds
    lockChanged = Signal(bool)  # True = locked

    def __init__(self, parent=None) -> None:
        super().__init__("Thresholds", parent)
        self._lo, self._hi = 0.0, 1.0
        self._spans: dict[str, tuple[float, float]] = {k: (0.0, 1.0) for k, _ in NAMES}
        self._applied: Thresholds | None = None
        self._value = Thresholds(0.5, 0.5, 0.5)
        self._updating = False
        self.may_unlock = True  # the role's say (app/auth): False keeps the lock shut
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        self.lock_box = QCheckBox("Locked")
        self.lock_box.setToolTip("Unlock to change thresholds (protects against accidental change)")
        self.lock_box.setChecked(True)
        self.lock_box.toggled.connect(self._on_lock)
        self.lock_box.setEnabled(False)  # until a recipe's thresholds are shown
        grid.addWidget(self.lock_box, 0, 0, 1, 3)
        self.sliders: dict[str, QSlider] = {}
        self.spins: dict[str, QDoubleSpinBox] = {}
        for row, (key, label) in enumerate(NAMES, start=1):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, _STEPS)
            spin = QDoubleSpinBox(decimals=4, singleStep=0.001, keyboardTracking=False)
            spin.setMinimumWidth(80)
            spin.setSpecialValueText("—")  # no recipe yet: no limits to show
            spin.setValue(spin.minimum())
            slider.valueChanged.connect(lambda v, k=key: self._on_slider(k, v))
            spin.valueChanged.connect(lambda v, k=key: self._on_spin(k, v))
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(spin, row, 2)
            self.sliders[key], self.spins[key] = slider, spin
        grid.setColumnStretch(1, 1)
        self.what_if_label = QLabel("—")
        self.what_if_label.setWordWrap(True)
        self.what_if_label.setToolTip("How the recent frames would have been judged under these thresholds")
        grid.addWidget(self.what_if_label, 4, 0, 1, 3)
        buttons = QHBoxLayout()
        self.preview_badge = QLabel("not applied", objectName="previewBadge")
        self.preview_badge.setVisible(False)
        self.revert_button = QPushButton("Revert")
        self.apply_button = QPushButton("Apply to recipe")
        self.revert_button.clicked.connect(self.revert)
        self.apply_button.clicked.connect(lambda: self.applyRequested.emit(self.thresholds()))
        buttons.addWidget(self.preview_badge)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        grid.addLayout(buttons, 5, 0, 1, 3)
        self._on_lock(True)

    # --- public API -------------------------------------------------------------------------
    def set_range(self, lo: float, hi: float) -> None:
        """Score range covered by the sliders (spin boxes accept the same range)."""
        if not hi > lo:
            raise ValueError(f"ThresholdsPanel.set_range: hi ({hi}) must exceed lo ({lo})")
        current = self.thresholds() if self._applied is not None else None
        self._lo, self._hi = float(lo), float(hi)
        for spin in self.spins.values():
            spin.blockSignals(True)
            spin.setRange(self._lo, self._hi)
            spin.blockSignals(False)
        if current is not None:
            self._fit_spans(current)
            self._show(current)

    def set_applied(self, t: Thresholds) -> None:
        """Thresholds in force (from the recipe): shown and used as the revert point."""
        self._applied = t
        self.lock_box.setEnabled(self.may_unlock)
        decimals = max(4, decimals_to_tell_apart(t.ok_limit, t.ng_limit, minimum=4))
        for spin in self.spins.values():
            spin.setSpecialValueText("")
            spin.blockSignals(True)
            spin.setDecimals(decimals)
            spin.setSingleStep(10.0 ** -(decimals - 1))
            spin.blockSignals(False)
        self._fit_spans(t)
        self._show(t)
        self._refresh_badge()

    def set_value(self, key: str, value: float) -> None:
        """Change one threshold as if the user had typed it (used by draggable plot lines)."""
        if self.is_locked():
            return
        self._change(key, value)

    def slider_value(self, key: str, pos: int) -> float:
        """The threshold that slider ``key`` at position ``pos`` stands for."""
        a, b = self._spans[key]
        return a + (b - a) * pos / _STEPS

    def slider_position(self, key: str, value: float) -> int:
        a, b = self._spans[key]
        return min(_STEPS, max(0, round((value - a) / (b - a) * _STEPS)))

    def thresholds(self) -> Thresholds:
        """The thresholds shown (applied, or being tried)."""
        return self._value

    def set_may_unlock(self, may: bool) -> None:
        """Whether the current role may unlock; taking it away locks the panel again."""
        self.may_unlock = may
        if not may:
            self.lock_box.setChecked(True)
        self.lock_box.setEnabled(may and self._applied is not None)

    def applied(self) -> Thresholds | None:
        return self._applied

    def is_locked(self) -> bool:
        return self.lock_box.isChecked()

    def is_modified(self) -> bool:
        return self._applied is not None and self.thresholds() != self._applied

    def show_what_if(self, counts: WhatIfCounts) -> None:
        if counts.total == 0:
            self.what_if_label.setText("No recent frames to replay yet.")
            return
        self.what_if_label.setText(
            f"Last {counts.total} frames under these limits: <b>{counts.ng} NG</b>, "
            f"<b>{counts.review} REVIEW</b>, {counts.ok} OK")

    def revert(self) -> None:
        if self._applied is not None:
            self._show(self._applied)
            self._refresh_badge()
            self.previewChanged.emit(self._applied)

    # --- internals --------------------------------------------------------------------------
    def _fit_spans(self, t: Thresholds) -> None:
        span = limit_span(t.ok_limit, t.ng_limit, self._lo, self._hi)
        self._spans = {"ok_limit": span, "ng_limit": span, "pixel": (self._lo, self._hi)}
        for key, (a, b) in self._spans.items():
            self.sliders[key].setToolTip(f"Drag between {a:.4g} and {b:.4g}; type any value in the box")

    def _show(self, t: Thresholds) -> None:
        self._value = Thresholds(t.ok_limit, t.ng_limit, t.pixel)
        self._updating = True
        try:
            for key, _ in NAMES:
                value = getattr(t, key)
                self.spins[key].setValue(value)
                self.sliders[key].setValue(self.slider_position(key, value))
        finally:
            self._updating = False

    def _on_slider(self, key: str, pos: int) -> None:
        if not self._updating:
            self._change(key, self.slider_value(key, pos))

    def _on_spin(self, key: str, value: float) -> None:
        if not self._updating:
            a, b = self._spans[key]
            if key != "pixel" and not a <= value <= b:  # typed outside the span: re-centre it
                other = self._value.ng_limit if key == "ok_limit" else self._value.ok_limit
                self._fit_spans(Thresholds(min(value, other), max(value, other), self._value.pixel))
            self._change(key, value)

    def _change(self, key: str, value: float) -> None:
        if self.is_locked():  # only a programmatic change can get here: undo it
            self._show(self.thresholds())
            return
        value = min(max(float(value), self._lo), self._hi)
        v = dict(self._value.__dict__)
        v[key] = value
        # keep OK limit <= NG limit: the one being moved pushes the other
        if key == "ok_limit" and v["ng_limit"] < value:
            v["ng_limit"] = value
        elif key == "ng_limit" and v["ok_limit"] > value:
            v["ok_limit"] = value
        t = Thresholds(v["ok_limit"], v["ng_limit"], v["pixel"])
        self._show(t)
        self._refresh_badge()
        self.previewChanged.emit(t)

    def _on_lock(self, locked: bool) -> None:
        for w in (*self.sliders.values(), *self.spins.values(), self.apply_button, self.revert_button):
            w.setEnabled(not locked)
        self.lock_box.setText("Locked (tick off to edit)" if locked else "Unlocked")
        self.lockChanged.emit(locked)

    def _refresh_badge(self) -> None:
        self.preview_badge.setVisible(self.is_modified())
