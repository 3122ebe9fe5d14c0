"""kind "opcua" against a real asyncua client on loopback: the model's values after each
publish, every method arriving as a LineCommand, Bad answers for bad arguments, clients that
vanish or send garbage, a taken port, and stop() freeing the port."""

from __future__ import annotations

import asyncio
import math
import queue
import time
import types

import pytest
from asyncua import Client, ua

from core.lineio.contract import LineInput, LineOutput, LineResult, StationState
from core.lineio.opcua import OpcUaTransport, build
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.lineio_net import free_port, send_garbage

NS = "urn:lineinspector:station"
STATION = "cell1"


def wait_state(t: OpcUaTransport, state: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while t.status().state != state:
        assert time.monotonic() < deadline, f"link never became {state}: {t.status()}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def served():
    """One server shared by the tests that do not disturb each other."""
    commands: queue.Queue = queue.Queue()
    t = build("opcua", {"host": "127.0.0.1", "port": free_port()}, TransportContext(data_dir=".", station=STATION))
    t.start(commands.put)
    try:
        wait_state(t, "connected")
        yield t, commands
    finally:
        t.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20.0))


async def _client(t: OpcUaTransport):
    c = Client(f"opc.tcp://127.0.0.1:{t.port}/lineinspector/", timeout=10)
    await c.connect()
    return c


async def read(t: OpcUaTransport, *keys: str) -> list:
    c = await _client(t)
    try:
        idx = await c.get_namespace_index(NS)
        return [await c.get_node(ua.NodeId(f"{STATION}.{k}", idx)).read_value() for k in keys]
    finally:
        await c.disconnect()


async def call(t: OpcUaTransport, method: str, *args) -> ua.CallMethodResult:
    """The raw call result (asyncua's call_method raises on Bad and drops the text)."""
    c = await _client(t)
    try:
        idx = await c.get_namespace_index(NS)
        req = ua.CallMethodRequest()
        req.ObjectId = ua.NodeId(STATION, idx)
        req.MethodId = ua.NodeId(f"{STATION}.{method}", idx)
        req.InputArguments = [ua.Variant(a, ua.VariantType.String) for a in args]
        return (await c.uaclient.call([req]))[0]
    finally:
        await c.disconnect()


