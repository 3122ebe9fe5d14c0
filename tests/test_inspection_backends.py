"""The live path on the inference backends: same verdicts as the reference backend, the
fallback when a backend fails, switching the model of a running session, the frame tap."""

from __future__ import annotations

import logging
import time
import threading

import numpy as np
import pytest

from core.camera.frame import Frame
from core.inference.backends.select import available_backends
from core.inference.inferencer import BackendError, Inferencer
from core.inference.labels import backend_label
from core.inference.load import load_model
from core.inspection.frame_tap import FrameTap
from core.inspection.inspector import Inspector
from core.inspection.session import (LiveSession, _default_inferencer, live_cpu_threads,
                                     live_frames_in_flight, worker_parallelism)
from core.recipe import Recipe, Roi, Thresholds
from tests.inspection_fakes import FakeInferencer, make_tiny_bundle

pytest.importorskip("onnxruntime")

TOL = 1e-4
BACKENDS = [*available_backends(), "reference"]
SIM = "sim:fps=60,width=64,height=64,seed=1"


@pytest.fixture(scope="module")
def lively(tmp_path_factory):
    return make_tiny_bundle(tmp_path_factory.mktemp("lively") / "m.limodel", lively=True)


def _frames(n: int = 16) -> list[Frame]:
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        img = rng.integers(0, 256, (72, 88, 3), dtype=np.uint8)
        img[: 10 + 3 * i] = 40 + 12 * i  # frames differ in more than noise
        out.append(Frame(image=img, frame_id=i, source_id="test:0"))
    return out


