"""AuditTrail: append entries to the results database's ``audit`` table, and query them.

Concurrency: the results writer thread owns the database for results; the trail writes
through its *own* connection (WAL, busy timeout), one short ``BEGIN IMMEDIATE`` transaction
per entry that reads the last hash and appends the new row, so the chain cannot fork
between the GUI and a CLI running at once. Entries are rare (a user's action), so the
writer waits at most one such transaction; the inspection thread never waits at all (it
only queues to the writer). :meth:`AuditTrail.record` is synchronous and raises
AuditError when the entry cannot be written: a caller should then not apply the change.

Append-only: there is no update or delete here (and triggers refuse both in SQL).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import sqlite3
import threading
import time as _time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.audit.chain import GENESIS, SELECT, entry_hash, has_table
from core.audit.entry import HASHED, AuditEntry, AuditError, check_fields, to_json
from core.store import paths
from core.store.errors import ResultsError
from core.store.records import connect
from core.store.results_query import ResultsQuery, TimeLike, _where

log = logging.getLogger(__name__)

_INSERT = (f"INSERT INTO audit ({', '.join(HASHED)}, prev_hash, hash) "
           f"VALUES ({', '.join('?' * (len(HASHED) + 2))})")


class AuditTrail:
    """The audit trail in ``db_path`` (see :meth:`for_data_dir`). ``clock``: wall time."""

    def __init__(self, db_path: str | os.PathLike, *, clock: Callable[[], float] = _time.time,
                 busy_timeout_s: float = 10.0) -> None:
        self.db_path = Path(db_path)
        self.clock = clock
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    @classmethod
    def for_data_dir(cls, data_dir: str | os.PathLike | None = None, **kw: Any) -> AuditTrail:
        return cls(paths.results_db_path(paths.data_dir(data_dir)), **kw)

    # --- writing ----------------------------------------------------------------------

    def record(self, user: str, role: str, action: str, target: str | None = None,
               old: Any = None, new: Any = None, reason: str | None = None, *,
               time: float | None = None) -> AuditEntry:
        """Append one entry: who (user, role), what (action, target, old -> new), why.

        ``old``/``new`` are plain data (numbers, text, lists, dicts), stored as JSON.
        ``thresholds`` and ``deploy`` need a ``reason``. AuditError when the entry breaks a
        rule or cannot be written (nothing is written then).
        """
        t = self.clock() if time is None else time
        check_fields(t, user, role, action, target, reason)
        fields = {"time": float(t), "user": user, "role": role, "action": action,
                  "target": target, "old_value": to_json(old), "new_value": to_json(new),
                  "reason": reason}
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1"
                                       ).fetchone()
                    prev = GENESIS if row is None else row[0]
                    digest = entry_hash(prev, fields)
                    rid = conn.execute(_INSERT, (*fields.values(), prev, digest)).lastrowid
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError, ResultsError) as exc:
                self._drop()
                raise AuditError(f"{self.db_path}: audit entry not written ({exc})") from None
        log.debug("audit: %s (%s) %s %s", user, role, action, target or "")
        return AuditEntry(rid, **fields, prev_hash=prev, hash=digest)

    def submit(self, user: str, role: str, action: str, target: str | None = None,
               old: Any = None, new: Any = None, reason: str | None = None, *,
               time: float | None = None) -> concurrent.futures.Future[AuditEntry]:
        """:meth:`record` in the trail's own thread, in submission order: for a caller that
        must not wait on the disk (a GUI thread). The entry is checked now (AuditError
        here for a broken rule); the future raises AuditError if it could not be written."""
        t = self.clock() if time is None else time
        check_fields(t, user, role, action, target, reason)
        to_json(old), to_json(new)  # unfit values: refused in the caller's thread
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(1, "audit-trail")
            pool = self._pool
        return pool.submit(self.record, user, role, action, target, old, new, reason, time=t)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = connect(self.db_path, create=True)  # migrates an older database
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            self._conn = conn
        return self._conn

    def _drop(self) -> None:  # after a failure: a fresh connection next time
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    def close(self) -> None:
        """Write what was submitted, then close the connection."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            self._drop()

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ----------------------------------------------------------------------

    def entries(self, *, since: TimeLike = None, until: TimeLike = None,
                user: str | None = None, action: str | None = None,
                target: str | None = None, limit: int | None = None,
                newest_first: bool = False) -> list[AuditEntry]:
        """Entries matching every filter given (``since`` inclusive, ``until`` exclusive)."""
        return query(self.db_path, since=since, until=until, user=user, action=action,
                     target=target, limit=limit, newest_first=newest_first)


def query(db_path: str | os.PathLike, *, since: TimeLike = None, until: TimeLike = None,
          user: str | None = None, action: str | None = None, target: str | None = None,
          limit: int | None = None, newest_first: bool = False) -> list[AuditEntry]:
    """Read-only query (any thread; a missing database or table: no entries)."""
    where, params = _where(None, since, until)
    for column, value in (("user", user), ("action", action), ("target", target)):
        if value is not None:
            where += f"{' AND' if where else ' WHERE'} {column} = ?"
            params.append(value)
    order = " ORDER BY id DESC" if newest_first else " ORDER BY id"
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise AuditError(f"limit must be a whole number of 1 or more, got {limit!r}")
        order += f" LIMIT {limit}"
    if not Path(db_path).exists():
        return []
    try:
        with ResultsQuery(db_path)._conn() as conn:  # read-only, as the results queries open it
            if not has_table(conn):
                return []
            return [AuditEntry(*r) for r in conn.execute(SELECT + where + order, params)]
    except ResultsError as exc:
        raise AuditError(f"cannot read the audit trail: {exc}") from None
