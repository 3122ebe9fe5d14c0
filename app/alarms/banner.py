"""The alarm banner across the top of the live view: the newest alarm not yet acknowledged
(red; its text, when it was raised, "cleared" once its cause has gone, "+N more"), with the
buttons that acknowledge it. It only reads the engine's list (a lock, no disk): painting it
never waits for inspection, and inspection never waits for it."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from app.widgets.elided_label import ElidedLabel
from core.alarms import Alarm

_log = logging.getLogger(__name__)

_QSS = """
AlarmBanner { background-color: #c5221f; border-radius: 4px; }
AlarmBanner QLabel { color: #ffffff; font-size: 12pt; }
AlarmBanner QLabel#alarmTitle { font-weight: bold; font-size: 13pt; }
AlarmBanner QLabel#alarmMore { font-weight: bold; }
AlarmBanner QLabel#alarmCleared { color: #1a1a1a; background-color: #fdd663; font-weight: bold;
    padding: 1px 6px; border-radius: 3px; }
AlarmBanner QPushButton { font-weight: bold; padding: 3px 10px; }
"""


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def describe(alarm: Alarm) -> str:
    """One line for the banner: raised time and text (whether it cleared is said apart)."""
    text = f"{_clock(alarm.raised_at)}  {alarm.text}"
    return text + (f"  (recipe {alarm.recipe})" if alarm.recipe else "")


def cleared_text(alarm: Alarm) -> str:
    return "" if alarm.active else f"cleared {_clock(alarm.cleared_at)}"


class AlarmBanner(QFrame):
    """``acknowledgeRequested(alarm id)`` for the shown alarm; ``acknowledgeAllRequested``."""

    acknowledgeRequested = Signal(str)
    acknowledgeAllRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setStyleSheet(_QSS)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        self.title = QLabel("ALARM", objectName="alarmTitle")
        # the cause has gone, but the alarm stays until acknowledged: said first, never cut
        self.cleared_label = QLabel("", objectName="alarmCleared")
        self.cleared_label.setToolTip("Its cause has cleared: acknowledge to dismiss")
        self.text_label = ElidedLabel("", objectName="alarmText")  # cut with "…" when long
        self.more_label = QLabel("", objectName="alarmMore")
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setToolTip("Acknowledge this alarm (recorded with your name in the audit trail)")
        self.ack_all_button = QPushButton("Acknowledge all")
        row.addWidget(self.title)
        row.addWidget(self.cleared_label)
        row.addWidget(self.text_label, 1)
        row.addWidget(self.more_label)
        row.addWidget(self.ack_button)
        row.addWidget(self.ack_all_button)
        self.ack_button.clicked.connect(self._ack_shown)
        self.ack_all_button.clicked.connect(self.acknowledgeAllRequested)
        self.shown: Alarm | None = None
        self.setVisible(False)

    def show_alarms(self, alarms: list[Alarm]) -> None:
        """``alarms``: those not acknowledged yet, oldest first (as the engine lists them,
        in the order raised); the newest is shown."""
        pending = list(reversed(alarms))
        self.shown = pending[0] if pending else None
        if self.shown is None:
            self.setVisible(False)
            return
        self.text_label.setText(describe(self.shown))
        self.text_label.setToolTip("\n".join(f"{describe(a)} {cleared_text(a)}" for a in pending))
        self.cleared_label.setText(cleared_text(self.shown))
        self.cleared_label.setVisible(not self.shown.active)
        more = len(pending) - 1
        self.more_label.setText(f"+{more} more" if more else "")
        self.more_label.setVisible(bool(more))
        self.ack_all_button.setVisible(bool(more))
        self.ack_all_button.setText(f"Acknowledge all ({len(pending)})")
        self.setVisible(True)

    def _ack_shown(self) -> None:
        if self.shown is not None:
            self.acknowledgeRequested.emit(self.shown.id)