def _wait(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_is_an_inferencer_for_the_session(lively, backend):
    inf = load_model(lively, backend, "cpu", threads=1)
    assert isinstance(inf, Inferencer)
    frame = _frames(1)[0]
    pred = inf.predict(frame.image)
    assert isinstance(pred.score, float) and 0.0 <= pred.score <= 1.0
    assert pred.anomaly_map.shape == frame.image.shape[:2] and pred.anomaly_map.dtype == np.float32
    assert inf.selection["backend"] == (backend if backend != "reference" else "reference")
    label = backend_label(inf)
    assert label.startswith("pytorch reference" if backend == "reference" else backend)
    assert label.endswith("(CPU, 1 thread)")


def test_live_path_gives_the_reference_verdicts_on_every_backend(lively):
    frames = _frames()
    roi = Roi(8, 4, 64, 64)
    ref = load_model(lively, "reference", "cpu", threads=1)
    scores = sorted(float(ref.predict(f.image[4:68, 8:72]).score) for f in frames)
    assert scores[-1] - scores[0] > 0.01, "test model too dull: every verdict would be the same"
    # limits half-way between neighbouring scores: a 1e-4 difference cannot flip a verdict
    ok = (scores[4] + scores[5]) / 2
    ng = (scores[10] + scores[11]) / 2
    thresholds = Thresholds(ok, ng, 0.5)

    def inspect_all(inf):
        inspector = Inspector(inf, thresholds, recipe="r", model_version=1, roi=roi)
        return [inspector.inspect(f) for f in frames]

    expected = inspect_all(ref)
    assert {str(r.verdict) for r in expected} == {"OK", "REVIEW", "NG"}
    for backend in BACKENDS[:-1]:
        results = inspect_all(load_model(lively, backend, "cpu", threads=1))
        assert [str(r.verdict) for r in results] == [str(r.verdict) for r in expected], backend
        for got, want in zip(results, expected):
            assert abs(got.score - want.score) <= TOL
            assert float(np.abs(got.anomaly_map - want.anomaly_map).max()) <= TOL
            assert not got.anomaly_map[:4].any()  # outside the ROI


def test_session_loads_auto_backend_and_falls_back_to_reference(lively, monkeypatch, caplog):
    inf = _default_inferencer(lively, "cpu")
    assert inf.selection["reason"] in ("measured", "cached")
    assert inf.selection["backend"] in available_backends()
    assert getattr(inf, "threads", None) == live_cpu_threads()
    ort = load_model(lively, "onnxruntime", "cpu", threads=1)
    assert ort.concurrent and worker_parallelism(ort) == live_frames_in_flight()
    with pytest.raises(BackendError, match="not found"):  # nothing to fall back for
        load_model(lively.with_name("missing.limodel"))

    def broken(*args, **kwargs):
        raise BackendError("simulated: the backend cannot load")

    monkeypatch.setattr("core.inference.backends.select.pick", broken)
    with caplog.at_level(logging.WARNING, logger="core.inference.load"):
        fallback = _default_inferencer(lively, "cpu")
    assert fallback.selection["backend"] == "reference"
    assert "simulated: the backend cannot load" in fallback.selection["reason"]
    assert "simulated: the backend cannot load" in caplog.text
    assert backend_label(fallback).startswith("pytorch reference (CPU")
    assert worker_parallelism(fallback) == 1
    with pytest.raises(BackendError, match="simulated"):  # unless told to, nothing falls back
        load_model(lively, "onnxruntime", fallback=False)


class _Scaled(FakeInferencer):
    """A fake model per bundle path: version 2 scores everything 0, version 3 fails to load."""

    def __init__(self, path):
        super().__init__()
        if "v3" in str(path):
            raise BackendError(f"{path}: cannot load")
        self.version = 2 if "v2" in str(path) else 1

    def predict(self, image):
        pred = super().predict(image)
        return pred if self.version == 1 else type(pred)(0.0, pred.anomaly_map * 0)


def test_switch_model_keeps_the_camera_running(tmp_path):
    recipe = Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    s = LiveSession(recipe, tmp_path / "v1.limodel", SIM,
                    inferencer_factory=lambda path, device, sha: _Scaled(path))
    s.open()
    try:
        _wait(lambda: s.latest() is not None)
        grabber, worker = s.grabber, s.worker
        st = s.status()
        assert st.model_version == 1 and st.backend == "fake"
        v2 = Recipe(name="demo", thresholds=Thresholds(0.1, 0.2, 0.5), active_version=2)
        s.switch_model(v2, tmp_path / "v2.limodel")
        _wait(lambda: s.latest().model_version == 2)
        r = s.latest()
        assert r.score == 0.0 and str(r.verdict) == "OK" and r.thresholds.ng_limit == 0.2
        assert s.grabber is grabber and s.worker is worker and grabber.running
        assert s.status().model_version == 2 and s.recipe is v2
        before = s.worker.stats().inspected
        with pytest.raises(BackendError, match="cannot load"):
            s.switch_model(Recipe(name="demo", active_version=3), tmp_path / "v3.limodel")
        _wait(lambda: s.worker.stats().inspected > before + 2)  # still inspecting, with v2
        assert s.latest().model_version == 2 and s.status().model_version == 2
    finally:
        assert s.close()


def test_frame_tap_sees_live_frames_without_taking_them():
    recipe = Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    s = LiveSession(recipe, None, SIM, inferencer=FakeInferencer())
    s.open()
    try:
        tap = FrameTap(lambda: s.grabber, SIM)
        assert tap.running
        seen = [tap.next_frame(2.0) for _ in range(5)]
        assert all(f is not None for f in seen)
        assert len({f.frame_id for f in seen}) == 5  # each frame handed out once
        before = s.worker.stats().inspected
        _wait(lambda: s.worker.stats().inspected > before + 3)  # the session keeps inspecting
        tap.stop()
        assert not tap.running and tap.next_frame(0.2) is None
        assert s.grabber.running
    finally:
        s.close()
    gone = FrameTap(lambda: None)
    assert not gone.running and gone.next_frame(0.1) is None


def test_session_runs_two_frames_in_flight_with_onnxruntime_and_says_so(lively, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_FRAMES_IN_FLIGHT", "2")
    recipe = Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    inf = load_model(lively, "onnxruntime", "cpu", threads=1)
    s = LiveSession(recipe, None, SIM, inferencer=inf)
    s.open()
    try:
        _wait(lambda: s.worker.stats().inspected >= 6)
        assert s.worker.parallel == 2
        assert {t.name for t in threading.enumerate()} >= {"inspection-worker-1", "inspection-worker-2"}
        assert s.status().backend == "onnxruntime (CPU, 1 thread × 2 frames)"
        seqs = []
        _wait(lambda: seqs.append(s.latest().seq) or len(seqs) > 20)
        assert seqs == sorted(seqs)  # published in order
    finally:
        assert s.close()
