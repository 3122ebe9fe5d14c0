"""Issue 13 item 14: the results writer survives a full disk or a held lock.

It keeps retrying with back-off (an injected wait: no test sleeps on real time), holds
unwritten rows in a bounded queue that spills to a journal file, raises an alarm while it
cannot write, and the store archives no image for a row it cannot record.
"""

import sqlite3
import threading

import numpy as np
import pytest

from core.store import ResultRecord, ResultsError, ResultsQuery, ResultsStore, ResultsWriter
from core.store.records import connect

T0 = 1_714_550_400.0
FULL = "database or disk is full"


def rec(i, verdict="OK"):
    score = {"OK": 0.1, "REVIEW": 0.4, "NG": 0.9}[verdict]
    return ResultRecord(time=T0 + i, recipe="bottle", model_version=1, ok_limit=0.3,
                        ng_limit=0.6, pixel_threshold=0.5, score=score, verdict=verdict,
                        frame_id=i, source="cam0")


class FlakyConn:
    """A real connection whose commits fail while ``plan.fail`` says so."""

    def __init__(self, conn, plan):
        self._conn, self._plan = conn, plan

    def execute(self, sql, *args):
        if sql == "BEGIN IMMEDIATE":
            self._plan.attempts += 1
            if self._plan.should_fail():
                raise sqlite3.OperationalError(FULL)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


class Plan:
    def __init__(self, fail_first=0, always=False):
        self.fail_first, self.always, self.attempts = fail_first, always, 0

    def should_fail(self):
        return self.always or self.attempts <= self.fail_first

    def connect(self, db_path, create=False):
        return FlakyConn(connect(db_path, create=create), self)


class Gate:
    """An injected back-off wait: records the delays, blocks until the test opens the gate."""

    def __init__(self, open_=True):
        self.delays, self.event = [], threading.Event()
        if open_:
            self.event.set()

    def __call__(self, seconds):
        self.delays.append(seconds)
        assert self.event.wait(10), "gate never opened"


def committed_when(n):
    done, seen = threading.Event(), []

    def on_commit(rows):
        seen.extend(rows)
        if len(seen) >= n:
            done.set()

    return done, seen, on_commit


def test_writer_retries_with_backoff_past_three_failures_and_resumes(tmp_path):
    plan, gate = Plan(fail_first=7), Gate()
    done, seen, on_commit = committed_when(10)
    alarms, recoveries = [], []
    w = ResultsWriter(tmp_path / "r.sqlite", max_delay_s=0.0, connect=plan.connect, wait=gate,
                      on_commit=on_commit, on_error=alarms.append,
                      on_recover=lambda: recoveries.append(True))
    for i in range(10):
        w.append(rec(i))
    assert done.wait(10)
    w.close()
    assert gate.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]  # doubling, capped at 30 s
    assert len(alarms) == 1 and FULL in str(alarms[0])  # one alarm per outage
    assert recoveries == [True] and not w.failing and w.alarm == "" and w.backlog == 0
    assert [r.frame_id for r in ResultsQuery(w.db_path).iter_records()] == list(range(10))


def test_alarm_and_backlog_while_failing_and_nothing_refused(tmp_path):
    plan, gate = Plan(always=True), Gate(open_=False)
    failing = threading.Event()
    w = ResultsWriter(tmp_path / "r.sqlite", max_delay_s=0.0, connect=plan.connect, wait=gate,
                      on_error=lambda exc: failing.set())
    w.append(rec(0))
    assert failing.wait(10)
    for i in range(1, 5):
        w.append(rec(i))  # no ResultsError while the disk is full: rows are held
    assert w.failing and w.backlog == 5
    assert FULL in w.alarm and "5" in w.alarm
    plan.always = False
    gate.event.set()
    w.flush(10)
    assert not w.failing and w.backlog == 0
    w.close()
    assert ResultsQuery(w.db_path).summary()[0].total == 5


def test_bounded_queue_spills_to_a_journal_and_drains_in_order(tmp_path):
    plan, gate = Plan(always=True), Gate(open_=False)
    failing = threading.Event()
    done, seen, on_commit = committed_when(12)
    w = ResultsWriter(tmp_path / "r.sqlite", max_delay_s=0.0, connect=plan.connect, wait=gate,
                      max_pending=5, on_commit=on_commit, on_error=lambda exc: failing.set())
    w.append(rec(0))
    assert failing.wait(10)
    for i in range(1, 12):
        w.append(rec(i))
    assert w.backlog == 12 and w.in_memory == 5
    assert len(w.journal_path.read_text().splitlines()) == 7
    plan.always = False
    gate.event.set()
    assert done.wait(10)
    w.close()
    assert [r.frame_id for r in ResultsQuery(w.db_path).iter_records()] == list(range(12))
    assert not w.journal_path.exists() and w.dropped == 0


