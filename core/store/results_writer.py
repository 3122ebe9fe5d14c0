"""The single writer thread of the results database.

Callers queue records with :meth:`ResultsWriter.append` (never blocks on the disk); one
thread inserts them in batches, committing every ``batch_size`` rows or ``max_delay_s``
after the first pending row, whichever comes first. ``on_commit`` is called, from the
writer thread, with the records just committed (``id`` filled in): from then on they
survive a crash of the process (WAL + synchronous=FULL also covers power loss).

When a commit fails (disk full, database locked past the busy timeout) the writer never
gives up: it retries with back-off (0.5 s doubling to 30 s), holds the rows meanwhile (up
to ``max_pending`` in memory, then in a journal file next to the database, see
:mod:`core.store.results_journal`), and raises an alarm: :attr:`failing`, :attr:`alarm`,
``on_error`` once per outage and ``on_recover`` when rows go in again. Rows still held at
:meth:`close` are saved to the journal and written at the next start.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from core.store.errors import ResultsError
from core.store.records import COLUMNS, NewerSchemaError, ResultRecord, connect
from core.store.results_journal import Item, PendingJournal

log = logging.getLogger(__name__)

_INSERT = (f"INSERT INTO results ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
_PRUNE = ("UPDATE results SET archive_pruned = 1 "
          "WHERE image_path = ?1 OR heatmap_path = ?1")
_FAILURES = (sqlite3.Error, OSError, ResultsError)


def journal_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".pending.jsonl")


class ResultsWriter:
    def __init__(self, db_path: str | Path, *, batch_size: int = 50, max_delay_s: float = 0.2,
                 on_commit: Callable[[list[ResultRecord]], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_recover: Callable[[], None] | None = None, max_pending: int = 20_000,
                 max_journal: int = 1_000_000, backoff_s: tuple[float, float] = (0.5, 30.0),
                 busy_timeout_s: float = 10.0, wait: Callable[[float], None] | None = None,
                 connect: Callable[..., sqlite3.Connection] = connect) -> None:
        if batch_size < 1 or not max_delay_s >= 0 or max_pending < 1 or max_journal < 0:
            raise ValueError(f"batch_size and max_pending must be >= 1, max_delay_s and "
                             f"max_journal >= 0, got {batch_size}, {max_pending}, "
                             f"{max_delay_s}, {max_journal}")
        if not 0 < backoff_s[0] <= backoff_s[1] or not busy_timeout_s >= 0:
            raise ValueError(f"backoff_s must be 0 < first <= max and busy_timeout_s >= 0, "
                             f"got {backoff_s}, {busy_timeout_s}")
        self.db_path = Path(db_path)
        self.batch_size, self.max_delay_s, self.max_pending = batch_size, max_delay_s, max_pending
        self.backoff_s, self.busy_timeout_s = backoff_s, busy_timeout_s
        self.on_commit, self.on_error, self.on_recover = on_commit, on_error, on_recover
        self._connect = connect
        self._wait = wait or self._default_wait
        self.journal = PendingJournal(journal_path_for(self.db_path), max_journal)
        self.committed_count = 0
        self.last_committed_id: int | None = None
        self.error: BaseException | None = None  # the last failure (None once written again)
        self.failing = False
        self.failures = 0  # consecutive failed commits
        self.dropped = 0  # items that could be held neither in memory nor in the journal
        self._mem: collections.deque[tuple[int, Item]] = collections.deque()
        self._seq = self._committed_seq = 0
        self._first_pending_at: float | None = None
        self._urgent = self._stop = self._closed = False
        self._attempts = 0
        self._cond = threading.Condition()
        self._kick = threading.Event()
        if self.journal.total:  # left by an earlier run: flush() waits for it too
            self._seq = self.journal.last_seq = 1
            self.journal.draining_last_seq = 1 if self.journal.draining_count else 0
        try:  # a newer schema is refused now; a full disk or a lock is retried later
            self._connect(self.db_path, create=True).close()
        except NewerSchemaError:
            raise
        except _FAILURES as exc:
            log.error("results database not writable yet (%s); will retry", exc)
        self._thread = threading.Thread(target=self._run, name="results-writer", daemon=True)
        self._thread.start()
        atexit.register(self._atexit)

    # --- state for alarms ---------------------------------------------------------------

    @property
    def journal_path(self) -> Path:
        return self.journal.path

    @property
    def in_memory(self) -> int:
        return len(self._mem)

    @property
    def backlog(self) -> int:
        """Items (rows, prune flags) waiting to be written: in memory plus in the journal."""
        return len(self._mem) + self.journal.total

    @property
    def accepting(self) -> bool:
        """True while rows go in as they come (not failing, not closed)."""
        return not self.failing and not self._closed

    @property
    def alarm(self) -> str:
        """One line for the operator while results are not being recorded; "" when fine."""
        lost = f", {self.dropped} lost (queue and journal full)" if self.dropped else ""
        if self.failing:
            return (f"results not being recorded: {self.error}; {self.backlog} waiting, "
                    f"retrying{lost}")
        return f"results: {self.dropped} lost (queue and journal full)" if self.dropped else ""

    # --- caller side --------------------------------------------------------------------

    def append(self, record: ResultRecord) -> bool:
        """Queue a record (validated now, so a bad one fails in the caller's thread).

        False when it could be held neither in memory nor in the journal (counted in
        :attr:`dropped`, named by :attr:`alarm`)."""
        record.check()
        return self._put(("row", record))

    def mark_pruned(self, paths: Iterable[str]) -> None:
        """Queue: flag rows whose image or heat map path is in ``paths`` as pruned."""
        items = [str(p) for p in paths]
        if items:
            self._put(("prune", items))

    def _put(self, item: Item) -> bool:
        with self._cond:
            if self._closed:
                raise ResultsError(f"{self.db_path}: results writer is closed")
            seq = self._seq + 1
            if self.journal.total == 0 and len(self._mem) < self.max_pending:
                self._mem.append((seq, item))
                if self._first_pending_at is None:
                    self._first_pending_at = time.monotonic()
            else:  # memory full, or older items already wait in the journal: keep the order
                try:
                    self.journal.append(item, seq)
                except OSError as exc:
                    self.dropped += 1
                    log.error("result not recorded: queue full and journal not writable (%s)",
                              exc)
                    return False
            self._seq = seq
            self._cond.notify_all()
            return True

    def flush(self, timeout: float | None = 30.0) -> None:
        """Block until everything queued so far is committed.

        Raises ResultsError (rows kept, still retried) if a write attempt made after this
        call fails, or after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target, attempts = self._seq, self._attempts
            self._urgent = True
            self._kick.set()
            self._cond.notify_all()
            while self._committed_seq < target:
                if self.failing and self._attempts > attempts:
                    raise ResultsError(f"{self.db_path}: {self.alarm}") from self.error
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise ResultsError(f"{self.db_path}: results not committed within "
                                       f"{timeout} s ({self.backlog} waiting)")
                if not self._thread.is_alive():
                    raise ResultsError(f"{self.db_path}: results writer has stopped")
                self._cond.wait(left if left is not None else 1.0)

    def close(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued (one more try if failing) and stop the thread.

        What still cannot be written is saved to the journal (written at the next start);
        raises ResultsError only if rows could be kept nowhere.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = self._stop = True
            self._kick.set()
            self._cond.notify_all()
        atexit.unregister(self._atexit)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ResultsError(f"{self.db_path}: writer did not finish within {timeout} s")
        if self.dropped:
            raise ResultsError(f"{self.db_path}: {self.dropped} result(s) could not be "
                               f"recorded nor kept (disk full?)")

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _atexit(self) -> None:
        try:
            self.close(timeout=10.0)
        except ResultsError as exc:
            log.error("%s", exc)

    def _default_wait(self, seconds: float) -> None:
        self._kick.wait(seconds)  # flush() and close() cut the back-off short

    # --- writer thread ------------------------------------------------------------------

    def _ready(self) -> bool:
        if self._mem:
            if self._stop or self._urgent or self.failing or len(self._mem) >= self.batch_size:
                return True
            return time.monotonic() >= (self._first_pending_at or 0) + self.max_delay_s
        return self.journal.total > 0

    def _take(self) -> tuple[list[Item], str, int, int]:
        """The next batch (left queued until committed): items, source, lines, end."""
        if self._mem:
            n_rows, items = 0, []
            for _, item in self._mem:
                n_rows += item[0] == "row"
                if n_rows > self.batch_size:
                    break
                items.append(item)
            return items, "mem", len(items), 0
        if self.journal.start_drain():
            items, lines, end = self.journal.read_draining(max(self.batch_size, 500))
            return items, "journal", lines, end
        return [], "none", 0, 0

    def _run(self) -> None:
        conn = None
        while True:
            with self._cond:
                while not self._ready() and not (self._stop and self.backlog == 0):
                    wait = None
                    if self._mem and self._first_pending_at is not None:
                        wait = max(0.0, self._first_pending_at + self.max_delay_s
                                   - time.monotonic())
                    self._cond.wait(wait)
                if self._stop and self.backlog == 0:
                    break
                stopping = self._stop
                try:
                    items, source, lines, end = self._take()
                except OSError as exc:  # the journal cannot be read or renamed
                    items, source, lines, end, take_error = [], "none", 0, 0, exc
                else:
                    take_error = None
            try:
                if take_error is not None:
                    raise take_error
                if conn is None:
                    conn = self._connect(self.db_path, create=True)
                    conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
                ids = self._commit(conn, items)
            except _FAILURES as exc:
                if conn is not None:
                    conn.close()
                    conn = None  # a fresh connection after a disk error
                self._failed(exc)
                if stopping:
                    self._save_on_close()
                    break
                self._wait(min(self.backoff_s[0] * 2 ** (self.failures - 1), self.backoff_s[1]))
                self._kick.clear()
                continue
            self._done(items, source, lines, end, ids)
        if conn is not None:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, items: list[Item]) -> list[int]:
        ids = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for kind, payload in items:
                if kind == "row":
                    ids.append(conn.execute(_INSERT, payload.values()).lastrowid)
                else:
                    conn.executemany(_PRUNE, [(p,) for p in payload])
            conn.execute("COMMIT")
        except BaseException:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        return ids

    def _failed(self, exc: BaseException) -> None:
        with self._cond:
            self.failures += 1
            self.error = exc
            first = not self.failing
            self.failing = True
            self._urgent = False
        if first:
            log.error("results not being recorded: %s (%d waiting); retrying", exc, self.backlog)
            if self.on_error is not None:
                self._callback(self.on_error, exc)
        else:
            log.warning("results write failed again (%s, %d waiting)", exc, self.backlog)
        with self._cond:  # counted only now: a flush() that raises finds the failure reported
            self._attempts += 1
            self._cond.notify_all()

    def _done(self, items: list[Item], source: str, lines: int, end: int,
              ids: list[int]) -> None:
        with self._cond:
            self._attempts += 1
            if source == "mem":
                for _ in range(lines):
                    self._committed_seq = max(self._committed_seq, self._mem.popleft()[0])
                self._first_pending_at = time.monotonic() if self._mem else None
            elif source == "journal":
                self.journal.drained(lines, end)
                if self.journal.draining_count == 0:
                    self._committed_seq = max(self._committed_seq, self.journal.draining_last_seq)
            if not self.backlog:
                self._urgent = False
            recovered = self.failing
            self.failing, self.failures, self.error = False, 0, None
            rows = [p for k, p in items if k == "row"]
            self.committed_count += len(rows)
            if ids:
                self.last_committed_id = ids[-1]
            self._cond.notify_all()
        if recovered:
            log.warning("results are being recorded again (%d waiting)", self.backlog)
            if self.on_recover is not None:
                self._callback(self.on_recover)
        if self.on_commit is not None and rows:
            self._callback(self.on_commit, [dataclasses.replace(r, id=i)
                                            for r, i in zip(rows, ids)])

    def _save_on_close(self) -> None:
        with self._cond:
            items = [item for _, item in self._mem]
            try:
                self.journal.save_before(items)
            except OSError as exc:
                self.dropped += len(items)
                log.error("results writer closed: %d result(s) lost, journal not writable "
                          "(%s)", len(items), exc)
                return
            self._mem.clear()
        if items or self.journal.total:
            log.warning("results writer closed: %d item(s) kept in %s, written at the next "
                        "start", self.journal.total, self.journal.path)

    @staticmethod
    def _callback(fn: Callable, *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a faulty callback must not stop the writer
            log.exception("results writer callback failed")
