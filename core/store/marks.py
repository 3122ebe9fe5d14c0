"""An engineer's marks on archived results (false reject / confirmed defect), and the reads
the reject gallery and the training wizard need.

Marks live in the results database's ``marks`` table (schema step 4,
:mod:`core.store.marks_schema`), one per result. :class:`MarkStore` writes through its own
connection, one short transaction per mark (marks are rare: a person's click), like the
audit trail; it is meant to be called off the GUI thread and never from the inspection
thread. Reads open the read-only connection of :class:`ResultsQuery`; an older database
without the table reads as having no marks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.store import paths
from core.store.errors import ResultsError
from core.store.marks_schema import MARK_KINDS
from core.store.records import COLUMNS, ResultRecord, connect
from core.store.results_query import ResultsQuery, column, select_list

log = logging.getLogger(__name__)

KIND_LABELS = {"false_reject": "False reject", "confirmed_defect": "Confirmed defect"}
REJECT_VERDICTS = ("NG", "REVIEW")


@dataclass(frozen=True)
class Mark:
    result_id: int
    recipe: str
    kind: str  # one of MARK_KINDS
    user: str
    role: str
    time: float

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class MarkedPart:
    """A mark with the result it is on (its archived image paths, score, verdict)."""

    mark: Mark
    record: ResultRecord


def _has_marks(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'marks'"
                        ).fetchone() is not None


def check_kind(kind: str) -> str:
    if kind not in MARK_KINDS:
        raise ResultsError(f"mark must be one of {', '.join(MARK_KINDS)}, got {kind!r}")
    return kind


class MarkStore:
    """Marks in the results database ``db_path`` (see :meth:`for_data_dir`)."""

    def __init__(self, db_path: str | os.PathLike, *,
                 clock: Callable[[], float] = _time.time) -> None:
        self.db_path = Path(db_path)
        self.clock = clock
        self.query = ResultsQuery(self.db_path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def for_data_dir(cls, data_dir: str | os.PathLike | None = None, **kw) -> MarkStore:
        return cls(paths.results_db_path(paths.data_dir(data_dir)), **kw)

    # --- writing ----------------------------------------------------------------------
    def set(self, result_id: int, kind: str, user: str, role: str, *,
            time: float | None = None) -> tuple[Mark | None, Mark]:
        """Mark result ``result_id`` as ``kind`` (replacing its mark): (old mark, new mark).
        ResultsError when the result does not exist or the database cannot be written."""
        check_kind(kind)
        if not (isinstance(user, str) and user.strip() and isinstance(role, str) and role.strip()):
            raise ResultsError("a mark needs the user and role who made it")
        t = self.clock() if time is None else float(time)

        def write(conn: sqlite3.Connection) -> tuple[Mark | None, Mark]:
            row = conn.execute("SELECT recipe FROM results WHERE id = ?", (result_id,)).fetchone()
            if row is None:
                raise ResultsError(f"no result {result_id} in {self.db_path}")
            old = self._get(conn, result_id)
            conn.execute("INSERT INTO marks (result_id, recipe, kind, user, role, time) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(result_id) DO UPDATE SET "
                         "kind = excluded.kind, user = excluded.user, role = excluded.role, "
                         "time = excluded.time", (result_id, row[0], kind, user, role, t))
            return old, Mark(result_id, row[0], kind, user, role, t)

        old, new = self._write(write)
        log.info("result %s (%s) marked %s by %s", result_id, new.recipe, kind, user)
        return old, new

    def clear(self, result_id: int) -> Mark | None:
        """Remove the mark of ``result_id``; the mark removed (None: there was none)."""
        def write(conn: sqlite3.Connection) -> Mark | None:
            old = self._get(conn, result_id)
            conn.execute("DELETE FROM marks WHERE result_id = ?", (result_id,))
            return old

        return self._write(write)

    def _write(self, fn):
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = connect(self.db_path, create=True)  # migrates an older file
                conn = self._conn
                conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._drop()
                raise ResultsError(f"{self.db_path}: mark not stored ({exc})") from None
        return out

    def _drop(self) -> None:  # after a failure: a fresh connection next time
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- reading ----------------------------------------------------------------------
    @staticmethod
    def _get(conn: sqlite3.Connection, result_id: int) -> Mark | None:
        row = conn.execute("SELECT result_id, recipe, kind, user, role, time FROM marks "
                           "WHERE result_id = ?", (result_id,)).fetchone()
        return None if row is None else Mark(*row)

    def get(self, result_id: int) -> Mark | None:
        return self.for_results([result_id]).get(result_id)

    def for_results(self, ids: Iterable[int]) -> dict[int, Mark]:
        """The marks of the results ``ids`` (those without a mark are left out)."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.query._conn() as conn:
            if not _has_marks(conn):
                return {}
            sql = ("SELECT result_id, recipe, kind, user, role, time FROM marks "
                   f"WHERE result_id IN ({', '.join('?' * len(ids))})")
            return {row[0]: Mark(*row) for row in conn.execute(sql, ids)}

    def marked(self, recipe: str, kind: str | None = None) -> list[MarkedPart]:
        """The marked parts of ``recipe`` (of one ``kind``, or all), newest mark first."""
        where, params = "m.recipe = ?", [recipe]
        if kind is not None:
            where += " AND m.kind = ?"
            params.append(check_kind(kind))
        with self.query._conn() as conn:
            if not _has_marks(conn):
                return []
            # qualified: marks and results both have a ``time``
            cols = ", ".join(f"r.{c}" if column(conn, c) == c else f"NULL AS {c}" for c in COLUMNS)
            sql = (f"SELECT m.result_id, m.recipe, m.kind, m.user, m.role, m.time, r.id, {cols} "
                   f"FROM marks m JOIN results r ON r.id = m.result_id WHERE {where} "
                   "ORDER BY m.time DESC, m.result_id DESC")
            return [MarkedPart(Mark(*row[:6]), ResultRecord.from_row(row[6:]))
                    for row in conn.execute(sql, params)]

    def counts(self, recipe: str) -> dict[str, int]:
        """{kind: number of marked parts} of ``recipe`` (every kind present, 0 when none)."""
        out = dict.fromkeys(MARK_KINDS, 0)
        with self.query._conn() as conn:
            if _has_marks(conn):
                for kind, n in conn.execute("SELECT kind, COUNT(*) FROM marks WHERE recipe = ? "
                                            "GROUP BY kind", (recipe,)):
                    out[kind] = n
        return out


def last_rejects(query: ResultsQuery, n: int = 8, recipe: str | None = None) -> list[ResultRecord]:
    """The ``n`` newest NG and REVIEW results whose image is still archived, newest first."""
    clauses = ["verdict IN ('NG', 'REVIEW')", "image_path IS NOT NULL", "archive_pruned = 0"]
    params: list = []
    if recipe is not None:
        clauses.append("recipe = ?")
        params.append(recipe)
    with query._conn() as conn:
        sql = (f"SELECT id, {select_list(conn)} FROM results WHERE {' AND '.join(clauses)} "
               "ORDER BY time DESC, id DESC LIMIT ?")
        return [ResultRecord.from_row(r) for r in conn.execute(sql, [*params, int(n)])]
