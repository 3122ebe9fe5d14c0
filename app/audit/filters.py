"""The audit dialog's filter bar: time range, user, action, target. ``filters()`` turns what
was typed into core.audit.query's keywords, or raises ValueError with a message for the user."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateTimeEdit, QHBoxLayout, QLineEdit, QPushButton,
                               QWidget)

from core.audit import KNOWN_ACTIONS
from core.audit.entry import ACTION_RE, MAX_TEXT

ANY_ACTION = "(any action)"


class AuditFilters(QWidget):
    applyRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        now = QDateTime.currentDateTime()
        self.since_box, self.since = self._time("From", now.addDays(-7))
        self.until_box, self.until = self._time("To", now.addSecs(3600))
        self.user = QLineEdit(placeholderText="user")
        self.action = QComboBox(editable=True)
        self.action.addItems([ANY_ACTION, *KNOWN_ACTIONS])
        self.target = QLineEdit(placeholderText="target (e.g. a recipe)")
        self.apply_button = QPushButton("Filter")
        self.apply_button.setDefault(True)
        for w in (self.since_box, self.since, self.until_box, self.until):
            row.addWidget(w)
        row.addWidget(self.user, 1)
        row.addWidget(self.action, 1)
        row.addWidget(self.target, 1)
        row.addWidget(self.apply_button)
        self.apply_button.clicked.connect(self.applyRequested)
        for edit in (self.user, self.target):
            edit.returnPressed.connect(self.applyRequested)

    def _time(self, label: str, value: QDateTime) -> tuple[QCheckBox, QDateTimeEdit]:
        box = QCheckBox(label)
        edit = QDateTimeEdit(value, calendarPopup=True, displayFormat="yyyy-MM-dd HH:mm")
        edit.setEnabled(False)
        box.toggled.connect(edit.setEnabled)
        return box, edit

    def filters(self) -> dict:
        """Keywords for core.audit.query (local times as UTC epoch seconds)."""
        out: dict = {}
        if self.since_box.isChecked():
            out["since"] = self.since.dateTime().toSecsSinceEpoch()
        if self.until_box.isChecked():
            out["until"] = self.until.dateTime().toSecsSinceEpoch()
        if "since" in out and "until" in out and out["since"] >= out["until"]:
            raise ValueError("'From' must be before 'To'")
        user, target = self.user.text().strip(), self.target.text().strip()
        if user:
            if len(user) > MAX_TEXT["user"]:
                raise ValueError(f"user: at most {MAX_TEXT['user']} characters")
            out["user"] = user
        if target:
            if len(target) > MAX_TEXT["target"]:
                raise ValueError(f"target: at most {MAX_TEXT['target']} characters")
            out["target"] = target
        action = self.action.currentText().strip()
        if action and action != ANY_ACTION:
            if not ACTION_RE.match(action):
                raise ValueError(f"action must be a lower-case name like 'deploy', got {action[:40]!r}")
            out["action"] = action
        return out
