"""LiveSession with a line: every inspected result reaches the line's links with its frame
number as seq, READY / recipe / model version / counters follow the session, the recipe's
[line_io] table is in force, and close() stops the line (or leaves it when asked)."""

from __future__ import annotations

import threading

from core.inspection.session import LiveSession
from core.lineio.config import LineConfig, Mapping
from core.lineio.hub import LineInterface
from core.recipe import Recipe, Thresholds
from tests.inspection_fakes import FakeInferencer
from tests.lineio_fakes import RecordingTransport, wait_for

SIM = "sim:fps=60,width=64,height=64,seed=1"


def _session(line, **kw):
    recipe = Recipe(name="demo", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=4,
                    line_io={"review_as": "review", "deadline_ms": 600000})
    return LiveSession(recipe, None, SIM, mode="triggered", inferencer=FakeInferencer(),
                       queue_size=256, line=line, **kw)


def test_session_feeds_the_line_and_stops_it_on_close():
    link = RecordingTransport()
    hub = LineInterface(LineConfig(Mapping(review_as="ng")), [link])
    hub.start()
    s = _session(hub)
    s.open()
    try:
        assert hub.mapping == Mapping("review", 600000, "reject", 1000)  # the recipe's table
        assert wait_for(lambda: len(link.results) >= 5)
        state = hub.state()
        assert state.ready and state.recipe == "demo" and state.model_version == 4
    finally:
        assert s.close(drain=True)
    inspected = s.worker.stats().inspected
    assert [r.seq for r in link.results] == [r.seq for r in sorted(link.results, key=lambda r: r.seq)]
    assert len(link.results) == inspected and not link.results[0].late
    snap = s.counters.snapshot()
    last = link.states[-1]
    assert (last.ok, last.review, last.ng) == (snap.ok, snap.review, snap.ng)
    assert not last.ready and link.stopped
    assert not [t for t in threading.enumerate() if t.name.startswith("lineio-")]


def test_line_can_outlive_the_session():
    link = RecordingTransport()
    hub = LineInterface(LineConfig(), [link])
    hub.start()
    try:
        s = _session(hub, stop_line_on_close=False)
        s.open()
        assert wait_for(lambda: len(link.results) >= 1)
        assert s.close()
        assert not link.stopped and not hub.state().ready
    finally:
        assert hub.stop()
