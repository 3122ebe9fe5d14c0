"""LiveSession on the simulated line: frames flow, faults show and clear, threads stop."""

import gc
import threading
import time

import pytest

from core.camera import DeliveryMode
from core.inspection.session import LiveSession
from core.recipe import Recipe, Thresholds
from tests.inspection_fakes import FakeInferencer, Sink

SIM = "sim:fps=60,width=64,height=64,seed=1"


def _wait(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def _threads():
    return {t.name for t in threading.enumerate()
            if t.name.startswith(("grabber", "inspection-worker", "results-recorder"))}


def _session(mode="live", **kw):
    recipe = Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    return LiveSession(recipe, None, SIM, mode=mode, inferencer=FakeInferencer(), **kw)


def test_frames_flow_and_close_stops_every_thread():
    sink = Sink()
    s = _session(results=sink, stall_timeout=1.0)
    gc.unfreeze()  # an earlier test may have opened a session
    assert gc.get_freeze_count() == 0
    s.open()
    try:
        _wait(lambda: s.worker.stats().inspected >= 5)
        _wait(lambda: s.status().camera_fps > 0)
        st = s.status()
        assert st.state == "streaming" and st.fault == "" and st.source.startswith("sim:")
        assert st.latency_ms is not None and st.received >= 5
        r = s.latest()
        assert r.image.shape == (64, 64, 3) and r.recipe == "demo" and r.model_version == 1
        assert _threads()
        assert gc.get_freeze_count() > 0  # long-lived objects are out of the collector's way
    finally:
        assert s.close()
    assert not _threads()
    assert s.status().state == "stopped"
    assert len(sink.records) == s.worker.stats().inspected  # every inspected frame recorded
    snap = s.counters.snapshot()
    assert snap.inspected == snap.ok + snap.review + snap.ng == len(sink.records)


def test_camera_fault_shows_and_clears_on_reconnect():
    s = _session()
    s.open()
    try:
        _wait(lambda: s.worker.stats().inspected >= 2)
        s.source.inject_fault("disconnect", seconds=0.6)
        _wait(lambda: "lost" in s.status().fault.lower())
        _wait(lambda: s.status().fault == "" and s.status().state == "streaming")
        before = s.worker.stats().inspected
        _wait(lambda: s.worker.stats().inspected > before + 2)  # frames flow again
        assert s.faults.faults_seen >= 1
    finally:
        assert s.close()


def test_triggered_mode_inspects_every_frame():
    s = _session(mode="triggered", queue_size=256)
    seen = []
    s.open()
    s.worker.add_consumer(lambda r: seen.append(r.frame.frame_id))
    _wait(lambda: len(seen) >= 10)
    s.grabber.stop()
    s.worker.stop(drain=True)
    s.close()
    assert seen == list(range(seen[0], seen[0] + len(seen)))  # no frame skipped
    assert s.status().skipped == 0


def test_mode_parses_into_delivery_mode_and_a_bad_one_is_refused_in_words():
    assert _session(mode="triggered").mode is DeliveryMode.TRIGGERED
    assert _session().mode is DeliveryMode.LIVE
    with pytest.raises(ValueError, match=r"session mode must be 'live' or 'triggered', got 'burst'"):
        _session(mode="burst")


def test_open_failure_releases_everything():
    s = LiveSession(Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5)), None,
                    "sim:width=5", inferencer=FakeInferencer())
    with pytest.raises(ValueError, match="width"):
        s.open()
    assert not _threads()
    with pytest.raises(ValueError, match="no active model"):
        LiveSession(Recipe(name="x"), None, "sim")
