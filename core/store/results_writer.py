"""The single writer thread of the results database.

Callers queue records with :meth:`ResultsWriter.append` (never blocks on the disk); one
thread inserts them in batches, committing every ``batch_size`` rows or ``max_delay_s``
after the first pending row, whichever comes first. ``on_commit`` is called, from the
writer thread, with the records just committed (``id`` filled in): from then on they
survive a crash of the process (WAL + synchronous=FULL also covers power loss).

If the database cannot be written (after a few retries) the writer stops, keeps the rows
it could not write in :attr:`ResultsWriter.unwritten`, reports through ``on_error`` and
every later call raises :class:`ResultsError`: nothing is dropped silently.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from core.store.errors import ResultsError
from core.store.records import COLUMNS, ResultRecord, connect

log = logging.getLogger(__name__)

_INSERT = (f"INSERT INTO results ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
_PRUNE = ("UPDATE results SET archive_pruned = 1 "
          "WHERE image_path = ?1 OR heatmap_path = ?1")
_RETRIES = 3


class ResultsWriter:
    def __init__(self, db_path: str | Path, *, batch_size: int = 50, max_delay_s: float = 0.2,
                 on_commit: Callable[[list[ResultRecord]], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        if batch_size < 1 or max_delay_s < 0:
            raise ValueError(f"batch_size must be >= 1 and max_delay_s >= 0, "
                             f"got {batch_size}, {max_delay_s}")
        self.db_path = Path(db_path)
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.on_commit = on_commit
        self.on_error = on_error
        self.committed_count = 0
        self.last_committed_id: int | None = None
        self.error: BaseException | None = None
        self.unwritten: list[ResultRecord] = []
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        connect(self.db_path, create=True).close()  # schema problems surface here, not later
        self._thread = threading.Thread(target=self._run, name="results-writer", daemon=True)
        self._thread.start()
        atexit.register(self._atexit)

    # --- caller side --------------------------------------------------------------------

    def append(self, record: ResultRecord) -> None:
        """Queue a record (validated now, so a bad one fails in the caller's thread)."""
        record.check()
        self._put(("row", record))

    def mark_pruned(self, paths: Iterable[str]) -> None:
        """Queue: flag rows whose image or heat map path is in ``paths`` as pruned."""
        items = [str(p) for p in paths]
        if items:
            self._put(("prune", items))

    def flush(self, timeout: float | None = 30.0) -> None:
        """Block until everything queued so far is committed."""
        done = threading.Event()
        self._put(("flush", done))
        if not done.wait(timeout):
            raise ResultsError(f"{self.db_path}: results not committed within {timeout} s")
        self._raise_if_failed()

    def close(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued and stop the thread. Raises if rows could not be written."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(("stop", None))
        atexit.unregister(self._atexit)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ResultsError(f"{self.db_path}: writer did not finish within {timeout} s")
        self._raise_if_failed()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: tuple) -> None:
        with self._lock:
            if self._closed:
                raise ResultsError(f"{self.db_path}: results writer is closed")
            self._raise_if_failed()
            self._queue.put(item)

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise ResultsError(f"{self.db_path}: results writer failed ({self.error}); "
                               f"{len(self.unwritten)} record(s) not written") from self.error

    def _atexit(self) -> None:
        try:
            self.close(timeout=10.0)
        except ResultsError as exc:
            log.error("%s", exc)

    # --- writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        rows: list[ResultRecord] = []
        prunes: list[str] = []
        waiters: list[threading.Event] = []
        deadline: float | None = None
        stop = False
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self.db_path, create=True)
            while not stop:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    kind, payload = self._queue.get(timeout=wait)
                except queue.Empty:
                    kind, payload = "tick", None
                if kind == "row":
                    rows.append(payload)
                elif kind == "prune":
                    prunes.extend(payload)
                elif kind == "flush":
                    waiters.append(payload)
                elif kind == "stop":
                    stop = True
                if (rows or prunes) and deadline is None:
                    deadline = time.monotonic() + self.max_delay_s
                due = deadline is not None and time.monotonic() >= deadline
                if (rows or prunes) and (len(rows) >= self.batch_size or waiters or stop or due):
                    self._commit(conn, rows, prunes)
                    rows, prunes, deadline = [], [], None
                for w in waiters:
                    w.set()
                waiters = []
        except BaseException as exc:  # keep what was not written, report, refuse further rows
            self.unwritten = rows + self._drain()
            self.error = exc
            log.error("results writer stopped: %s (%d record(s) not written)", exc,
                      len(self.unwritten))
            for w in waiters:
                w.set()
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            if conn is not None:
                conn.close()

    def _drain(self) -> list[ResultRecord]:
        left = []
        while True:
            try:
                kind, payload = self._queue.get_nowait()
            except queue.Empty:
                return left
            if kind == "row":
                left.append(payload)
            elif kind in ("flush", "stop") and payload is not None:
                payload.set()

    def _commit(self, conn: sqlite3.Connection, rows: list[ResultRecord],
                prunes: list[str]) -> None:
        for attempt in range(1, _RETRIES + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
                ids = [conn.execute(_INSERT, r.values()).lastrowid for r in rows]
                conn.executemany(_PRUNE, [(p,) for p in prunes])
                conn.execute("COMMIT")
                break
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if attempt == _RETRIES:
                    raise ResultsError(f"{self.db_path}: cannot write results ({exc})") from exc
                log.warning("results write failed (%s), retrying", exc)
                time.sleep(0.2 * attempt)
        self.committed_count += len(rows)
        if ids:
            self.last_committed_id = ids[-1]
        if self.on_commit is not None and rows:
            done = [dataclasses.replace(r, id=i) for r, i in zip(rows, ids)]
            try:
                self.on_commit(done)
            except Exception:  # a faulty callback must not stop the writer
                log.exception("results on_commit callback failed")
