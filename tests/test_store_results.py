"""Results database: batched single-writer commits, queries, CSV export, failure reporting."""

import csv
import dataclasses
import math
import sqlite3
import threading

import pytest

from core.recipe import Recipe, Thresholds
from core.store import ResultRecord, ResultsError, ResultsQuery, ResultsStore, ResultsWriter
from core.store.records import connect

T0 = 1_714_550_400.0  # 2024-05-01T08:00:00Z


def rec(score, *, t=T0, recipe="bottle", ok=0.3, ng=0.6, **kw):
    from core.recipe import verdict_for

    return ResultRecord(time=t, recipe=recipe, model_version=1, ok_limit=ok, ng_limit=ng,
                        pixel_threshold=0.5, score=score,
                        verdict=verdict_for(score, ok, ng).value, latency_ms=12.5,
                        frame_id=kw.pop("frame_id", 7), source="cam0", **kw)


@pytest.fixture
def store(tmp_path):
    s = ResultsStore(tmp_path, max_delay_s=0.05)
    yield s
    s.close()


def test_rows_round_trip_and_wal_mode(store):
    committed = []
    store.writer.on_commit = committed.extend
    records = [rec(0.1 * i, t=T0 + i, frame_id=i) for i in range(10)]
    for r in records:
        store.append(r)
    store.flush()
    assert [c.id for c in committed] == sorted({c.id for c in committed})
    assert len(committed) == 10 and store.committed_count == 10
    back = list(store.iter_records())
    assert [b.id for b in back] == [c.id for c in committed]
    assert [(b.score, b.verdict, b.frame_id) for b in back] == \
        [(r.score, r.verdict, r.frame_id) for r in records]
    conn = connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_commits_in_batches_by_size_and_by_time(tmp_path):
    batches = []
    got = threading.Event()

    def on_commit(rows):
        batches.append([r.id for r in rows])
        got.set()

    with ResultsWriter(tmp_path / "r.sqlite", batch_size=10, max_delay_s=3600,
                       on_commit=on_commit) as w:
        for i in range(25):
            w.append(rec(0.1, frame_id=i))
        assert got.wait(10)  # the size trigger fired without any flush
        w.flush()
    assert [len(b) for b in batches] == [10, 10, 5]
    got.clear()
    with ResultsWriter(tmp_path / "r.sqlite", max_delay_s=0.05, on_commit=on_commit) as w:
        w.append(rec(0.2))
        assert got.wait(10)  # the time trigger fired without any flush
        assert w.last_committed_id == 26


def test_bad_records_fail_in_the_caller(store):
    with pytest.raises(ResultsError, match="verdict must be one of"):
        store.append(dataclasses.replace(rec(0.1), verdict="MAYBE"))
    with pytest.raises(ResultsError, match="ok_limit must be a finite number"):
        store.append(ResultRecord(T0, "b", 1, math.inf, 1.0, None, 0.1, "OK"))
    with pytest.raises(ResultsError, match="frame_id must be an integer"):
        store.append(rec(0.1, frame_id="x"))


def test_nan_score_is_kept_as_ng(store):
    store.append(rec(math.nan))
    store.flush()
    (r,) = store.last(5)
    assert math.isnan(r.score) and r.verdict == "NG"
    h = store.score_distribution()
    assert h.total == 1 and h.nan_count == 1 and sum(h.counts) == 0


def test_summary_by_recipe_and_time_range(store):
    scores = {"bottle": [0.1, 0.2, 0.4, 0.7, 0.1], "cap": [0.9, 0.1]}
    for name, ss in scores.items():
        for i, s in enumerate(ss):
            store.append(rec(s, t=T0 + 60 * i, recipe=name))
    store.flush()
    by = {s.recipe: s for s in store.summary()}
    b = by["bottle"]
    assert (b.total, b.ok, b.review, b.ng) == (5, 3, 1, 1)
    assert b.yield_ratio == pytest.approx(0.6)
    assert (b.first_time, b.last_time) == (T0, T0 + 240)
    assert (by["cap"].ok, by["cap"].ng) == (1, 1)
    (only,) = store.summary(recipe="bottle", since=T0 + 60, until=T0 + 240)
    assert (only.total, only.ok, only.review, only.ng) == (3, 1, 1, 1)  # until is exclusive
    assert store.summary(since=T0 + 1e6) == []


