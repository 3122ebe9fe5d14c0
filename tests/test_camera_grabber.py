"""Grabber: live and triggered delivery, statistics, watchdog, reconnect, release."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.camera import EventKind, Grabber, ReconnectPolicy
from core.camera.errors import CameraError, FeatureError
from core.camera.replay import FolderReplaySource
from core.camera.sim.line import SimLineSource

FAST = ReconnectPolicy(initial=0.05, maximum=0.2)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def kinds(grabber: Grabber) -> list[EventKind]:
    return [e.kind for e in grabber.events.history()]


def small_sim(**kw: object) -> SimLineSource:
    return SimLineSource(seed=1, width=64, height=64, **kw)


def test_live_keeps_only_the_newest_and_counts_skipped() -> None:
    with Grabber(small_sim(fps=0)) as grabber:
        wait_until(lambda: grabber.stats().received >= 30)
        first = grabber.next_frame(1.0)
        wait_until(lambda: grabber.stats().received >= first.frame_id + 10)
        second = grabber.next_frame(1.0)
        assert second.frame_id > first.frame_id + 5  # the frames in between were skipped
        stats = grabber.stats()
    taken = 2
    assert stats.skipped >= stats.delivered - taken - 1 > 0
    assert stats.skipped <= stats.delivered - taken
    assert stats.overruns == 0


def test_triggered_keeps_every_frame_in_order() -> None:
    with Grabber(small_sim(fps=200), mode="triggered", queue_size=64) as grabber:
        frames = [grabber.next_frame(2.0) for _ in range(25)]
        stats = grabber.stats()
    assert [f.frame_id for f in frames] == list(range(25))
    assert stats.skipped == 0 and stats.overruns == 0


def test_triggered_overrun_is_reported_not_silent() -> None:
    with Grabber(small_sim(fps=0), mode="triggered", queue_size=3) as grabber:
        wait_until(lambda: grabber.stats().overruns >= 5)
        kept = grabber.drain()
        stats = grabber.stats()
    assert [f.frame_id for f in kept] == [0, 1, 2]  # the oldest were kept, in order
    assert stats.skipped == 0 and stats.overruns >= 5
    overruns = [e for e in grabber.events.history() if e.kind is EventKind.OVERRUN]
    assert len(overruns) >= 5 and overruns[0].data["frame_id"] == 3


def test_stats_fps_matches_the_source_rate() -> None:
    with Grabber(small_sim(fps=40)) as grabber:
        wait_until(lambda: grabber.stats().received >= 15)
        fps = grabber.stats().fps
    assert 25 < fps < 55, fps


def test_disconnect_reconnects_with_backoff_and_resumes() -> None:
    source = small_sim(fps=50)
    grabber = Grabber(source, reconnect=FAST)
    grabber.start()
    try:
        assert grabber.next_frame(1.0) is not None
        source.inject_fault("disconnect", seconds=0.3)
        wait_until(lambda: grabber.stats().reconnects == 1)
        before = grabber.stats().received
        wait_until(lambda: grabber.stats().received > before + 3)
        assert grabber.state == "streaming"
    finally:
        grabber.stop()
    events = kinds(grabber)
    assert events.index(EventKind.LOST) < events.index(EventKind.RECONNECT_FAILED) < events.index(EventKind.RECONNECTED)
    failed = [e for e in grabber.events.history() if e.kind is EventKind.RECONNECT_FAILED]
    assert "simulated disconnect" in failed[0].message
    assert not source.is_open


def test_watchdog_notices_a_stalled_stream() -> None:
    source = small_sim(fps=50)
    with Grabber(source, frame_timeout=0.1, stall_timeout=0.25, reconnect=FAST) as grabber:
        assert grabber.next_frame(1.0) is not None
        source.inject_fault("stall", seconds=0.6)
        wait_until(lambda: EventKind.STALLED in kinds(grabber))
        wait_until(lambda: grabber.stats().reconnects >= 1)
        stats = grabber.stats()
    assert stats.timeouts >= 1 and EventKind.TIMEOUT in kinds(grabber)


def test_waiting_for_triggers_is_not_a_timeout() -> None:
    source = small_sim(fps=0)
    source.open()
    source.set_feature("trigger_mode", "On")
    with Grabber(source, mode="triggered", frame_timeout=0.05, stall_timeout=0.1) as grabber:
        time.sleep(0.3)
        grabber.software_trigger()
        frame = grabber.next_frame(1.0)
        stats = grabber.stats()
    assert frame is not None and frame.frame_id == 0
    assert stats.timeouts == 0 and EventKind.STALLED not in kinds(grabber)


def test_incomplete_frames_are_counted_and_held_back() -> None:
    source = small_sim(fps=100)
    with Grabber(source, mode="triggered") as grabber:
        source.inject_fault("incomplete", count=2)
        frames = [grabber.next_frame(1.0) for _ in range(3)]
        stats = grabber.stats()
    assert all(f.complete for f in frames)
    assert stats.incomplete == 2 and kinds(grabber).count(EventKind.INCOMPLETE) == 2
    source2 = small_sim(fps=100)
    with Grabber(source2, mode="triggered", deliver_incomplete=True) as grabber:
        source2.inject_fault("incomplete", count=1)
        flags = [grabber.next_frame(1.0).complete for _ in range(3)]
    assert flags.count(False) == 1


def test_without_policy_a_lost_source_fails_and_is_released() -> None:
    source = small_sim(fps=50)
    grabber = Grabber(source, reconnect=None)
    grabber.start()
    source.inject_fault("disconnect", seconds=5)
    wait_until(lambda: not grabber.running)
    assert grabber.state == "failed" and not source.is_open
    grabber.drain()  # a frame from before the loss may still wait
    t0 = time.monotonic()
    assert grabber.next_frame(2.0) is None and time.monotonic() - t0 < 0.5
    assert kinds(grabber)[-1] is EventKind.STOPPED


def test_stop_during_reconnect_releases_promptly() -> None:
    source = small_sim(fps=50)
    grabber = Grabber(source, reconnect=ReconnectPolicy(initial=10, maximum=10))
    grabber.start()
    source.inject_fault("disconnect", seconds=60)
    wait_until(lambda: grabber.state == "reconnecting")
    t0 = time.monotonic()
    grabber.stop()
    assert time.monotonic() - t0 < 1.0 and not grabber.running and not source.is_open


def test_feature_calls_run_in_the_grabber_thread() -> None:
    with Grabber(small_sim(fps=50)) as grabber:
        grabber.set_feature("exposure", 1234)
        assert grabber.get_feature("exposure") == 1234.0
        assert grabber.capabilities().info("exposure").value == 1234.0
        with pytest.raises(FeatureError, match="out of range"):
            grabber.set_feature("exposure", -5)


def test_end_of_replay_stops_the_grabber(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((8, 8), i, np.uint8))
    source = FolderReplaySource(tmp_path, fps=0, loop=False)
    grabber = Grabber(source, mode="triggered")
    grabber.start()
    wait_until(lambda: not grabber.running)
    assert [f.frame_id for f in grabber.drain()] == [0, 1, 2]
    assert "end of replay" in grabber.events.history()[-1].message and not source.is_open


def test_start_with_retry_waits_for_the_device() -> None:
    source = small_sim(fps=50)
    source.inject_fault("disconnect", seconds=0.3)  # not plugged in yet
    with pytest.raises(CameraError, match="simulated disconnect"):
        Grabber(source).start()
    grabber = Grabber(source, reconnect=FAST)
    grabber.start(retry=True)
    try:
        assert grabber.next_frame(3.0) is not None
        assert grabber.stats().reconnects == 1
    finally:
        grabber.stop()
    assert kinds(grabber)[:3] == [EventKind.STARTED, EventKind.LOST, EventKind.RECONNECTING]


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        Grabber(small_sim(), queue_size=0)
    with pytest.raises(ValueError, match="'sometimes'"):
        Grabber(small_sim(), mode="sometimes")
