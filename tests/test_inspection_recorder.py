"""Results of the worker reach the results store; NG / REVIEW frames are archived with heat maps."""

from core.inspection import InspectionWorker, Inspector
from core.inspection.recorder import ResultRecorder
from core.recipe import Thresholds
from core.store.results import ResultsStore
from tests.inspection_fakes import FakeInferencer, ManualFeed, make_frame


def test_every_result_recorded_and_ng_review_archived(tmp_path):
    store = ResultsStore(tmp_path, max_delay_s=0.01)
    recorder = ResultRecorder(store)
    t = Thresholds(0.3, 0.6, 0.5)
    feed = ManualFeed("triggered")
    w = InspectionWorker(Inspector(FakeInferencer(), t, recipe="demo", model_version=1), feed,
                         consumers=[recorder])
    w.start()
    for i, level in enumerate([10, 120, 200, 20]):  # OK, REVIEW, NG, OK
        feed.put(make_frame(level, i))
    assert w.stop(drain=True)
    assert recorder.close()
    store.flush()
    rows = sorted(store.iter_records(), key=lambda r: r.frame_id)
    store.close()
    assert [(r.frame_id, r.verdict) for r in rows] == [(0, "OK"), (1, "REVIEW"), (2, "NG"), (3, "OK")]
    assert all(r.recipe == "demo" and r.model_version == 1 and r.ok_limit == 0.3 for r in rows)
    assert [r.image_path is not None for r in rows] == [False, True, True, False]
    for r in rows[1:3]:
        assert store.image_file(r.image_path).is_file() and store.image_file(r.heatmap_path).is_file()
    assert (recorder.recorded, recorder.lost) == (4, 0)


def test_failures_are_counted_not_hidden():
    class Broken:
        def record(self, record, image=None, heatmap=None):
            raise OSError("disk full")

    rec = ResultRecorder(Broken())
    feed = ManualFeed("triggered")
    w = InspectionWorker(Inspector(FakeInferencer(), Thresholds(0.3, 0.6, 0.5), recipe="demo"), feed,
                         consumers=[rec])
    w.start()
    feed.put(make_frame(200, 0))
    w.stop(drain=True)
    rec.close()
    assert (rec.recorded, rec.lost) == (0, 1) and "disk full" in rec.last_error
    rec(w.latest())  # after close: refused, counted
    assert rec.lost == 2


def test_recorder_shows_the_store_alarm_while_results_cannot_be_written(tmp_path):
    """Issue 13 item 14: a full disk raises an alarm (for the status bar) and loses nothing."""
    import sqlite3
    import threading

    from core.store.records import connect

    class FullDisk:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if sql == "BEGIN IMMEDIATE" and state["full"]:
                raise sqlite3.OperationalError("database or disk is full")
            return self.conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.conn, name)

    state = {"full": True}
    failing, gate = threading.Event(), threading.Event()
    store = ResultsStore(tmp_path, max_delay_s=0.0, on_error=lambda exc: failing.set(),
                         connect=lambda p, create=False: FullDisk(connect(p, create=create)),
                         wait=lambda s: gate.wait(10))
    recorder = ResultRecorder(store)
    feed = ManualFeed("triggered")
    w = InspectionWorker(Inspector(FakeInferencer(), Thresholds(0.3, 0.6, 0.5), recipe="demo"), feed,
                         consumers=[recorder])
    w.start()
    for i in range(3):
        feed.put(make_frame(200, i))
    assert w.stop(drain=True) and failing.wait(10)
    assert "not being recorded" in recorder.alarm and "disk is full" in recorder.alarm
    state["full"] = False
    gate.set()
    assert recorder.close()
    store.flush(10)
    assert recorder.alarm == "" and (recorder.recorded, recorder.lost) == (3, 0)
    assert len(list(store.iter_records())) == 3
    store.close()
