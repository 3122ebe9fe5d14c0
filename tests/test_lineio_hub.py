"""The hub: decisions for every mapping, the deadline and fail-safe (fake clock), links that
raise or stall never block the inspection side, overflow is counted, delivery is in order
per link, commands and forced outputs, and stop() joins every thread."""

from __future__ import annotations

import logging
import threading

import pytest

from core.lineio.config import LineConfig, Mapping
from core.lineio.contract import LineInput, LineOutput
from core.lineio.hub import LineInterface
from tests.lineio_fakes import FakeClock, RecordingTransport, result, wait_for


@pytest.fixture
def hubs():
    made: list[LineInterface] = []

    def make(transports, mapping=Mapping(), clock=None, **kw) -> LineInterface:
        hub = LineInterface(LineConfig(mapping), transports, clock=clock or FakeClock(), **kw)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        for r in hub._runners:
            r.transport.gate.set()
        assert hub.stop(10.0)


@pytest.mark.parametrize("review_as, expected", [("ok", "OK"), ("ng", "NG"), ("review", "REVIEW")])
def test_decide_maps_every_verdict(hubs, review_as, expected):
    hub = hubs([], Mapping(review_as=review_as))
    assert hub.decide(result(1, "OK")).decision == "OK"
    assert hub.decide(result(2, "NG")).decision == "NG"
    line = hub.decide(result(7, "REVIEW", score=0.45))
    assert (line.decision, line.verdict, line.seq, line.score, line.late) == (expected, "REVIEW", 7, 0.45, False)
    assert (line.recipe, line.model_version) == ("part", 3)


@pytest.mark.parametrize("fail_safe, expected", [("reject", "NG"), ("error", "ERROR")])
@pytest.mark.parametrize("verdict", ["OK", "REVIEW", "NG"])
def test_deadline_late_is_the_fail_safe_never_ok(hubs, fail_safe, expected, verdict):
    clock = FakeClock(100.0)
    hub = hubs([], Mapping(review_as="ok", deadline_ms=50, fail_safe=fail_safe), clock)
    clock.t = 100.050  # exactly on the deadline: on time
    on_time = hub.decide(result(1, verdict, t_trigger=100.0))
    assert not on_time.late and on_time.decision == ("NG" if verdict == "NG" else "OK")
    clock.t = 100.051
    late = hub.decide(result(2, verdict, t_trigger=100.0))
    assert late.late and late.decision == expected and "deadline 50 ms" in late.error


def test_deadline_uses_frame_timestamp_without_a_trigger_time(hubs):
    clock = FakeClock(10.0)
    hub = hubs([], Mapping(deadline_ms=100), clock)
    assert not hub.decide(result(1, timestamp=9.95)).late
    assert hub.decide(result(1, timestamp=9.8)).late
    assert not hubs([], Mapping(deadline_ms=0), clock).decide(result(1, timestamp=-1e6)).late


def test_results_and_state_reach_every_link_in_order(hubs):
    a, b = RecordingTransport("a"), RecordingTransport("b")
    hub = hubs([a, b])
    hub.start()
    hub.update_state(ready=True, recipe="part")
    for i in range(1, 51):
        hub(result(i, "NG" if i % 3 == 0 else "OK"))
    for t in (a, b):
        assert wait_for(lambda t=t: len(t.results) == 50)
        assert [r.seq for r in t.results] == list(range(1, 51))
        assert wait_for(lambda t=t: t.states and t.states[-1].last_seq == 50)
        assert t.states[-1].ready and t.states[-1].recipe == "part"
        assert (t.states[-1].ok, t.states[-1].ng) == (34, 16)
        assert t.threads == {f"lineio-{t.name}"}  # never the caller's thread
    assert hub.stats().sent == 50
    out = hub.signals().outputs
    assert out["seq"] == 50 and out["result_valid"] is True and out["ready"] is True


def test_a_stalled_link_never_blocks_the_caller_and_others_keep_receiving(hubs):
    clock = FakeClock(0.0)
    stalled, good = RecordingTransport("stalled"), RecordingTransport("good")
    stalled.gate.clear()
    hub = hubs([stalled, good], Mapping(deadline_ms=100), clock, capacity=4)
    hub.start()
    hub(result(1, t_trigger=0.0))
    assert stalled.entered.wait(10.0)  # seq 1 is stuck inside the stalled link
    assert wait_for(lambda: len(good.results) == 1)
    for i in range(2, 12):  # 10 more: 4 fit in the stalled link's queue, 6 are dropped
        hub(result(i, t_trigger=0.0))  # returns at once though one link is stuck
        assert wait_for(lambda i=i: len(good.results) == i)  # the good link keeps up
    assert [r.decision for r in good.results] == ["OK"] * 11
    status = {s.name: s for s in hub.statuses()}
    assert status["stalled"].queued == 4 and "6 dropped (queue full)" in status["stalled"].detail
    assert hub.stats().dropped == 6
    clock.t = 1.0  # the queued ones waited past the deadline: sent as the fail-safe
    stalled.gate.set()
    assert wait_for(lambda: len(stalled.results) == 5)
    assert [r.seq for r in stalled.results] == [1, 2, 3, 4, 5]
    assert [r.decision for r in stalled.results[1:]] == ["NG"] * 4
    assert all(r.late for r in stalled.results[1:])
    assert hub.stats().late == 4 and hub.stats().fail_safe == 4


