"""kind "modbus-server" against pymodbus's own client on loopback: the register map after each
publish, the PLC's trigger counter and command bits arriving as LineCommands (bits cleared,
acks written), refused writes and function codes, unit ids, a base address, a reader that
never sees half a result, garbage on the port, a taken port, stop() freeing the port, and one
run through the hub."""

from __future__ import annotations

import math
import queue
import threading
import time

import pytest
from pymodbus.client import ModbusTcpClient

from core.lineio import modbus_map as mm
from core.lineio.contract import LineInput, LineOutput, LineResult, StationState
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.lineio_net import free_port, send_garbage, wait_for

CTX = TransportContext(data_dir=".")


def serve(commands, **options):
    t = build_transport("modbus-server", {"host": "127.0.0.1", "port": free_port(), **options}, CTX)
    t.start(commands)
    wait_for(lambda: t.status().detail.startswith("listening") or t.status().state == "down", 15, str(t.status()))
    return t


@pytest.fixture(scope="module")
def served():
    commands: queue.Queue = queue.Queue()
    t = serve(commands.put)
    try:
        assert t.status().state == "connecting" and "no PLC" in t.status().detail  # listening, no PLC yet
        yield t, commands
    finally:
        t.stop()


def plc_client(port: int) -> ModbusTcpClient:
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
    assert c.connect()
    return c


@pytest.fixture
def plc(served):
    t, commands = served
    while not commands.empty():  # what an earlier test left
        commands.get_nowait()
    c = plc_client(t.port)
    try:
        yield c
    finally:
        c.close()


def read(c: ModbusTcpClient, address: int, count: int, unit: int = 1) -> list[int]:
    r = c.read_holding_registers(address, count=count, device_id=unit)
    assert not r.isError(), r
    return r.registers


def test_options_are_checked():
    for bad, word in [({"port": 0}, "port"), ({"port": "502"}, "port"), ({"port": True}, "port"),
                      ({"unit_id": 248}, "unit_id"), ({"base": -1}, "base"), ({"base": 65500}, "base"),
                      ({"colour": 1}, "colour"), ({"host": "plc.local"}, "host"), ({"timeout_ms": 5}, "timeout_ms")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("modbus-server", bad, CTX)
    t = build_transport("modbus-server", {}, CTX)
    assert (t.host, t.port, t.unit_id, t.base) == ("0.0.0.0", 5020, 0, 0) and t.status().state == "stopped"


def test_result_and_state_in_the_registers(served, plc):
    t, _ = served
    wait_for(lambda: t.status().state == "connected", message=str(t.status()))
    assert "1 PLC connection" in t.status().detail and f":{t.port}" in t.status().detail
    before = read(plc, mm.RESULT_COUNT, 1)[0]
    t.publish_state(StationState(ready=True, busy=True, alarm="camera lost", model_version=7, heartbeat=70001,
                                 ok=5, review=2, ng=1, late=3))
    t.publish_result(LineResult(seq=0x0001_0002, verdict="REVIEW", decision="NG", score=0.75, late=True))
    d = mm.decode_status(read(plc, 0, mm.OUT_SIZE, unit=42))  # unit_id 0: every unit id is answered
    assert d["ready"] and d["busy"] and d["alarm"] and d["result_valid"] and d["ng"] and not d["ok"]
    assert not d["error"] and not d["test"] and d["decision"] == "NG"
    assert (d["seq"], d["score"], d["heartbeat"], d["result_count"]) == (0x10002, 0.75, 70001 % 65536, before + 1)
    assert (d["ok_count"], d["review_count"], d["ng_count"], d["late_count"], d["model_version"]) == (5, 2, 1, 3, 7)
    t.publish_result(LineResult(seq=9, verdict="OK", decision="ERROR", score=math.nan, test=True))
    d = mm.decode_status(read(plc, 0, mm.RESULT_SIZE))
    assert d["decision"] == "ERROR" and d["error"] and d["test"] and math.isnan(d["score"]) and d["ready"]
    t.publish_state(StationState(ready=False))  # the ERROR of the last result stays until the next result
    assert mm.decode_status(read(plc, 0, mm.RESULT_SIZE))["error"]
    t.publish_result(LineResult(seq=10, verdict="OK", decision="OK", score=0.1))
    d = mm.decode_status(read(plc, 0, mm.RESULT_SIZE))
    assert d["decision"] == "OK" and not d["error"] and not d["ready"] and d["result_count"] == before + 3
    assert t.status().sent >= 3


def test_force(served, plc):
    t, _ = served
    t.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.2))
    t.force(LineOutput.READY, True)
    t.force(LineOutput.OK, False)
    t.force(LineOutput.NG, True)
    t.force(LineOutput.SEQ, 123456)
    t.force(LineOutput.SCORE, 0.5)
    t.force(LineOutput.HEARTBEAT, 65537)
    d = mm.decode_status(read(plc, 0, mm.RESULT_SIZE))
    assert d["ready"] and d["ng"] and not d["ok"] and (d["seq"], d["score"], d["heartbeat"]) == (123456, 0.5, 1)


