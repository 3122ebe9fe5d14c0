"""Alarms recorded in the ``alarms`` table of the results database, from a thread of their
own: the engine's listener only queues (it runs in the inspection thread). An alarm's row is
written when raised and updated when cleared or acknowledged; the update only ever fills
fields in, so events that arrive out of order never undo one another."""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from core.alarms.engine import Alarm
from core.store.records import connect

log = logging.getLogger(__name__)

_UPSERT = """
INSERT INTO alarms (id, rule, recipe, text, raised_at, cleared_at, acknowledged_by,
                    acknowledged_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    cleared_at = COALESCE(alarms.cleared_at, excluded.cleared_at),
    acknowledged_by = COALESCE(alarms.acknowledged_by, excluded.acknowledged_by),
    acknowledged_at = COALESCE(alarms.acknowledged_at, excluded.acknowledged_at)
"""


def alarm_row(a: Alarm) -> tuple:
    return (a.id, a.rule, a.recipe, a.text, a.raised_at, a.cleared_at, a.acknowledged_by,
            a.acknowledged_at)


def alarm_from_row(row: tuple) -> Alarm:
    aid, rule, recipe, text, raised, cleared, by, at = row
    return Alarm(aid, rule, text, raised, recipe or "", cleared, by, at)


class AlarmLog:
    """An AlarmEngine listener (``engine.add_listener(log)``) that records every event."""

    def __init__(self, db_path: str | Path, capacity: int = 10_000) -> None:
        self.db_path = Path(db_path)
        self._queue: queue.Queue[Alarm | None] = queue.Queue(maxsize=capacity)
        self.lost = 0  # events that found the queue full
        self.error = ""  # the last write failure, "" once written again
        self._thread = threading.Thread(target=self._run, name="alarm-log", daemon=True)
        self._thread.start()

    def __call__(self, event: str, alarm: Alarm) -> None:
        try:
            self._queue.put_nowait(alarm)
        except queue.Full:
            self.lost += 1
            log.error("alarm not recorded (queue full): %s %s", event, alarm.text)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is written (True) or ``timeout`` passed."""
        done = threading.Event()
        self._queue.put(_Marker(done))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        conn = None
        pending: list[Alarm] = []
        while True:
            try:  # while writes fail, try again every few seconds even if nothing new comes
                item = self._queue.get(timeout=5.0 if pending else None)
            except queue.Empty:
                item = _Marker(None)
            if isinstance(item, Alarm):
                pending.append(item)
            if pending:
                try:
                    if conn is None:
                        conn = connect(self.db_path, create=True)
                    with conn:
                        conn.execute("BEGIN IMMEDIATE")
                        conn.executemany(_UPSERT, [alarm_row(a) for a in pending])
                    pending.clear()
                    self.error = ""
                except Exception as exc:  # sqlite3.Error, ResultsError, OSError: disk full, locked
                    if conn is not None:
                        conn.close()
                        conn = None
                    if str(exc) != self.error:
                        log.error("alarms not recorded yet (%s); %d waiting", exc, len(pending))
                    self.error = str(exc)
            if isinstance(item, _Marker) and item.done is not None:
                item.done.set()
            if item is None:
                break
        if conn is not None:
            conn.close()


class _Marker:
    def __init__(self, done: threading.Event | None) -> None:
        self.done = done


def read_alarms(query, since: float | None = None, until: float | None = None) -> list[Alarm]:
    """Alarms open at some time in [since, until) from a ResultsQuery, oldest first."""
    return [alarm_from_row(r) for r in query.alarm_rows(since, until)]
