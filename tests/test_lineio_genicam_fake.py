"""kind "genicam" on a GenICamSource over the fake harvesters layer of
test_camera_genicam_fake.py, with an injected clock and no scheduler thread: the node writes
of each edge, the pulse sequence from the trigger instant, late results, overlapping pulses,
level mode, the READY and error lines, the line status read back, a device without outputs."""

from __future__ import annotations

import pytest

from core.camera.genicam.harvester_hub import HarvesterHub
from core.camera.genicam.source import GenICamSource
from core.lineio.contract import LineOutput, LineResult, StationState
from core.lineio.genicam_out import GenICamOutputs
from tests.test_camera_genicam_fake import RO, FakeHarvester, IInteger, IBoolean

WATCHED = ("LineSelector", "LineMode", "LineSource", "UserOutputSelector", "UserOutputValue")


class Clock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Device:
    """The fake camera's node map, recording every write of the output nodes (with the clock's
    time) and keeping each line's electrical state as UserOutputValue sets it."""

    def __init__(self, source: GenICamSource, clock: Clock, *, status: str = "LineStatus") -> None:
        self.nodes = source._ia.remote_device.node_map
        self.writes: list[tuple[float, str, object]] = []
        self.lines: dict[str, bool] = {}
        for name in WATCHED:
            self._record(name, clock)
        if status == "LineStatus":
            self.nodes.LineStatus = _LineStatus(self)
        elif status == "LineStatusAll":
            self.nodes.LineStatusAll = _LineStatusAll(self)

    def _record(self, name: str, clock: Clock) -> None:
        node = getattr(self.nodes, name)
        base, device = type(node), self

        def setter(n, value) -> None:
            base.value.fset(n, value)
            device.writes.append((clock(), name, value))
            if name == "UserOutputValue":
                device.lines[device.nodes.LineSelector.value] = bool(value)
        # same class name: nodes.kind_of() goes by it
        node.__class__ = type(base.__name__, (base,), {"value": property(base.value.fget, setter)})

    def edges(self) -> list[tuple[float, str, bool]]:
        """(time, line, value) of each UserOutputValue write."""
        out, line = [], None
        for t, name, value in self.writes:
            if name == "LineSelector":
                line = value
            elif name == "UserOutputValue":
                out.append((round(t, 6), line, value))
        return out


class _LineStatus(IBoolean):
    def __init__(self, device: Device) -> None:
        super().__init__(False, mode=RO)
        self.device = device

    @property
    def value(self) -> bool:
        return self.device.lines.get(self.device.nodes.LineSelector.value, False)


class _LineStatusAll(IInteger):
    def __init__(self, device: Device) -> None:
        super().__init__(0, 0, 255, mode=RO)
        self.device = device

    @property
    def value(self) -> int:
        return sum(1 << int(line[-1]) for line, on in self.device.lines.items() if on)


@pytest.fixture()
def source():
    fake = FakeHarvester()
    hub = HarvesterHub(include_bundled=False, harvester_factory=lambda: fake, env={})
    with GenICamSource("S1", hub=hub) as src:
        yield src


def outputs(source, clock, *, pulse_ms=20, delay_ms=50, **lines) -> GenICamOutputs:
    lines = lines or {"ok_line": "Line1", "ng_line": "Line2"}
    t = GenICamOutputs(lambda: source, lines, pulse_ms=pulse_ms, delay_ms=delay_ms, clock=clock, thread=False)
    t.start(lambda command: None)
    t.scheduler.run_due()
    return t


def result(seq: int, decision: str, t_trigger: float) -> LineResult:
    return LineResult(seq=seq, verdict=decision if decision != "ERROR" else "NG", decision=decision,
                      score=0.5, t_trigger=t_trigger)


def at(t: GenICamOutputs, clock: Clock, when: float) -> None:
    clock.t = when
    t.scheduler.run_due()


def test_pulse_starts_delay_after_the_trigger_with_every_node_written(source):
    clock = Clock()
    dev = Device(source, clock)
    t = outputs(source, clock)
    assert dev.edges() == [(100.0, "Line1", False), (100.0, "Line2", False)]  # a new camera: all low
    assert t.status().state == "connected" and t.status().inputs == {"Line1": False, "Line2": False}
    dev.writes.clear()
    clock.t = 100.01  # the result is ready 10 ms after its trigger
    t.publish_result(result(7, "NG", t_trigger=100.0))
    at(t, clock, 100.049)
    assert dev.writes == []  # nothing before trigger + delay
    at(t, clock, 100.05)
    assert dev.writes[:5] == [(100.05, "LineSelector", "Line2"), (100.05, "LineMode", "Output"),
                              (100.05, "LineSource", "UserOutput2"), (100.05, "UserOutputSelector", "UserOutput2"),
                              (100.05, "UserOutputValue", True)]
    assert {name for _t, name, _v in dev.writes[5:]} == {"LineSelector"}  # the read-back selects lines
    assert t.status().inputs == {"Line1": False, "Line2": True}  # read back from LineStatus
    at(t, clock, 100.069)
    assert dev.edges()[-1] == (100.05, "Line2", True)
    at(t, clock, 100.07)
    assert dev.edges()[-1] == (100.07, "Line2", False)
    status = t.status()
    assert (status.sent, status.failed, status.inputs) == (1, 0, {"Line1": False, "Line2": False})
    assert "late" not in status.detail and t.scheduler.pending() == 0


