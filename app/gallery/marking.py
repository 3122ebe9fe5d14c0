"""Marking a gallery part: who may (the window's role gate), and the write (audit entry, then
the mark) in a worker thread of its own, never on the GUI or the inspection thread.

The role comes from the window's :class:`~app.auth.gate.RoleGate` (``window.roles.gate``) or an
:class:`~core.auth.AuthSession` at ``window.auth``; a window with neither (no roles in this
build) lets anyone mark, recorded as the machine's login with the role "engineer (no sign-in)".
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.workers.background import Background
from core.audit import AuditTrail
from core.store import paths
from core.store.marks import KIND_LABELS, Mark, MarkStore
from core.store.records import ResultRecord

log = logging.getLogger(__name__)
ACTION = "result_mark"
NO_SIGN_IN_ROLE = "engineer (no sign-in)"


class Marker(QObject):
    """Stores marks for one data folder; ``marked(result_id, Mark | None)`` once stored."""

    marked = Signal(int, object)

    def __init__(self, data_dir: str | Path, window=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        db = paths.results_db_path(Path(data_dir))
        self.marks = MarkStore(db)
        self._own_trail: AuditTrail | None = None
        self._db = db
        self.worker = Background("gallery-marks", self)

    # --- who --------------------------------------------------------------------------------
    def _gate(self):
        return getattr(getattr(self.window, "roles", None), "gate", None)

    def allowed(self) -> bool:
        gate = self._gate()
        if gate is not None:
            return bool(gate.allowed(ACTION))
        auth = getattr(self.window, "auth", None)
        return True if auth is None else bool(auth.can(ACTION))

    def actor(self) -> tuple[str, str]:
        gate = self._gate()
        session = gate.session if gate is not None else getattr(self.window, "auth", None)
        if session is not None:
            return session.actor
        return (getpass.getuser() or "station", NO_SIGN_IN_ROLE)

    def changed_signal(self):
        """The signal that says the signed-in user may have changed (None: never changes)."""
        gate = self._gate()
        return None if gate is None else gate.changed

    def trail(self) -> AuditTrail:
        gate = self._gate()
        if gate is not None:
            return gate.trail
        if self._own_trail is None:
            self._own_trail = AuditTrail(self._db)
        return self._own_trail

    # --- doing ------------------------------------------------------------------------------
    def mark(self, record: ResultRecord, kind: str | None,
             done: Callable[[Mark | None, str | None], None]) -> bool:
        """Mark ``record`` as ``kind`` (None: clear its mark). The role is checked now (False,
        nothing done, when refused); the audit entry and the mark are written in the worker;
        ``done(mark, error)`` follows on the GUI thread."""
        if not self.allowed():
            done(None, "Marking parts needs the engineer role: sign in as an engineer")
            return False
        if kind is not None and kind not in KIND_LABELS:
            raise ValueError(f"unknown mark {kind!r}")
        user, role = self.actor()
        trail, marks, rid = self.trail(), self.marks, int(record.id)
        target = f"{record.recipe} result {rid}"

        def work() -> Mark | None:
            old = marks.get(rid)
            old_kind = None if old is None else old.kind
            if old_kind == kind:
                return old  # nothing changes: nothing to record
            trail.record(user, role, ACTION, target, old=old_kind, new=kind)  # before the change
            if kind is None:
                marks.clear(rid)
                return None
            return marks.set(rid, kind, user, role)[1]

        def finished(mark: Mark | None, error: str | None) -> None:
            if error is None:
                self.marked.emit(rid, mark)
            done(mark, error)

        self.worker.submit(work, done=finished)
        return True

    def close(self) -> None:
        self.worker.shutdown(wait=True, cancel_pending=False)  # a click's mark is not lost
        self.marks.close()
        if self._own_trail is not None:
            self._own_trail.close()