def test_a_raising_link_is_counted_logged_once_and_keeps_running(hubs, caplog):
    bad, good = RecordingTransport("bad"), RecordingTransport("good")
    bad.fail = True
    hub = hubs([bad, good])
    hub.start()
    with caplog.at_level(logging.WARNING, logger="core.lineio.runner"):
        for i in range(1, 21):
            hub(result(i))
        assert wait_for(lambda: len(good.results) == 20)
        assert wait_for(lambda: {s.name: s for s in hub.statuses()}["bad"].failed == 20)
    assert len([r for r in caplog.records if "further failures not logged" in r.message]) == 1
    bad.fail = False
    hub(result(21))
    assert wait_for(lambda: [r.seq for r in bad.results] == [21])


def test_commands_reach_the_sink_and_are_recorded(hubs):
    link = RecordingTransport()
    got = []
    hub = hubs([link])
    hub.start(got.append)
    t = threading.Thread(target=lambda: [link.command(LineInput.TRIGGER), link.command(LineInput.RECIPE, 2)])
    t.start()
    t.join(10)
    assert [(c.kind, c.value) for c in got] == [(LineInput.TRIGGER, None), (LineInput.RECIPE, 2)]
    inputs = hub.signals().inputs
    assert [c.kind for c in inputs] == [LineInput.TRIGGER, LineInput.RECIPE] and inputs[0].t == 100.0
    for _ in range(60):
        link.command(LineInput.START)
    assert len(hub.signals().inputs) == 50


def test_a_failing_command_sink_does_not_break_the_link(hubs):
    link = RecordingTransport()
    hub = hubs([link])
    hub.start(lambda cmd: 1 / 0)
    link.command(LineInput.STOP)  # logged, not raised into the transport's thread
    assert hub.signals().inputs[-1].kind is LineInput.STOP


def test_force_is_logged_and_reaches_the_named_link_only(hubs, caplog):
    a, b = RecordingTransport("a"), RecordingTransport("b")
    hub = hubs([a, b])
    hub.start()
    with caplog.at_level(logging.INFO, logger="core.lineio.hub"):
        hub.force(LineOutput.NG, True, transport="b", who="engineer (commissioning)")
    assert "forced output ng=True on b by engineer (commissioning)" in caplog.text
    assert wait_for(lambda: b.forced == [(LineOutput.NG, True)])
    assert a.forced == [] and hub.signals().outputs["ng"] is True
    with pytest.raises(ValueError, match="no line link named 'c'"):
        hub.force(LineOutput.NG, True, transport="c")
    with pytest.raises(ValueError, match="unknown output 'gate'"):
        hub.force("gate", 1)


def test_send_test_reaches_every_link_and_is_counted_apart(hubs):
    a = RecordingTransport()
    hub = hubs([a], Mapping(deadline_ms=1))
    hub.start()
    sent = hub.send_test("OK")
    assert sent.test and sent.decision == "OK"
    assert wait_for(lambda: len(a.results) == 1) and a.results[0].test and a.results[0].decision == "OK"
    assert hub.stats().test == 1 and hub.stats().sent == 0
    with pytest.raises(ValueError, match="decision must be one of"):
        hub.send_test("MAYBE")


def test_alarm_names_each_link_not_connected_and_ack_silences_it(hubs):
    a, b = RecordingTransport("a"), RecordingTransport("b", state="down")
    hub = hubs([a, b])
    assert hub.alarm == "line link b down (in-process)"
    assert hub.ack_alarm() and hub.alarm == ""
    a.link_state = "connecting"
    assert hub.alarm.startswith("line link a connecting") and "b down" in hub.alarm
    a.link_state = b.link_state = "connected"
    assert hub.alarm == ""


def test_heartbeat_counts_and_stop_joins_every_thread(hubs):
    a = RecordingTransport()
    hub = hubs([a], Mapping(heartbeat_ms=100), clock=None)
    hub.start()
    assert wait_for(lambda: a.states and a.states[-1].heartbeat >= 2)
    names = {t.name for t in threading.enumerate()}
    assert {"lineio-heartbeat", "lineio-rec"} <= names
    assert hub.stop(5.0)
    names = {t.name for t in threading.enumerate()}
    assert "lineio-heartbeat" not in names and "lineio-rec" not in names and a.stopped


def test_stop_does_not_wait_for_a_stalled_peer_longer_than_asked(hubs):
    a = RecordingTransport()
    a.gate.clear()
    hub = hubs([a])
    hub.start()
    hub(result(1))
    assert a.entered.wait(10)
    assert hub.stop(5.0)  # stop() closes the link, which releases the stalled call


def test_update_state_refuses_unknown_fields(hubs):
    hub = hubs([])
    with pytest.raises(ValueError, match="unknown field 'speed'"):
        hub.update_state(speed=3)


def test_set_mapping_takes_effect_for_the_next_result(hubs):
    hub = hubs([], Mapping(review_as="ng"))
    assert hub.decide(result(1, "REVIEW")).decision == "NG"
    hub.set_mapping(hub.mapping.merged({"review_as": "review"}))
    assert hub.decide(result(2, "REVIEW")).decision == "REVIEW"
