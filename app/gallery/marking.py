"""Marking a gallery part: who may (the window's role gate), and the write (audit entry, then
the mark) in a worker thread of its own, never on the GUI or the inspection thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.workers.background import Background
from core.store import paths
from core.store.marks import KIND_LABELS, Mark, MarkStore
from core.store.records import ResultRecord

log = logging.getLogger(__name__)
ACTION = "result_mark"


class Marker(QObject):
    """Stores marks for one data folder as the user of ``gate`` (an
    :class:`~app.auth.gate.RoleGate`: ``allowed``, ``actor``, ``trail``, ``changed``);
    ``marked(result_id, Mark | None)`` once stored."""

    marked = Signal(int, object)

    def __init__(self, data_dir: str | Path, gate, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.marks = MarkStore(paths.results_db_path(Path(data_dir)))
        self.worker = Background("gallery-marks", self)

    def allowed(self) -> bool:
        return bool(self.gate.allowed(ACTION))

    def mark(self, record: ResultRecord, kind: str | None,
             done: Callable[[Mark | None, str | None], None]) -> bool:
        """Mark ``record`` as ``kind`` (None: clear its mark). The role is checked now (False,
        nothing done, when refused); the audit entry and then the mark are written in the
        worker; ``done(mark, error)`` follows on the GUI thread."""
        if not self.allowed():
            done(None, "Marking parts needs the engineer role: sign in as an engineer")
            return False
        if kind is not None and kind not in KIND_LABELS:
            raise ValueError(f"unknown mark {kind!r}")
        user, role = self.gate.actor
        trail, marks, rid = self.gate.trail, self.marks, int(record.id)
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