def test_close_while_failing_keeps_rows_in_the_journal_for_the_next_start(tmp_path):
    plan, gate = Plan(always=True), Gate(open_=False)
    failing = threading.Event()
    db = tmp_path / "r.sqlite"
    w = ResultsWriter(db, max_delay_s=0.0, connect=plan.connect, wait=gate, max_pending=3,
                      on_error=lambda exc: failing.set())
    w.append(rec(0))
    assert failing.wait(10)
    for i in range(1, 8):
        w.append(rec(i))
    gate.event.set()
    w.close()  # nothing is lost: what could not be written waits in the journal
    assert w.journal_path.is_file()
    with ResultsWriter(db, max_delay_s=0.0) as again:  # the disk has room again
        again.flush(10)
    assert [r.frame_id for r in ResultsQuery(db).iter_records()] == list(range(8))
    assert not w.journal_path.exists()


def test_store_archives_no_image_while_the_writer_cannot_record(tmp_path):
    plan, gate = Plan(always=True), Gate(open_=False)
    failing = threading.Event()
    img = np.full((16, 16, 3), 90, np.uint8)
    store = ResultsStore(tmp_path, max_delay_s=0.0, connect=plan.connect, wait=gate,
                         on_error=lambda exc: failing.set())
    first = store.record(rec(0, "NG"), img, None)  # before anything failed: archived
    assert failing.wait(10)
    later = [store.record(rec(i, "NG"), img, None) for i in range(1, 4)]
    assert first.image_path is not None
    assert all(r.image_path is None for r in later)
    pngs = list((tmp_path / "archive").rglob("*.png"))
    assert len(pngs) == 1 and store.archive_skipped == 3
    plan.always = False
    gate.event.set()
    store.flush(10)
    store.close()
    rows = {r.frame_id: r for r in store.iter_records()}
    assert sorted(rows) == [0, 1, 2, 3] and rows[0].image_path == first.image_path
    assert all(rows[i].image_path is None for i in (1, 2, 3))


def test_a_held_lock_does_not_stop_the_writer(tmp_path):
    """A real sqlite lock (another connection holds the write lock) instead of a fake."""
    db = tmp_path / "r.sqlite"
    connect(db, create=True).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    gate = Gate(open_=False)
    failing = threading.Event()
    w = ResultsWriter(db, max_delay_s=0.0, wait=gate, busy_timeout_s=0.0,
                      on_error=lambda exc: failing.set())
    for i in range(4):
        w.append(rec(i))
    assert failing.wait(10) and "locked" in w.alarm
    holder.execute("ROLLBACK")
    holder.close()
    gate.event.set()
    w.flush(10)
    w.close()
    assert ResultsQuery(db).summary()[0].total == 4


def test_a_row_that_cannot_be_kept_leaves_no_archive_image(tmp_path, monkeypatch):
    """Queue full and journal unwritable while the writer is still busy (not failing yet):
    the row is lost, so its image must not stay in the archive."""
    release, busy = threading.Event(), threading.Event()

    class SlowConn(FlakyConn):
        def execute(self, sql, *args):
            if sql == "BEGIN IMMEDIATE":
                busy.set()
                assert release.wait(10)
            return self._conn.execute(sql, *args)

    def slow_connect(db_path, create=False):
        return SlowConn(connect(db_path, create=create), None)

    img = np.full((16, 16, 3), 90, np.uint8)
    store = ResultsStore(tmp_path, max_delay_s=0.0, max_pending=1, connect=slow_connect)
    first = store.record(rec(0, "NG"), img, None)
    assert busy.wait(10)  # row 0 is being written: the in-memory queue (1) is full

    def no_space(item, seq):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.writer.journal, "append", no_space)
    try:
        lost = store.record(rec(1, "NG"), img, None)
    finally:
        release.set()
    assert store.writer.dropped == 1 and lost.image_path is None
    pngs = sorted(p.relative_to(tmp_path / "archive").as_posix()
                  for p in (tmp_path / "archive").rglob("*.png"))
    assert pngs == [first.image_path]
    store.flush(10)
    monkeypatch.undo()
    assert [r.frame_id for r in store.iter_records()] == [0]
    with pytest.raises(ResultsError, match="could not be recorded"):
        store.close()