def test_a_result_after_its_instant_fires_at_once_and_is_counted_late(source):
    clock = Clock()
    dev = Device(source, clock)
    t = outputs(source, clock)
    dev.writes.clear()
    clock.t = 100.2  # ready 200 ms after the trigger; its pulse was due at 100.05
    t.publish_result(result(8, "OK", t_trigger=100.0))
    t.scheduler.run_due()
    assert dev.edges() == [(100.2, "Line1", True)]
    at(t, clock, 100.22)
    assert dev.edges()[-1] == (100.22, "Line1", False)
    assert "1 output late (max 150 ms)" in t.status().detail


def test_overlapping_pulses_give_two_edges_and_the_later_end(source):
    clock = Clock()
    dev = Device(source, clock)
    t = outputs(source, clock)
    dev.writes.clear()
    t.publish_result(result(1, "NG", t_trigger=100.0))
    t.publish_result(result(2, "NG", t_trigger=100.01))
    for when in (100.05, 100.06, 100.07, 100.08):
        at(t, clock, when)
    # the second part's rising edge drops the line first (an edge-counting PLC sees two parts);
    # the first pulse's end at 100.07 does not cut the second one short
    assert dev.edges() == [(100.05, "Line2", True), (100.06, "Line2", False), (100.06, "Line2", True),
                           (100.08, "Line2", False)]


def test_level_mode_and_the_error_line(source):
    clock = Clock()
    dev = Device(source, clock, status="LineStatusAll")
    t = outputs(source, clock, pulse_ms=0, delay_ms=0, ok_line="Line1", ng_line="", error_line="Line2")
    dev.writes.clear()
    t.publish_result(result(1, "OK", 100.0))
    t.scheduler.run_due()
    assert dev.lines == {"Line1": True, "Line2": False}
    assert t.status().inputs == {"Line1": True, "Line2": False}  # from LineStatusAll's bits
    t.publish_result(result(2, "ERROR", 100.0))
    t.scheduler.run_due()
    assert dev.lines == {"Line1": False, "Line2": True}
    t.publish_result(result(3, "NG", 100.0))  # no NG line: every decision line low
    t.scheduler.run_due()
    assert dev.lines == {"Line1": False, "Line2": False}
    t.publish_result(result(4, "OK", 100.0))
    t.publish_state(StationState(ready=True, error="camera lost"))
    t.scheduler.run_due()
    assert dev.lines == {"Line1": True, "Line2": True}  # the station's error holds its own line
    t.publish_state(StationState(ready=True))
    t.scheduler.run_due()
    assert dev.lines == {"Line1": True, "Line2": False}
    assert t.scheduler.pending() == 0 and t.status().sent == 4


def test_an_error_line_shared_with_ng_is_not_held_by_the_station_error(source):
    clock = Clock()
    dev = Device(source, clock)
    t = outputs(source, clock, pulse_ms=20, delay_ms=0, ng_line="Line2", error_line="Line2")
    t.publish_state(StationState(alarm="link down"))
    t.scheduler.run_due()
    assert dev.lines == {"Line2": False}  # held high, it would swallow the next reject's edge
    dev.writes.clear()
    t.publish_result(result(1, "ERROR", 100.0))
    for when in (100.0, 100.02):
        at(t, clock, when)
    assert dev.edges() == [(100.0, "Line2", True), (100.02, "Line2", False)]


def test_ready_line_and_forcing(source):
    clock = Clock()
    dev = Device(source, clock)
    t = outputs(source, clock, ng_line="Line1", ready_line="Line2")
    t.publish_state(StationState(ready=True))
    t.scheduler.run_due()
    assert dev.lines == {"Line1": False, "Line2": True}
    t.force(LineOutput.NG, True)
    t.force(LineOutput.READY, False)
    t.scheduler.run_due()
    assert dev.lines == {"Line1": True, "Line2": False}
    with pytest.raises(NotImplementedError, match="ok has no camera line.*ok_line"):
        t.force(LineOutput.OK, True)
    with pytest.raises(NotImplementedError, match="seq has no camera line"):
        t.force(LineOutput.SEQ, 3)
    t.stop()  # no thread: the lines go low here
    assert dev.lines == {"Line1": False, "Line2": False}


def test_line_status_read_back_of_the_source(source):
    clock = Clock()
    dev = Device(source, clock, status="LineStatusAll")
    source.set_digital_output("Line2", True)
    assert (source.line_status("Line1"), source.line_status("Line2")) == (False, True)
    del dev.nodes.LineStatusAll
    assert source.line_status("Line2") is None  # neither node: not offered
    dev.nodes.LineStatus = _LineStatus(dev)
    assert source.line_status("Line2") is True and source.line_status("Line9") is None


def test_a_device_without_outputs_is_down_with_its_own_error(source):
    nodes = source._ia.remote_device.node_map
    for name in WATCHED:
        delattr(nodes, name)
    clock = Clock()
    t = outputs(source, clock)
    status = t.status()
    assert status.state == "down" and "genicam:S1: the device has no LineSelector node" in status.detail
    clock.t = 100.1
    t.publish_result(result(1, "NG", 100.0))
    at(t, clock, 100.2)
    assert t.status().state == "down" and t.status().failed >= 2 and t.status().inputs == {}
    t.stop()