def test_trigger_counter_and_commands(served, plc):
    t, commands = served
    base_trigger = read(plc, mm.TRIGGER, 1)[0]
    assert not plc.write_register(mm.TRIGGER, (base_trigger + 3) % 65536).isError()
    got = [commands.get(timeout=10) for _ in range(3)]
    assert {c.kind for c in got} == {LineInput.TRIGGER} and got[0].source == t.name
    assert read(plc, mm.TRIGGER_ACK, 1)[0] == (base_trigger + 3) % 65536
    # recipe number and several command bits in one request: select first, then start
    word = mm.CMD_START | mm.CMD_SELECT_RECIPE | mm.CMD_RESET_COUNTERS | mm.CMD_ACK_ALARM | 0x8000
    assert not plc.write_registers(mm.RECIPE, [2, word]).isError()
    got = [commands.get(timeout=10) for _ in range(4)]
    assert [(c.kind, c.value) for c in got] == [(LineInput.RECIPE, 2), (LineInput.START, None),
                                                (LineInput.RESET_COUNTERS, None), (LineInput.ACK_ALARM, None)]
    assert read(plc, mm.RECIPE, 2) == [2, 0x8000]  # the bits taken are cleared, others kept
    assert read(plc, mm.CMD_ACK, 1)[0] == mm.ACK_NONE
    assert not plc.write_register(mm.COMMAND, mm.CMD_STOP).isError()
    assert commands.get(timeout=10).kind is LineInput.STOP
    assert not plc.write_registers(mm.RECIPE, [0, mm.CMD_SELECT_RECIPE]).isError()
    wait_for(lambda: read(plc, mm.CMD_ACK, 1)[0] == mm.ACK_BAD_RECIPE)
    assert commands.empty() and read(plc, mm.COMMAND, 1)[0] == 0
    status = t.status()
    assert status.inputs["recipe"] == 0 and status.inputs["trigger"] == (base_trigger + 3) % 65536


def test_refused_requests(served, plc):
    t, commands = served
    assert plc.write_register(mm.STATUS, 1).isError()  # the station's own registers
    assert plc.write_registers(mm.COMMAND, [0, 0]).isError()  # beyond the command area
    assert plc.read_coils(0, count=4).isError() and plc.write_coil(0, True).isError()
    assert plc.read_holding_registers(mm.COMMAND, count=2).isError()  # beyond the map
    assert read(plc, 0, mm.COMMAND + 1)[mm.COMMAND] == 0  # the whole map in one read
    r = plc.read_input_registers(0, count=mm.RESULT_SIZE)  # function 4 reads the same map
    assert not r.isError() and r.registers == read(plc, 0, mm.RESULT_SIZE)
    assert commands.empty()


def test_garbage_and_vanishing_clients_do_not_disturb_the_server(served, plc):
    t, _ = served
    send_garbage(t.port)
    other = plc_client(t.port)
    other.socket.close()  # gone without a word
    t.publish_result(LineResult(seq=77, verdict="OK", decision="OK", score=0.1))
    assert mm.decode_status(read(plc, 0, mm.RESULT_SIZE))["seq"] == 77
    fresh = plc_client(t.port)
    try:
        assert mm.decode_status(read(fresh, 0, mm.RESULT_SIZE))["seq"] == 77
    finally:
        fresh.close()


def test_a_reader_never_sees_half_a_result(served, plc):
    """Results whose score is seq / 8 (exact in float32), published while a PLC reads 0..6
    again and again: every read has a score that belongs to its seq and its count."""
    t, _ = served
    seen, stop = [], threading.Event()

    def reader() -> None:
        c = plc_client(t.port)
        try:
            while not stop.is_set():
                seen.append(mm.decode_status(read(c, 0, mm.RESULT_SIZE)))
        finally:
            c.close()

    th = threading.Thread(target=reader, name="test-modbus-reader", daemon=True)
    first = mm.decode_status(read(plc, 0, mm.RESULT_SIZE))["result_count"]
    th.start()
    try:
        for seq in range(1000, 1400):
            t.publish_result(LineResult(seq=seq, verdict="OK", decision="OK", score=seq / 8))
            if seq % 50 == 0:
                wait_for(lambda n=len(seen): len(seen) > n)  # let the reader in between
    finally:
        stop.set()
        th.join(10)
    mine = [d for d in seen if d["seq"] >= 1000]
    assert len(mine) >= 8
    for d in mine:
        assert d["score"] == d["seq"] / 8 and (d["result_count"] - first) % 65536 == d["seq"] - 999, d


