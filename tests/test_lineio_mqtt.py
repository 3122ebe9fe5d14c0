"""kind "mqtt" against a real mosquitto on loopback (started by the test, stopped after): one
JSON message per result, in order; the retained status and its Last Will; alarms; commands
(malformed ones ignored); the link through LineInterface; the bench peer."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.lineio.contract import LineInput, LineOutput, LineResult, StationState
from core.lineio.mqtt import build
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.mosquitto import MISSING, broker, listen, make_broker  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]
STATION = "cell1"
BASE = f"lineinspector/{STATION}"


def wait_state(t, state: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while t.status().state != state:
        assert time.monotonic() < deadline, f"link never became {state}: {t.status()}"
        time.sleep(0.02)


@pytest.fixture
def station(broker, tmp_path):  # noqa: F811
    """A started transport on the test's broker, and the commands it received."""
    commands: queue.Queue = queue.Queue()
    t = build("mqtt", {"host": "127.0.0.1", "port": broker.port}, TransportContext(data_dir=tmp_path, station=STATION))
    t.start(commands.put)
    try:
        wait_state(t, "connected")
        yield t, commands
    finally:
        t.stop()


def ok(seq: int, **kw) -> LineResult:
    return LineResult(seq=seq, verdict="OK", decision="OK", score=0.1, **kw)


