"""kind "genicam" with its own scheduler thread: its options, the simulated line's outputs
(SimLineSource.output_states), a camera that opens late, the real viky.cti producer (it has
no line nodes: the link says so and nothing crashes), one result through LineInterface and
the bench peer."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from core.camera.errors import SourceLostError
from core.camera.genicam.producers import bundled_viky_cti
from core.camera.sim.line import SimLineSource
from core.lineio.contract import LineResult, StationState
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.lineio_net import wait_for as net_wait_for


def wait_for(check, what: str, timeout: float = 10.0):
    return net_wait_for(check, timeout, what)


@pytest.fixture()
def sim():
    return SimLineSource()


@pytest.fixture()
def started():
    """build + start a transport; every one started is stopped after the test."""
    made = []

    def make(options: dict, camera):
        t = build_transport("genicam", options, TransportContext(data_dir=".", camera=camera))
        t.start(lambda command: None)
        made.append(t)
        return t

    yield make
    for t in made:
        t.stop()


def test_options_are_checked():
    ctx = TransportContext(data_dir=".")
    for bad, word in [({"pulse_ms": -1}, "pulse_ms"), ({"pulse_ms": 10001}, "pulse_ms"),
                      ({"pulse_ms": "100"}, "pulse_ms"), ({"delay_ms": 60001}, "delay_ms"),
                      ({"delay_ms": True}, "delay_ms"), ({"ng_line": 1}, "ng_line"),
                      ({"ok_line": "Line 1"}, "ok_line"), ({"ready_line": "Line1"}, "ready_line"),
                      ({"ng_line": ""}, "at least one"), ({"colour": 1}, "colour")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("genicam", bad, ctx)
    t = build_transport("genicam", {}, ctx)
    assert (t.lines["ng_line"], t.pulse_s, t.delay_s) == ("Line1", 0.1, 0.0)
    assert t.status().state == "stopped"


def test_sim_outputs_pulse_and_level(sim, started):
    seen: queue.Queue = queue.Queue()
    sim.output_watchers.append(lambda line, value: seen.put((line, value)))
    t = started({"ng_line": "Line1", "ok_line": "Line2", "ready_line": "", "pulse_ms": 5, "delay_ms": 1}, lambda: sim)
    now = time.monotonic()
    t.publish_result(LineResult(seq=1, verdict="NG", decision="NG", score=0.9, t_trigger=now))
    got = [seen.get(timeout=10) for _ in range(4)]
    assert got == [("Line1", False), ("Line2", False), ("Line1", True), ("Line1", False)]
    wait_for(lambda: t.status().sent == 1, "sent never counted")
    wait_for(lambda: t.status().inputs == {"Line1": False, "Line2": False}, f"read-back {t.status()}")
    assert t.status().state == "connected"


def test_sim_level_mode_and_ready(sim, started):
    t = started({"ng_line": "Line1", "ready_line": "Line2", "pulse_ms": 0}, lambda: sim)
    t.publish_state(StationState(ready=True))
    t.publish_result(LineResult(seq=1, verdict="NG", decision="NG", score=0.9))
    wait_for(lambda: sim.output_states == {"Line1": True, "Line2": True}, f"outputs {sim.output_states}")
    wait_for(lambda: t.status().inputs == {"Line1": True, "Line2": True}, "read-back")
    t.publish_result(LineResult(seq=2, verdict="OK", decision="OK", score=0.1))
    wait_for(lambda: sim.output_states["Line1"] is False, "NG line stays high after an OK")
    t.stop()
    assert sim.output_states == {"Line1": False, "Line2": False}  # nothing left high


def test_camera_opening_late_and_one_without_the_line(sim, started):
    camera = {"now": None}
    t = started({"ng_line": "Line3", "pulse_ms": 0}, lambda: camera["now"])
    wait_for(lambda: t.status().state == "connecting", "no camera is not 'connecting'")
    assert "waiting for the camera" in t.status().detail
    camera["now"] = sim
    t.publish_state(StationState(ready=True))  # the next write finds it
    wait_for(lambda: t.status().state == "down", f"{t.status()}")
    assert "sim:seed=0: no output line 'Line3' (have Line1, Line2)" in t.status().detail


VIKY = bundled_viky_cti()


@pytest.mark.skipif(VIKY is None, reason="viky.cti not found in the installed genicam package")
def test_viky_has_no_output_lines_and_says_so(started):
    from core.camera.genicam.harvester_hub import HarvesterHub
    from core.camera.genicam.source import GenICamSource

    hub = HarvesterHub([VIKY], include_bundled=False, env={})
    try:
        source = GenICamSource(hub.devices()[0].serial, hub=hub)
        source.open()
        try:
            assert source.line_status("Line1") is None  # no LineStatus / LineStatusAll nodes
            t = started({"ng_line": "Line1", "pulse_ms": 10}, lambda: source)
            wait_for(lambda: t.status().state == "down", f"{t.status()}")
            assert t.status().detail == f"{source.source_id}: the device has no LineSelector node"
            t.publish_result(LineResult(seq=1, verdict="NG", decision="NG", score=0.9))
            wait_for(lambda: t.status().failed >= 2, f"{t.status()}")
            assert t.status().inputs == {}
            t.stop()
        finally:
            source.close()
    finally:
        hub.reset()


def test_through_line_interface(sim, tmp_path):
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    cfg = LineConfig.from_dict({"transport": [{"kind": "genicam", "ng_line": "Line1", "ok_line": "Line2",
                                               "pulse_ms": 0}]})
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path, camera=lambda: sim))
    line.start()
    try:
        line(result(31, "NG", score=0.9))
        wait_for(lambda: sim.output_states.get("Line1") is True, f"outputs {sim.output_states}")
        line(result(32, "OK", score=0.1))
        wait_for(lambda: sim.output_states == {"Line1": False, "Line2": True}, f"outputs {sim.output_states}")
        wait_for(lambda: line.statuses()[0].state == "connected", f"{line.statuses()}")
        assert not line.alarm
    finally:
        assert line.stop()


@pytest.mark.parametrize("own_source", [True, False])
def test_bench_peer_sees_each_result_edge(started, sim, own_source):
    from bench.lineio_peers.genicam import Peer

    peer = Peer(source=sim if own_source else None)  # else: every SimLineSource (the bench's station)
    options = peer.transport_options()
    assert options.pop("kind") == "genicam"
    peer.start()
    t = started(options, lambda: sim)
    try:
        for seq in (5, 6, 7):
            t.publish_result(LineResult(seq=seq, verdict="OK", decision="OK" if seq % 2 else "NG", score=0.1,
                                        t_trigger=time.monotonic()))
            assert peer.wait_result(seq, 10) is not None
        assert peer.wait_result(999, 0.01) is None
    finally:
        peer.stop()


class FlakyCamera:
    """The sim line's outputs behind a gate (cleared: every write stalls) and a switch that
    makes writes fail as a camera that went away does."""

    def __init__(self, sim: SimLineSource) -> None:
        self.sim, self.gate, self.lost = sim, threading.Event(), False
        self.gate.set()
        self.source_id = sim.source_id

    def set_digital_output(self, line: str, value: bool) -> None:
        assert self.gate.wait(30), "never released"
        if self.lost:
            raise SourceLostError(f"{self.source_id}: device removed")
        self.sim.set_digital_output(line, value)

    def line_status(self, line: str):
        return self.sim.line_status(line)


def test_a_stalled_or_lost_camera_never_blocks_the_station(sim, tmp_path):
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    camera = FlakyCamera(sim)
    cfg = LineConfig.from_dict({"transport": [{"kind": "genicam", "ng_line": "Line1", "pulse_ms": 0}]})
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path, camera=lambda: camera))
    line.start()
    try:
        wait_for(lambda: line.statuses()[0].state == "connected", f"{line.statuses()}")
        camera.gate.clear()  # the camera stops answering
        for seq in range(1, 21):
            line(result(seq, "NG" if seq % 2 else "OK"))  # returns at once: only queued
        assert line.statuses()[0].name.startswith("genicam")  # status() does not wait for the camera
        camera.gate.set()
        wait_for(lambda: line.statuses()[0].sent == 20, f"{line.statuses()}")
        assert sim.output_states["Line1"] is False  # the last part (20) was OK
        camera.lost = True
        line(result(21, "NG"))
        wait_for(lambda: line.statuses()[0].state == "down", f"{line.statuses()}")
        assert "device removed" in line.statuses()[0].detail and line.alarm
        camera.lost = False  # plugged back in: the next write works again
        line(result(22, "NG"))
        wait_for(lambda: line.statuses()[0].state == "connected", f"{line.statuses()}")
        wait_for(lambda: sim.output_states["Line1"] is True, f"{sim.output_states}")
    finally:
        camera.gate.set()
        assert line.stop()