def test_unit_id_and_base():
    commands: queue.Queue = queue.Queue()
    t = serve(commands.put, unit_id=5, base=4000)
    c = plc_client(t.port)
    try:
        t.publish_result(LineResult(seq=44, verdict="OK", decision="OK", score=0.0))
        assert mm.decode_status(read(c, 4000, mm.RESULT_SIZE, unit=5))["seq"] == 44
        r = c.read_holding_registers(4000, count=1, device_id=6)
        assert r.isError() and r.exception_code == 0x0B  # not our unit id: gateway target did not answer
        assert c.read_holding_registers(0, count=1, device_id=5).isError()  # below base
        assert not c.write_register(4000 + mm.TRIGGER, 1, device_id=5).isError()
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
    finally:
        c.close()
        t.stop()


def test_raising_sink_is_refused_in_cmd_ack():
    def sink(cmd) -> None:
        raise RuntimeError("station bug")

    t = serve(sink)
    c = plc_client(t.port)
    try:
        assert not c.write_register(mm.COMMAND, mm.CMD_START).isError()
        assert read(c, mm.CMD_ACK, 1)[0] == mm.ACK_REFUSED and read(c, mm.COMMAND, 1)[0] == 0
        assert not c.write_register(mm.TRIGGER, 1).isError()  # the server goes on
        assert read(c, mm.TRIGGER_ACK, 1)[0] == 1
    finally:
        c.close()
        t.stop()


def test_taken_port_is_down_and_stop_frees_the_port():
    a = serve(lambda c: None)
    port = a.port
    try:
        b = build_transport("modbus-server", {"host": "127.0.0.1", "port": port}, CTX)
        b.start(lambda c: None)
        try:
            wait_for(lambda: b.status().state == "down", 15, str(b.status()))
            assert str(port) in b.status().detail
            with pytest.raises(ConnectionError):
                b.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.0))
        finally:
            b.stop()
        assert b.status().state == "down"  # the reason stays for the status bar
    finally:
        a.stop()
    assert a.status().state == "stopped"
    c = build_transport("modbus-server", {"host": "127.0.0.1", "port": port}, CTX)
    c.publish_state(StationState(ready=True))  # before it is up: served once it is
    c.start(lambda c: None)
    try:
        wait_for(lambda: c.status().detail.startswith("listening"), 15, str(c.status()))
        client = plc_client(port)
        try:
            assert mm.decode_status(read(client, 0, mm.RESULT_SIZE))["ready"]
        finally:
            client.close()
    finally:
        c.stop()


def test_through_the_hub(tmp_path):
    """line_io.toml's [[transport]] table -> LineInterface -> the PLC reads the result and its
    trigger reaches the station's command sink; the alarm clears once the PLC is connected."""
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    port = free_port()
    cfg = LineConfig.from_dict({"transport": [{"kind": "modbus-server", "host": "127.0.0.1", "port": port}]})
    commands: queue.Queue = queue.Queue()
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path))
    line.start(commands.put)
    try:
        wait_for(lambda: "listening" in line.statuses()[0].detail, 15, str(line.statuses()))
        assert "connecting" in line.alarm  # no PLC yet
        c = plc_client(port)
        try:
            wait_for(lambda: not line.alarm, message=line.alarm)
            line(result(31, "NG", score=0.9))
            wait_for(lambda: mm.decode_status(read(c, 0, mm.RESULT_SIZE))["seq"] == 31)
            d = mm.decode_status(read(c, 0, mm.OUT_SIZE))
            assert d["decision"] == "NG" and d["result_count"] >= 1
            wait_for(lambda: mm.decode_status(read(c, 0, mm.OUT_SIZE))["ng_count"] == 1)
            assert not c.write_register(mm.TRIGGER, 1).isError()
            assert commands.get(timeout=10).kind is LineInput.TRIGGER
        finally:
            c.close()
    finally:
        assert line.stop()