def test_options_are_checked():
    ctx = TransportContext(data_dir=".")
    for bad, word in [({"port": 0}, "port"), ({"port": "4840"}, "port"), ({"port": True}, "port"),
                      ({"host": ""}, "host"), ({"namespace": " "}, "namespace"),
                      ({"security": "basic256"}, "security"), ({"colour": 1}, "colour")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("opcua", bad, ctx)
    t = build_transport("opcua", {}, ctx)
    assert (t.host, t.port, t.namespace) == ("0.0.0.0", 4840, NS)
    assert t.status().state == "stopped"


def test_result_and_state_are_readable(served):
    t, _ = served
    t.publish_state(StationState(ready=True, busy=False, error="", alarm="camera lost", recipe="part-a",
                                 model_version=7, heartbeat=42, ok=5, review=2, ng=1, late=3))
    t.publish_result(LineResult(seq=123, verdict="REVIEW", decision="NG", score=0.75, late=True,
                                wall_time=1_700_000_000.0))
    got = run(read(t, "Station.Ready", "Station.Busy", "Station.Alarm", "Station.Heartbeat", "Recipe.Name",
                   "Recipe.ModelVersion", "Counters.OK", "Counters.Review", "Counters.NG", "Counters.Late",
                   "Alarms.Active", "Alarms.Count", "LastResult.Seq", "LastResult.Verdict",
                   "LastResult.Decision", "LastResult.Score", "LastResult.Late", "LastResult.Valid",
                   "LastResult.Time"))
    assert got[:18] == [True, False, True, 42, "part-a", 7, 5, 2, 1, 3, "camera lost", 1, 123, "REVIEW", "NG",
                        0.75, True, True]
    assert got[18].timestamp() == pytest.approx(1_700_000_000.0)
    status = t.status()
    assert status.state == "connected" and f":{t.port}" in status.detail and status.sent >= 1


def test_force_and_nan_score(served):
    t, _ = served
    t.force(LineOutput.READY, False)
    t.force(LineOutput.SEQ, 9)
    t.publish_result(LineResult(seq=10, verdict="OK", decision="OK", score=math.nan))
    t.force(LineOutput.NG, True)
    ready, seq, score, decision = run(read(t, "Station.Ready", "LastResult.Seq", "LastResult.Score",
                                           "LastResult.Decision"))
    assert (ready, seq, decision) == (False, 10, "NG") and math.isnan(score)


@pytest.mark.parametrize("method, kind, args, value", [
    ("SelectRecipe", LineInput.RECIPE, ("part-b",), "part-b"), ("Start", LineInput.START, (), None),
    ("Stop", LineInput.STOP, (), None), ("ResetCounters", LineInput.RESET_COUNTERS, (), None),
    ("AcknowledgeAlarm", LineInput.ACK_ALARM, (), None), ("Trigger", LineInput.TRIGGER, (), None),
    ("SetLot", LineInput.LOT, (" L-2026-0412 ",), "L-2026-0412")])
def test_each_method_becomes_a_command(served, method, kind, args, value):
    t, commands = served
    res = run(call(t, method, *args))
    assert res.StatusCode.is_good(), res
    cmd = commands.get(timeout=10)
    assert (cmd.kind, cmd.value, cmd.source) == (kind, value, t.name)


def test_bad_argument_is_a_bad_status_with_text(served):
    t, commands = served
    res = run(call(t, "SelectRecipe", "  "))
    assert res.StatusCode.value == ua.StatusCodes.BadInvalidArgument
    assert "empty" in res.OutputArguments[0].Value
    assert commands.empty()


def test_abrupt_disconnect_and_garbage_do_not_disturb_the_server(served):
    t, _ = served

    async def vanish():
        c = await _client(t)
        c.uaclient.protocol.transport.abort()  # the socket closes without CloseSession

    run(vanish())
    send_garbage(t.port)
    t.publish_result(LineResult(seq=77, verdict="OK", decision="OK", score=0.1))
    assert run(read(t, "LastResult.Seq")) == [77]
    assert t.status().state == "connected"


def test_stop_frees_the_port_and_a_taken_port_is_down():
    port = free_port()
    ctx = TransportContext(data_dir=".", station=STATION)
    a = build("opcua", {"host": "127.0.0.1", "port": port}, ctx)
    a.publish_state(StationState(ready=True, recipe="early"))  # before it is up: kept, written when up
    a.start(lambda c: None)
    assert a.status().state in ("connecting", "connected")
    try:
        wait_state(a, "connected")
        assert run(read(a, "Recipe.Name")) == ["early"]
        b = build("opcua", {"host": "127.0.0.1", "port": port}, ctx)
        b.start(lambda c: None)
        try:
            wait_state(b, "down")
            assert str(port) in b.status().detail
            with pytest.raises(ConnectionError):
                b.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.0))
        finally:
            b.stop()
    finally:
        a.stop()
    assert a.status().state == "stopped"
    c = build("opcua", {"host": "127.0.0.1", "port": port}, ctx)
    c.start(lambda c: None)
    try:
        wait_state(c, "connected")
    finally:
        c.stop()


def test_through_the_hub(tmp_path):
    """line_io.toml's [[transport]] table -> LineInterface -> a client reads the result and its
    Trigger call reaches the station's command sink."""
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    port = free_port()
    cfg = LineConfig.from_dict({"transport": [{"kind": "opcua", "host": "127.0.0.1", "port": port}]})
    commands: queue.Queue = queue.Queue()
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path, station=STATION))
    line.start(commands.put)
    try:
        t = types.SimpleNamespace(port=port)  # what the client helpers need
        deadline = time.monotonic() + 15
        while line.statuses()[0].state != "connected":
            assert time.monotonic() < deadline, line.statuses()
            time.sleep(0.02)
        line(result(31, "NG", score=0.9))
        deadline = time.monotonic() + 10
        while run(read(t, "LastResult.Seq")) != [31]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert run(read(t, "LastResult.Decision")) == ["NG"]
        assert run(call(t, "Trigger")).StatusCode.is_good()
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
        assert not line.alarm
    finally:
        assert line.stop()
