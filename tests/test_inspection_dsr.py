"""Issue 15: a DSR bundle goes through the same live path as DRÆM's: the session loads it
(auto backend), inspects the simulated line and gives verdicts; the status names DSR."""

from __future__ import annotations

import threading

import pytest

from core.inspection.session import LiveSession
from core.recipe import Recipe, Thresholds
from tests.dsr_fakes import lively_dsr_model, make_tiny_dsr_bundle

pytest.importorskip("onnxruntime")

SIM = "sim:fps=60,width=64,height=64,seed=1"


def test_live_session_inspects_with_a_dsr_bundle(tmp_path):
    bundle = make_tiny_dsr_bundle(tmp_path / "model.limodel", model=lively_dsr_model(0))
    recipe = Recipe(name="dsr", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    results, three = [], threading.Event()

    def consume(result):
        results.append(result)
        if len(results) >= 3:
            three.set()

    s = LiveSession(recipe, bundle, SIM, device="cpu")
    s.open()
    try:
        s.worker.add_consumer(consume)
        assert three.wait(30.0), "no inspection results from the DSR session"
        status = s.status()
    finally:
        assert s.close()
    assert all(str(r.verdict) in ("OK", "REVIEW", "NG") and 0.0 <= r.score <= 1.0 for r in results)
    assert all(r.anomaly_map.shape == (64, 64) for r in results[:3])
    assert status.backend.startswith("DSR · ") and status.model_version == 1
