"""FrameDelivery, the one hand-off of frames to their consumer: live keeps the newest and
counts the frames it replaces as skipped; triggered keeps every frame in order and counts
the ones a full queue cannot take as overruns. Mode strings parse into DeliveryMode."""

import threading

import pytest

from core.camera import DeliveryMode
from core.camera.delivery import FrameDelivery
from core.camera.stats import StatsCounter
from tests.inspection_fakes import make_frame


def _delivery(mode, queue_size=8):
    stats, overrun = StatsCounter(), []
    return FrameDelivery(DeliveryMode(mode), queue_size, stats, overrun.append), stats, overrun


def _counts(stats):
    s = stats.snapshot("fake:0", "streaming", 0)
    return s.delivered, s.skipped, s.overruns


def test_live_keeps_newest_and_counts_skipped():
    box, stats, overrun = _delivery("live")
    for i in range(5):
        box.put(make_frame(0, i))
    assert _counts(stats) == (5, 4, 0) and box.queued() == 1
    assert box.take(0.1, alive=lambda: True).frame_id == 4
    assert box.take(0.01, alive=lambda: True) is None  # taken: nothing new waits
    assert box.latest().frame_id == 4 and overrun == []


def test_triggered_keeps_all_in_order_and_counts_overruns():
    box, stats, overrun = _delivery("triggered", queue_size=3)
    for i in range(4):
        box.put(make_frame(0, i))
    assert _counts(stats) == (3, 0, 1) and [f.frame_id for f in overrun] == [3]
    assert [box.take(0.1, alive=lambda: True).frame_id for _ in range(3)] == [0, 1, 2]
    box.put(make_frame(0, 4))  # room again
    assert [f.frame_id for f in box.drain()] == [4] and box.queued() == 0


def test_a_waiting_consumer_gets_the_next_frame_or_gives_up_when_not_alive():
    box, _, _ = _delivery("triggered")
    t = threading.Timer(0.05, lambda: box.put(make_frame(0, 7)))
    t.start()
    assert box.take(2.0, alive=lambda: True).frame_id == 7
    t.join()
    assert box.take(None, alive=lambda: False) is None  # returns at once, no timeout needed


def test_mode_strings_parse_and_bad_ones_are_refused():
    assert DeliveryMode("live") is DeliveryMode.LIVE and DeliveryMode("triggered") is DeliveryMode.TRIGGERED
    assert [m.value for m in DeliveryMode] == ["live", "triggered"]
    with pytest.raises(ValueError, match="'burst' is not a valid DeliveryMode"):
        DeliveryMode("burst")
    with pytest.raises(ValueError, match="queue_size must be >= 1"):
        FrameDelivery(DeliveryMode.TRIGGERED, 0, StatsCounter(), lambda frame: None)
