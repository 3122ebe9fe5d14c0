"""Inspector: thresholds, ROI crop, preprocessing, re-judging; worker: live / triggered threads."""

import threading
import time

import numpy as np
import pytest

from core.inspection import InspectionWorker, Inspector
from core.recipe import Preprocessing, Recipe, Roi, Thresholds, Verdict
from tests.inspection_fakes import FakeInferencer, ManualFeed, make_frame

T = Thresholds(ok_limit=0.3, ng_limit=0.6, pixel=0.5)


def test_verdicts_follow_thresholds():
    insp = Inspector(FakeInferencer(), T, recipe="r", model_version=3)
    assert insp.inspect(make_frame(51)).verdict is Verdict.OK  # 0.2
    assert insp.inspect(make_frame(102)).verdict is Verdict.REVIEW  # 0.4
    res = insp.inspect(make_frame(204, frame_id=7))  # 0.8
    assert res.verdict is Verdict.NG and res.score == pytest.approx(0.8)
    assert (res.model_version, res.recipe, res.frame.frame_id) == (3, "r", 7)
    assert res.anomaly_map.shape == (24, 32) and res.anomaly_map.dtype == np.float32
    assert res.latency_ms >= 0 and res.t_frame <= res.t_start <= res.t_done
    assert res.rejudged(Thresholds(0.9, 0.95, 0.5)).verdict is Verdict.OK
    insp.set_thresholds(Thresholds(0.1, 0.2, 0.5))
    assert insp.inspect(make_frame(102)).verdict is Verdict.NG
    with pytest.raises(ValueError, match="ok_limit"):
        insp.set_thresholds(Thresholds(0.5, 0.1, 0.5))


def test_roi_crop_and_map_placement():
    fake = FakeInferencer()
    insp = Inspector(fake, T, roi=Roi(x=4, y=2, w=10, h=8))
    # defect outside the ROI is not seen
    assert insp.inspect(make_frame(250, defect=(20, 15, 5, 5))).verdict is Verdict.OK
    res = insp.inspect(make_frame(250, defect=(6, 4, 3, 3)))
    assert fake.calls[-1] == (8, 10, 3) and res.verdict is Verdict.NG
    assert res.anomaly_map.shape == (24, 32)
    assert res.anomaly_map[5, 7] == pytest.approx(250 / 255) and res.anomaly_map[0, 0] == 0
    assert res.defect_pixels() == 9
    with pytest.raises(ValueError, match="does not fit in the 32x24 frame"):
        Inspector(fake, T, roi=Roi(30, 0, 10, 10)).inspect(make_frame(0))


def test_preprocessing_rotates_before_crop():
    insp = Inspector(FakeInferencer(), T, preprocessing=Preprocessing(rotate=90))
    res = insp.inspect(make_frame(200, defect=(0, 0, 2, 1)))
    assert res.image.shape == (32, 24, 3)  # rotated clockwise
    assert res.anomaly_map[0, -1] > 0.7 and res.anomaly_map[0, 0] < 0.1


def test_from_recipe_uses_recipe_then_bundle_thresholds():
    fake = FakeInferencer({"ok_limit": 0.1, "ng_limit": 0.2, "pixel": 0.3})
    r = Recipe(name="part", roi=Roi(0, 0, 8, 8), thresholds=T, active_version=2)
    insp = Inspector.from_recipe(fake, r)
    assert (insp.thresholds, insp.roi, insp.model_version) == (T, Roi(0, 0, 8, 8), 2)
    insp = Inspector.from_recipe(fake, Recipe(name="new"))
    assert insp.thresholds == Thresholds(0.1, 0.2, 0.3)
    fake.meta = {}
    with pytest.raises(ValueError, match="recipe 'new' has no thresholds"):
        Inspector.from_recipe(fake, Recipe(name="new"))


def _wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_worker_live_skips_to_newest_and_publishes():
    fake = FakeInferencer()
    fake.gate = threading.Event()
    seen = []
    feed = ManualFeed("live")
    w = InspectionWorker(Inspector(fake, T), feed, consumers=[seen.append])
    w.start()
    feed.put(make_frame(10, 0))
    assert fake.entered.wait(2.0)  # the model is busy with frame 0
    for i in range(1, 6):
        feed.put(make_frame(200, i))
    fake.gate.set()
    _wait(lambda: w.stats().inspected == 2)
    assert w.stop()
    st = w.stats()
    assert [r.frame.frame_id for r in seen] == [0, 5]
    assert (st.inspected, st.running) == (2, False)
    assert (feed.stats().delivered, feed.stats().skipped) == (6, 4)
    assert w.latest().frame.frame_id == 5 and w.latest().seq == 2
    snap = w.counters.snapshot()
    assert (snap.inspected, snap.ok, snap.ng) == (2, 1, 1)
    np.testing.assert_allclose(w.history.scores(), [10 / 255, 200 / 255], rtol=1e-5)


def test_worker_triggered_inspects_every_frame_and_survives_errors():
    fake = FakeInferencer()
    fake.fail_on = {77}
    seen = []

    def bad_consumer(result):
        raise OSError("disk full")

    feed = ManualFeed("triggered", queue_size=100)
    w = InspectionWorker(Inspector(fake, T), feed, consumers=[bad_consumer, seen.append])
    w.start()
    levels = [10, 77, 120, 200, 30]
    for i, lv in enumerate(levels):
        feed.put(make_frame(lv, i))
    assert w.stop(drain=True)
    st = w.stats()
    assert [r.frame.frame_id for r in seen] == [0, 2, 3, 4]  # frame 1 made the model raise
    assert (st.inspected, st.errors, st.consumer_errors) == (4, 1, 4)
    assert (feed.stats().skipped, feed.stats().overruns) == (0, 0)
    assert "disk full" in st.last_error or "model exploded" in st.last_error
    assert [str(r.verdict) for r in seen] == ["OK", "REVIEW", "NG", "OK"]
    with pytest.raises(RuntimeError, match="already started"):
        w.start()
