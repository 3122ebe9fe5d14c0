"""The headless station: the line's orders carried out (in-process, fake model), bad flags
refused in one line, and the real thing as a subprocess on the simulated line with the demo
model: SIGTERM loses no inspected result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.cli.main import main
from core.demo import DEMO_MODEL
from core.inspection.session import LiveSession
from core.lineio.config import LineConfig, Mapping
from core.lineio.contract import LineInput
from core.lineio.hub import LineInterface
from core.recipe import Recipe, Thresholds
from core.station.station import Station, triggered_opener
from tests.inspection_fakes import FakeInferencer, Sink
from tests.lineio_fakes import RecordingTransport, wait_for

ROOT = Path(__file__).resolve().parents[1]
SIM = "sim:fps=0,width=64,height=64,seed=1"


class Recipes:
    """Two recipes with thresholds (the station asks get / names / active_bundle_path)."""

    def __init__(self) -> None:
        self.recipes = {n: Recipe(name=n, thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
                        for n in ("alpha", "beta")}

    def get(self, name):
        return self.recipes[name]

    def names(self):
        return list(self.recipes)

    def active_bundle_path(self, name):
        return None


def _fake_session(recipe, bundle, spec, **kw):
    return LiveSession(recipe, bundle, spec, inferencer=FakeInferencer(), **kw)


@pytest.fixture
def station(tmp_path):
    from core.camera.registry import open_source

    link = RecordingTransport()
    hub = LineInterface(LineConfig(Mapping(deadline_ms=600000)), [link])
    st = Station(tmp_path, "alpha", SIM, mode="triggered", line=hub, recipes=Recipes(), results=Sink(),
                 session_factory=_fake_session, source_opener=triggered_opener(open_source))
    st.open()
    yield st, link
    st.close()
    assert not [t for t in threading.enumerate() if t.name.startswith(("lineio-", "grabber", "inspection-worker"))]


def _settle(st, predicate):
    return wait_for(lambda: (st.poll(), predicate())[1])


def test_triggers_recipe_change_stop_start_and_counters(station):
    st, link = station
    for _ in range(3):
        link.command(LineInput.TRIGGER)
    assert wait_for(lambda: len(link.results) == 3)
    assert [r.seq for r in link.results] == [0, 1, 2]  # the camera's frame numbers
    assert all(0 < r.t_trigger <= r.t_ready for r in link.results)  # the software trigger's time
    assert st.session.recipe.name == "alpha"
    assert wait_for(lambda: link.states[-1].ready and not link.states[-1].busy)
    link.command(LineInput.RECIPE, 2)  # by number in the list
    assert _settle(st, lambda: st.session is not None and st.session.recipe.name == "beta")
    link.command(LineInput.TRIGGER)
    assert wait_for(lambda: len(link.results) == 4 and link.results[-1].recipe == "beta")
    link.command(LineInput.RECIPE, "gamma")  # refused, logged; beta goes on
    link.command(LineInput.STOP)
    assert _settle(st, lambda: st.session is None)
    assert wait_for(lambda: not link.states[-1].ready) and st.inspected() == 4
    link.command(LineInput.RESET_COUNTERS)
    link.command(LineInput.START)
    assert _settle(st, lambda: st.session is not None and st.session.recipe.name == "beta")
    assert _settle(st, lambda: link.states[-1].ready and link.states[-1].ng + link.states[-1].ok == 0)
    link.command(LineInput.ACK_ALARM)
    link.command(LineInput.LOT, "L-0412")
    link.command(LineInput.LOT, "bad\nlot")  # refused (logged); the lot stays
    st.poll()
    assert st.counters.context.lot == "L-0412"
    assert "beta" in st.status_line() and "sent 4" in st.status_line()
    report = st.close()
    assert report.inspected == report.recorded == 4 and report.stopped_cleanly


@pytest.mark.parametrize("argv, said", [
    (["--status-every", "0"], "--status-every must be a number of seconds 0.5-86400, got '0'"),
    (["--mode", "fast"], "--mode must be one of live, triggered, got 'fast'"),
    (["--device", "tpu"], "--device must be one of auto, cpu, cuda"),
    (["--line-io", "/nonexistent/line.toml"], "--line-io: no such file"),
    (["--recipe", "nope"], "--recipe: no recipe named 'nope'"),
])
def test_bad_flags_are_one_line(tmp_path, capsys, argv, said):
    args = ["station", "--recipe", "x", "--data-dir", str(tmp_path)]
    assert main(args + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and said in err and "\n" not in err


def test_bad_line_io_file_is_one_line(tmp_path, capsys):
    from core.store.recipe_store import RecipeStore

    bad = tmp_path / "line.toml"
    bad.write_text("[mapping]\ndeadline_ms = 'soon'\n")
    RecipeStore(tmp_path / "d")  # an empty data folder: demo is installed on first use
    if not DEMO_MODEL.is_file():
        pytest.skip("demo model not built")
    assert main(["station", "--recipe", "demo", "--data-dir", str(tmp_path / "d"), "--line-io", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}: mapping.deadline_ms must be an integer 0-600000 (0: no deadline), got 'soon'"


@pytest.mark.skipif(not DEMO_MODEL.is_file(), reason="demo model not built (scripts/make_demo_model.py)")
def test_sigterm_records_every_inspected_result(tmp_path):
    from core.store.results import ResultsStore

    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LINEINSPECTOR_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "core.cli.main", "station", "--recipe", "demo",
                          "--source", "sim:fps=20", "--data-dir", str(data), "--status-every", "0.5"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: any(" inspected (" in ln and not ln.split(", ")[1].startswith("0 ")
                                    for ln in lines) or p.poll() is not None, timeout=180)
        assert p.poll() is None, p.stderr.read()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    reader.join(10)
    err = p.stderr.read()
    assert rc == 0, err
    last = lines[-1]
    assert last.startswith("station stopped: ") and "not recorded" not in last, last
    inspected = int(last.split(": ")[1].split(" inspected")[0])
    assert inspected > 0 and f"{inspected} recorded" in last
    store = ResultsStore(data)
    try:
        assert sum(s.total for s in store.summary()) == inspected
    finally:
        store.close()
    assert "Traceback" not in err


def test_a_software_triggered_frame_carries_its_trigger_time():
    from core.camera.registry import open_source

    source = triggered_opener(open_source)(SIM)
    try:
        source.start()
        before = time.monotonic()
        source.software_trigger()
        frame = source.read(10.0)
        assert frame is not None and before <= frame.metadata["t_trigger"] <= frame.timestamp
    finally:
        source.close()
    free = open_source(SIM)  # free-running: no trigger, no trigger time
    try:
        free.start()
        assert "t_trigger" not in free.read(10.0).metadata
    finally:
        free.close()