def test_score_distribution_and_last(store):
    for i in range(100):
        store.append(rec(i / 100, t=T0 + i))
    store.flush()
    h = store.score_distribution(bins=10)
    assert h.counts == [10] * 10 and h.total == 100
    assert h.edges[0] == 0.0 and h.edges[-1] == pytest.approx(0.99)
    h2 = store.score_distribution(bins=4, lo=0.0, hi=0.5)
    assert h2.counts == [13, 12, 13, 62]  # above hi is clamped into the last bin
    last = store.last(3)
    assert [r.score for r in last] == [0.99, 0.98, 0.97]
    assert store.last(2, recipe="nope") == []


def test_csv_export_of_a_time_range(store, tmp_path):
    for i in range(6):
        store.append(rec(0.1 * i, t=T0 + i, image_path=f"a/{i}.png" if i % 2 else None))
    store.flush()
    out = tmp_path / "out" / "r.csv"
    assert store.export_csv(out, since=T0 + 1, until=T0 + 4) == 3
    rows = list(csv.DictReader(out.open(newline="")))
    assert [float(r["score"]) for r in rows] == pytest.approx([0.1, 0.2, 0.3])
    assert rows[0]["time_utc"] == "2024-05-01T08:00:01.000+00:00"
    assert rows[0]["image_path"] == "a/1.png" and rows[1]["image_path"] == ""
    assert rows[0]["verdict"] == "OK" and rows[0]["archive_pruned"] == "0"


def test_readers_see_commits_while_the_writer_runs(store):
    q = ResultsQuery(store.db_path)
    store.append(rec(0.1))
    store.flush()
    assert q.summary()[0].total == 1
    store.append(rec(0.1))
    store.flush()
    assert q.summary()[0].total == 2


def test_for_recipe_fills_thresholds_and_verdict():
    r = Recipe("bottle", thresholds=Thresholds(0.3, 0.6, 0.4), active_version=4)
    rr = ResultRecord.for_recipe(r, 0.45, latency_ms=3.0, frame_id=9, source="cam", time=T0)
    assert (rr.verdict, rr.model_version, rr.ok_limit, rr.ng_limit, rr.pixel_threshold) == \
        ("REVIEW", 4, 0.3, 0.6, 0.4)
    with pytest.raises(ResultsError, match="no thresholds"):
        ResultRecord.for_recipe(Recipe("x"), 0.1)


def _failing_writer(tmp_path, on_error) -> ResultsWriter:
    """A writer with one row committed, then its table taken away and a second row queued."""
    w = ResultsWriter(tmp_path / "r.sqlite", max_delay_s=0.0, on_error=on_error,
                      backoff_s=(0.01, 0.05))
    w.append(rec(0.1))
    w.flush()
    sabotage = sqlite3.connect(tmp_path / "r.sqlite")
    sabotage.execute("ALTER TABLE results RENAME TO gone")
    sabotage.commit()
    sabotage.close()
    w.append(rec(0.2))
    return w


def test_write_failure_is_reported_and_rows_kept(tmp_path):
    errors = []
    w = _failing_writer(tmp_path, errors.append)
    with pytest.raises(ResultsError, match="not being recorded.*no such table.*1 waiting"):
        w.flush()
    assert len(errors) == 1 and w.failing and w.backlog == 1
    w.append(rec(0.3))  # still accepted: held until the database can be written
    w.close()  # kept in the journal, nothing lost
    assert len(w.journal_path.read_text().splitlines()) == 2


def test_a_failing_flush_raises_only_after_the_failure_was_reported(tmp_path):
    """flush() raising and on_error are one event: whoever catches the ResultsError finds
    the alarm already raised (this once raced): the callback runs before flush() returns."""
    flush_returned = [False]
    reported_before_return = []

    def report(exc):
        reported_before_return.append(not flush_returned[0])

    w = _failing_writer(tmp_path, report)
    with pytest.raises(ResultsError, match="no such table"):
        w.flush()
    flush_returned[0] = True
    assert reported_before_return == [True]
    w.close()


def test_close_commits_pending_rows_and_refuses_more(tmp_path):
    w = ResultsWriter(tmp_path / "r.sqlite", max_delay_s=3600)
    for _ in range(3):
        w.append(rec(0.1))
    w.close()
    assert ResultsQuery(tmp_path / "r.sqlite").summary()[0].total == 3
    with pytest.raises(ResultsError, match="closed"):
        w.append(rec(0.1))


def test_missing_or_newer_database(tmp_path):
    with pytest.raises(ResultsError, match="no results database"):
        ResultsQuery(tmp_path / "none.sqlite").summary()
    db = tmp_path / "new.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ResultsError, match="newer"):
        ResultsWriter(db)
