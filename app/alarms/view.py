"""The window's side of the alarms: the banner kept in step with the controller's
StationAlarms (the engine's events reach it through the GUI thread's event queue) and its
buttons acknowledging as the signed-in user, or "operator" when nobody is signed in."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.alarms.banner import AlarmBanner
from app.workers.background import gui_callback
from core.alarms import AlarmError

_log = logging.getLogger(__name__)


class AlarmsView(QObject):
    def __init__(self, window, controller, banner: AlarmBanner | None = None) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.banner = banner or AlarmBanner()
        self.alarms = controller.alarms
        # engine listeners run in the feeding thread (inspection): only queue a repaint
        self._listener = gui_callback(self, lambda *_: self.refresh())
        self.alarms.engine.add_listener(self._listener)
        self.banner.acknowledgeRequested.connect(self.acknowledge)
        self.banner.acknowledgeAllRequested.connect(self.acknowledge_all)
        controller.alarmAcknowledged.connect(self.refresh)  # ACK_ALARM from the line
        self.refresh()

    def wrap(self, view: QWidget) -> QWidget:
        """``view`` with the banner across its top."""
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(self.banner)
        col.addWidget(view, 1)
        return box

    def actor(self) -> tuple[str, str]:
        """(user, role) of whoever is at the station: the sign-in session's (the window's
        RoleGate), ("operator", "operator") when nobody is signed in."""
        gate = getattr(getattr(self.window, "roles", None), "gate", None)
        actor = getattr(gate, "actor", None)
        return actor if isinstance(actor, tuple) and len(actor) == 2 else ("operator", "operator")

    def refresh(self) -> None:
        self.banner.show_alarms(self.alarms.engine.unacknowledged())

    def acknowledge(self, alarm_id: str) -> None:
        user, role = self.actor()
        try:
            alarm = self.alarms.acknowledge(alarm_id, user, role)
        except AlarmError as exc:  # gone meanwhile (e.g. acknowledged from the line)
            _log.info("acknowledge: %s", exc)
        else:
            self.window.status.notify(f"Alarm acknowledged by {user}: {alarm.text}", 6000)
        self.refresh()

    def acknowledge_all(self) -> None:
        user, role = self.actor()
        done = self.alarms.acknowledge_all(user, role)
        self.window.status.notify(f"{len(done)} alarm(s) acknowledged by {user}", 6000)
        self.refresh()

    def close(self) -> None:
        self.alarms.engine.remove_listener(self._listener)
