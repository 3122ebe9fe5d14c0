"""RoleGate: the window's one way to ask "may the current user do this?" and to record it.

It holds the station's :class:`~core.auth.AuthSession` (users of the data folder, station.toml
settings) and an :class:`~core.auth.ActionGate` writing to the results database's audit
trail. Everything that touches the disk or runs scrypt (sign-in, an audit entry) runs in one
:class:`~app.workers.background.Background` thread, in order, so neither the GUI nor the
inspection threads wait on it; the caller's ``then`` runs on the GUI thread once the entry is
written (never when it could not be: nothing unrecorded is applied).

``changed`` is emitted whenever who is signed in may have changed (sign-in, sign-out, the lock
after Apply, the idle lock), so the window can redraw its role view from :attr:`role`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from app.workers.background import Background
from core.audit import AuditTrail
from core.auth import (ActionGate, AuthError, AuthSession, AuthSettings, Role, UserStore,
                       load_settings)
from core.auth.passwords import DEFAULT_PARAMS, ScryptParams

log = logging.getLogger(__name__)
IDLE_CHECK_MS = 1000
# input that counts as "someone is at the station" for the idle lock
_ACTIVITY = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
                       QEvent.Type.TouchBegin})


class RoleGate(QObject):
    changed = Signal()  # who is signed in may have changed: redraw from .role / .user_name
    denied = Signal(str)  # a refusal or a failed audit write, for the window to show

    def __init__(self, data_dir: str | Path, *, clock: Callable[[], float] = time.monotonic,
                 params: ScryptParams = DEFAULT_PARAMS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings_error = ""
        try:
            settings = load_settings(data_dir)
        except AuthError as exc:  # a wrong station.toml: said in the window, defaults used
            self.settings_error = str(exc)
            log.error("station settings not used: %s", exc)
            settings = AuthSettings()
        self.trail = AuditTrail.for_data_dir(data_dir)
        self.users = UserStore(data_dir, settings=settings, audit=self.trail, params=params)
        self.session = AuthSession(self.users, settings, clock=clock)
        self.actions = ActionGate(self.session, self.trail)
        self.worker = Background("auth-audit", self)
        self._shown: tuple[str, Role] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(IDLE_CHECK_MS)
        self.timer.timeout.connect(self.check_idle)
        self.timer.start()

    # --- who --------------------------------------------------------------------------------
    @property
    def settings(self) -> AuthSettings:
        return self.session.settings

    @property
    def role(self) -> Role:
        return self.session.role

    @property
    def user_name(self) -> str | None:
        user = self.session.user
        return None if user is None else user.name

    @property
    def actor(self) -> tuple[str, str]:
        """(user, role) for an audit entry made elsewhere, e.g. the alarm banner's
        acknowledgement (``StationAlarms.acknowledge(alarm_id, *gate.actor)``)."""
        return self.session.actor

    def allowed(self, action: str) -> bool:
        return self.session.can(action)

    def check_idle(self) -> None:
        """The idle lock (a timer calls this; tests call it with a fake clock), and any lock
        another thread made (Apply): tell the window once."""
        self.session.check_idle()
        self._notify()

    def _notify(self) -> None:
        now = (self.user_name or "", self.role)
        if now != self._shown:
            self._shown = now
            self.changed.emit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() in _ACTIVITY:
            self.session.touch()
        return False

    # --- sign in / out ----------------------------------------------------------------------
    def sign_in(self, name: str, secret: str, done: Callable[[Any, str | None], None]) -> None:
        """scrypt in the worker thread; ``done(user, error)`` on the GUI thread."""
        def finished(user, error) -> None:
            self._notify()
            done(user, error)

        self.worker.submit(self.session.sign_in, name, secret, done=finished)

    def sign_out(self) -> None:
        self.session.sign_out()
        self._notify()

    # --- actions ----------------------------------------------------------------------------
    def perform(self, action: str, then: Callable[[], Any] | None = None, *,
                target: str | None = None, old: Any = None, new: Any = None,
                reason: str | None = None, audit_as: str | None = None) -> bool:
        """Check ``action`` now (False and ``denied`` when refused); record it in the worker
        thread; then run ``then`` on the GUI thread, only if the entry was written."""
        if not self.allowed(action):
            self.refuse(action)
            return False

        def recorded(_entry, error) -> None:
            self._notify()  # ActionGate may have locked the session (Apply)
            if error is not None:
                self.denied.emit(f"{action.replace('_', ' ')} not done: {error}")
            elif then is not None:
                then()

        self.worker.submit(lambda: self.actions.perform(action, target, old, new, reason,
                                                        audit_as=audit_as), done=recorded)
        return True

    def check(self, action: str) -> bool:
        """For actions that are not recorded (opening a page): True, or False and ``denied``."""
        if self.allowed(action):
            self.session.touch()
            return True
        self.refuse(action)
        return False

    def refuse(self, action: str) -> None:
        try:
            self.session.require(action)
        except AuthError as exc:
            self.denied.emit(f"{exc}: sign in first")

    def wait(self, timeout: float | None = 10.0) -> bool:
        """Tests and shutdown: let the worker finish what was submitted."""
        return self.worker.wait(timeout)

    def close(self) -> None:
        self.timer.stop()
        self.worker.shutdown(wait=True, cancel_pending=False)
        self.trail.close()
