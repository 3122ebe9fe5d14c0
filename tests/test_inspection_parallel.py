"""Several frames in flight: order of publication, concurrency only where the model allows it,
worker thread priority, and how the live session chooses the parallelism."""

import os
import threading
import time

import numpy as np
import pytest

from core.inspection.inspector import Inspector
from core.inspection.session import live_cpu_threads, live_frames_in_flight, worker_parallelism
from core.inspection.worker import InspectionWorker, lower_thread_priority
from core.recipe import Thresholds
from tests.inspection_fakes import FakeInferencer, ManualFeed, make_frame

T = Thresholds(0.3, 0.6, 0.5)


class SlowInferencer(FakeInferencer):
    """Takes a frame-dependent time (later frames often finish first) and records how many
    calls ran at once."""

    def __init__(self, concurrent: bool) -> None:
        super().__init__()
        self.concurrent = concurrent
        self._lock = threading.Lock()
        self.active = self.max_active = 0

    def predict(self, image: np.ndarray):
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            level = int(image[0, 0, 0])
            time.sleep(0.002 + 0.02 * ((level * 7) % 5) / 4)  # 2..22 ms, not monotonic in level
            return super().predict(image)
        finally:
            with self._lock:
                self.active -= 1


def run_triggered(inferencer, parallel: int, n: int = 40):
    seen = []
    feed = ManualFeed("triggered", queue_size=n)
    w = InspectionWorker(Inspector(inferencer, T), feed, parallel=parallel,
                         consumers=[seen.append], nice=0)
    w.start()
    for i in range(n):
        feed.put(make_frame(i + 1, i))
    assert feed.stats().overruns == 0
    assert w.stop(timeout=10.0, drain=True)
    return w, seen


def test_parallel_worker_publishes_in_frame_order_with_frames_in_flight():
    model = SlowInferencer(concurrent=True)
    w, seen = run_triggered(model, parallel=3)
    assert model.max_active >= 2  # frames really were inspected at the same time
    assert [r.frame.frame_id for r in seen] == list(range(40))
    assert [r.seq for r in seen] == list(range(1, 41))
    np.testing.assert_allclose(w.history.scores(), [(i + 1) / 255 for i in range(40)], rtol=1e-5)
    assert w.stats().inspected == 40 and not w.running


def test_model_that_cannot_run_concurrently_is_called_one_frame_at_a_time():
    model = SlowInferencer(concurrent=False)
    _, seen = run_triggered(model, parallel=3, n=20)
    assert model.max_active == 1
    assert [r.frame.frame_id for r in seen] == list(range(20))


def test_failed_frame_does_not_hold_back_the_ones_after_it():
    model = SlowInferencer(concurrent=True)
    model.fail_on = {5}  # frame 4 has level 5
    w, seen = run_triggered(model, parallel=2, n=12)
    assert [r.frame.frame_id for r in seen] == [i for i in range(12) if i != 4]
    assert [r.seq for r in seen] == list(range(1, 12))
    st = w.stats()
    assert (st.inspected, st.errors) == (11, 1) and "model exploded" in st.last_error


def test_parallel_must_be_positive():
    with pytest.raises(ValueError, match="parallel"):
        InspectionWorker(Inspector(FakeInferencer(), T), ManualFeed(), parallel=0)


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread nice here")
def test_worker_threads_are_nicer_than_the_rest_of_the_process():
    me = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, me)
    seen = {}

    def probe():
        tid = threading.get_native_id()
        seen["ok"] = lower_thread_priority(3)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, tid)

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    assert seen["ok"] and seen["nice"] == min(19, before + 3)
    assert os.getpriority(os.PRIO_PROCESS, me) == before  # only that thread
    assert lower_thread_priority(0) is False


def test_live_parallelism_follows_cores_and_model(monkeypatch):
    monkeypatch.delenv("LINEINSPECTOR_FRAMES_IN_FLIGHT", raising=False)
    monkeypatch.delenv("LINEINSPECTOR_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert (live_frames_in_flight(), live_cpu_threads()) == (2, 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert (live_frames_in_flight(), live_cpu_threads()) == (2, 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert (live_frames_in_flight(), live_cpu_threads()) == (1, 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("LINEINSPECTOR_FRAMES_IN_FLIGHT", "1")
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "2")
    assert (live_frames_in_flight(), live_cpu_threads()) == (1, 2)
    monkeypatch.delenv("LINEINSPECTOR_FRAMES_IN_FLIGHT")

    cpu = SlowInferencer(concurrent=True)
    cpu.device = "cpu"
    assert worker_parallelism(cpu) == 2
    cpu.device = "cuda:0"
    assert worker_parallelism(cpu) == 1  # a GPU runs one frame at a time anyway
    assert worker_parallelism(SlowInferencer(concurrent=False)) == 1