def test_options_are_checked():
    ctx = TransportContext(data_dir=".")
    for bad, word in [({}, "host is required"), ({"host": ""}, "host"), ({"host": "a b"}, "host"),
                      ({"host": "b", "port": 0}, "port"), ({"host": "b", "port": "1883"}, "port"),
                      ({"host": "b", "keepalive_s": 4}, "keepalive_s"), ({"host": "b", "keepalive_s": 3601}, "keepalive_s"),
                      ({"host": "b", "queue_max": 0}, "queue_max"), ({"host": "b", "queue_max": 1_000_001}, "queue_max"),
                      ({"host": "b", "prefix": "a/#"}, "prefix"), ({"host": "b", "prefix": "/a"}, "prefix"),
                      ({"host": "b", "prefix": ""}, "prefix"), ({"host": "b", "password": "x"}, "username"),
                      ({"host": "b", "tls": True}, "tls"), ({"host": "b", "client_id": "a b"}, "client_id"),
                      ({"host": "b", "colour": 1}, "colour")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("mqtt", bad, ctx, where="line_io transport 1")
    t = build_transport("mqtt", {"host": "broker.local"}, TransportContext(data_dir="/d", station="line 3/a"))
    assert (t.host, t.port, t.keepalive_s, t.queue_max) == ("broker.local", 1883, 30, 100_000)
    assert t.topics.result == "lineinspector/line_3_a/result" and t.client_id == "lineinspector-line_3_a"
    assert t.queue_path == Path("/d/lineio/mqtt-queue-lineinspector-line_3_a.sqlite")
    assert t.status().state == "stopped"  # built, not started: nothing opened


def test_results_arrive_once_in_order_as_json(station, listen):  # noqa: F811
    t, _ = station
    sub = listen(t.port, f"{BASE}/result")
    for seq in range(1, 31):
        t.publish_result(ok(seq, recipe="part-a", model_version=4, wall_time=1_700_000_000.0 + seq))
    t.publish_result(LineResult(seq=31, verdict="REVIEW", decision="NG", score=float("nan"), late=True))
    sub.wait_for(lambda m: len(m) >= 31)
    got = sub.json_on("/result")
    assert [d["seq"] for d in got] == list(range(1, 32))
    assert got[0] == {**ok(1, recipe="part-a", model_version=4, wall_time=1_700_000_001.0).as_dict(),
                      "station": STATION}
    assert got[-1]["decision"] == "NG" and got[-1]["score"] is None and got[-1]["late"] is True
    deadline = time.monotonic() + 10
    while (s := t.status()).queued or s.sent < 31:
        assert time.monotonic() < deadline, s
        time.sleep(0.02)
    assert s.state == "connected" and "127.0.0.1" in s.detail
    status = listen(t.port, f"{BASE}/status")  # online even before the station published a state
    assert status.wait_for(lambda m: m)[0][2] and status.json_on("/status")[0]["online"] is True


def test_retained_status_online_then_offline_on_stop(broker, listen, tmp_path):  # noqa: F811
    t = build("mqtt", {"host": "127.0.0.1", "port": broker.port}, TransportContext(data_dir=tmp_path, station=STATION))
    t.publish_state(StationState(ready=True, recipe="part-a", heartbeat=3))  # before start: sent on connect
    t.start(lambda c: None)
    try:
        wait_state(t, "connected")
        late = listen(broker.port, f"{BASE}/status")  # joins after: gets the retained one
        _, payload, retained = late.wait_for(lambda m: m)[0]
        status = json.loads(payload)
        assert retained and status["online"] is True and status["ready"] is True
        assert status["recipe"] == "part-a" and status["heartbeat"] == 3 and status["station"] == STATION
        t.publish_state(StationState(ready=True, recipe="part-a", heartbeat=4))
        late.wait_for(lambda m: any(json.loads(p).get("heartbeat") == 4 for _t, p, _r in m))
    finally:
        t.stop()
    assert t.status().state == "stopped"
    after = listen(broker.port, f"{BASE}/status")
    _, payload, retained = after.wait_for(lambda m: m)[0]
    assert retained and json.loads(payload)["online"] is False and json.loads(payload)["recipe"] == "part-a"


def test_last_will_marks_a_dead_station_offline(broker, listen, tmp_path):  # noqa: F811
    """The station's process is killed (no DISCONNECT): the broker publishes the Will."""
    sub = listen(broker.port, f"{BASE}/status")
    code = (f"import time\nfrom core.lineio.registry import build_transport, TransportContext\n"
            f"from core.lineio.contract import StationState\n"
            f"t = build_transport('mqtt', {{'host': '127.0.0.1', 'port': {broker.port}}}, "
            f"TransportContext(data_dir={str(tmp_path)!r}, station={STATION!r}))\n"
            f"t.publish_state(StationState(ready=True))\nt.start(lambda c: None)\ntime.sleep(120)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        sub.wait_for(lambda m: any(json.loads(p)["online"] for _t, p, _r in m), timeout=20)
        proc.kill()
        proc.wait(10)
        sub.wait_for(lambda m: json.loads(m[-1][1]) == {"station": STATION, "online": False})
    finally:
        proc.kill()
        proc.wait(10)
    after = listen(broker.port, f"{BASE}/status")
    _, payload, retained = after.wait_for(lambda m: m)[0]
    assert retained and json.loads(payload)["online"] is False


def test_alarm_messages_and_forced_outputs(station, listen):  # noqa: F811
    t, _ = station
    sub = listen(t.port, f"{BASE}/#")
    t.publish_state(StationState(ready=True, alarm="camera lost", recipe="part-a", last_seq=9))
    t.publish_state(StationState(ready=True, alarm="camera lost", heartbeat=1))  # same alarm: no message
    t.publish_state(StationState(ready=True, alarm=""))
    t.force(LineOutput.NG, True)
    sub.wait_for(lambda m: any(tp.endswith("/forced") for tp, _p, _r in m))
    alarms = sub.json_on("/alarm")
    assert [(a["alarm"], a["active"]) for a in alarms] == [("camera lost", True), ("", False)]
    assert alarms[0]["recipe"] == "part-a" and alarms[0]["last_seq"] == 9
    assert sub.json_on("/forced")[0]["output"] == "ng" and sub.json_on("/forced")[0]["value"] is True


def test_commands_and_malformed_payloads(station, listen):  # noqa: F811
    t, commands = station
    pub = listen(t.port, "nothing/here")
    for topic, payload, retain in [("cmd/recipe", b"\xff\xfe", False), ("cmd/recipe", b"  ", False),
                                   ("cmd/recipe", b"{not json", False), ("cmd/recipe", b"0", False),
                                   ("cmd/launch", b"", False),
                                   ("cmd/recipe", b"x" * 2000, False)]:
        pub.publish(f"{BASE}/{topic}", payload, retain=retain)
    pub.publish(f"{BASE}/cmd/recipe", b" part-b ")
    first = commands.get(timeout=10)
    assert (first.kind, first.value, first.source) == (LineInput.RECIPE, "part-b", t.name)
    for topic, payload, want in [("recipe", b"3", (LineInput.RECIPE, 3)), ("recipe", b'"part c"', (LineInput.RECIPE, "part c")),
                                 ("trigger", b"", (LineInput.TRIGGER, None)), ("start", b"1", (LineInput.START, None)),
                                 ("stop", b"", (LineInput.STOP, None)), ("reset_counters", b"", (LineInput.RESET_COUNTERS, None)),
                                 ("ack_alarm", b"", (LineInput.ACK_ALARM, None)),
                                 ("lot", b" L-0412 ", (LineInput.LOT, "L-0412"))]:
        pub.publish(f"{BASE}/cmd/{topic}", payload)
        cmd = commands.get(timeout=10)
        assert (cmd.kind, cmd.value) == want
    assert commands.empty()
    assert t.status().inputs["recipe"] == "part c" and t.status().state == "connected"


def test_a_retained_command_is_not_replayed_on_connect(broker, listen, tmp_path):  # noqa: F811
    """A retained cmd/trigger would fire again at every reconnection: it is refused."""
    pub = listen(broker.port, "nothing/here")
    pub.publish(f"{BASE}/cmd/trigger", b"", retain=True)
    commands: queue.Queue = queue.Queue()
    t = build("mqtt", {"host": "127.0.0.1", "port": broker.port}, TransportContext(data_dir=tmp_path, station=STATION))
    t.start(commands.put)
    try:
        wait_state(t, "connected")
        pub.publish(f"{BASE}/cmd/stop", b"")
        assert commands.get(timeout=10).kind is LineInput.STOP
        assert commands.empty()
    finally:
        t.stop()


def test_through_the_hub(broker, listen, tmp_path):  # noqa: F811
    """line_io.toml's [[transport]] table -> LineInterface -> the result on the broker, and
    cmd/trigger reaching the station's command sink."""
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    cfg = LineConfig.from_dict({"transport": [{"kind": "mqtt", "host": "127.0.0.1", "port": broker.port}]})
    sub = listen(broker.port, f"{BASE}/#")
    commands: queue.Queue = queue.Queue()
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path, station=STATION))
    line.start(commands.put)
    try:
        deadline = time.monotonic() + 10
        while line.statuses()[0].state != "connected":
            assert time.monotonic() < deadline, line.statuses()
            time.sleep(0.02)
        line(result(31, "NG", score=0.9))
        sub.wait_for(lambda m: any(tp.endswith("/result") for tp, _p, _r in m))
        got = sub.json_on("/result")[0]
        assert (got["seq"], got["decision"], got["station"]) == (31, "NG", STATION)
        sub.publish(f"{BASE}/cmd/trigger", b"")
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
        assert not line.alarm
    finally:
        assert line.stop()
    sub.wait_for(lambda m: any(tp.endswith("/status") and not json.loads(p)["online"] for tp, p, _r in m))


def test_bench_peer_sees_results_and_triggers(tmp_path):
    from bench.lineio_peers._mosquitto import mosquitto_binary
    from bench.lineio_peers.mqtt import Peer

    if mosquitto_binary() is None:
        pytest.skip(MISSING)
    peer = Peer(station=STATION)
    options = peer.transport_options()
    assert options.pop("kind") == "mqtt"
    commands: queue.Queue = queue.Queue()
    peer.start()
    transport = build_transport("mqtt", options, TransportContext(data_dir=tmp_path, station=STATION))
    transport.start(commands.put)
    try:
        assert peer.connected.wait(15)
        for seq in (5, 6):
            transport.publish_result(ok(seq))
            assert peer.wait_result(seq, 10) is not None
        assert peer.wait_result(999, 0.01) is None
        peer.trigger()
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
    finally:
        transport.stop()
        peer.stop()
