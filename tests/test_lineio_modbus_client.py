"""kind "modbus-client" against a real pymodbus server on loopback playing the PLC: results
and state in its registers, its trigger counter and command bits arriving as LineCommands
(bits cleared, TRIGGER_ACK mirrored), the PLC killed and restarted on the same port (the
link reconnects and writes the newest outputs again), a PLC that accepts and never answers
(publish raises, nothing hangs) and one that refuses the registers."""

from __future__ import annotations

import queue
import socket
import threading
import time

import pytest

from bench.lineio_peers._modbus_plc import PlcServer
from core.lineio import modbus_map as mm
from core.lineio.contract import LineInput, LineResult, StationState
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.lineio_net import free_port, wait_for

CTX = TransportContext(data_dir=".")


def link(port: int, commands=lambda c: None, **options):
    t = build_transport("modbus-client", {"host": "127.0.0.1", "port": port, "poll_ms": 10,
                                          "timeout_ms": 2000, **options}, CTX)
    t.start(commands)
    return t


@pytest.fixture
def plc():
    p = PlcServer(free_port()).start()
    try:
        yield p
    finally:
        p.stop()


def test_options_are_checked():
    for bad, word in [({}, "host is required"), ({"host": " "}, "host"), ({"host": 5}, "host"),
                      ({"host": "a", "port": 0}, "port"), ({"host": "a", "unit_id": -1}, "unit_id"),
                      ({"host": "a", "timeout_ms": 9}, "timeout_ms"), ({"host": "a", "timeout_ms": 10001}, "timeout_ms"),
                      ({"host": "a", "poll_ms": 1.5}, "poll_ms"), ({"host": "a", "base": "0"}, "base"),
                      ({"host": "a", "colour": 1}, "colour")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("modbus-client", bad, CTX)
    c = build_transport("modbus-client", {"host": "plc1"}, CTX)
    assert (c.host, c.port, c.unit_id, c.base, c.timeout_s, c.poll_s) == ("plc1", 502, 1, 0, 1.0, 0.05)
    assert c.status().state == "stopped"


def test_results_state_and_commands(plc):
    plc.set(mm.TRIGGER, [7])  # the PLC's counter already runs: the first reading is the baseline
    commands: queue.Queue = queue.Queue()
    t = link(plc.port, commands.put)
    try:
        assert plc.wait(lambda r: r[mm.TRIGGER_ACK] == 7), "the first poll never came"
        wait_for(lambda: t.status().state == "connected", message=str(t.status()))
        assert commands.empty()
        t.publish_state(StationState(ready=True, heartbeat=3, ok=4, ng=1, model_version=2))
        t.publish_result(LineResult(seq=70000, verdict="NG", decision="NG", score=0.25))
        d = mm.decode_status(plc.get(0, mm.OUT_SIZE))
        assert d["ready"] and d["ng"] and d["result_valid"] and (d["seq"], d["score"], d["result_count"]) == (70000, 0.25, 1)
        assert (d["heartbeat"], d["ok_count"], d["ng_count"], d["model_version"]) == (3, 4, 1, 2)
        plc.set(mm.TRIGGER, [9])
        assert [commands.get(timeout=10).kind for _ in range(2)] == [LineInput.TRIGGER] * 2
        assert plc.wait(lambda r: r[mm.TRIGGER_ACK] == 9)
        plc.set(mm.RECIPE, [3, mm.CMD_SELECT_RECIPE | mm.CMD_START])
        got = [commands.get(timeout=10) for _ in range(2)]
        assert [(c.kind, c.value) for c in got] == [(LineInput.RECIPE, 3), (LineInput.START, None)]
        assert plc.wait(lambda r: r[mm.COMMAND] == 0)  # taken: cleared
        plc.set(mm.RECIPE, [0, mm.CMD_SELECT_RECIPE])
        assert plc.wait(lambda r: r[mm.COMMAND] == 0 and r[mm.CMD_ACK] == mm.ACK_BAD_RECIPE)
        assert t.status().inputs["trigger"] == 9 and t.status().sent == 1
    finally:
        t.stop()
    assert t.status().state == "stopped"


def test_plc_killed_and_restarted_on_the_same_port():
    port = free_port()
    plc = PlcServer(port).start()
    commands: queue.Queue = queue.Queue()
    t = link(port, commands.put, timeout_ms=500)
    try:
        wait_for(lambda: t.status().state == "connected", message=str(t.status()))
        t.publish_state(StationState(ready=True))
        t.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.1))
        plc.stop()
        with pytest.raises((ConnectionError, TimeoutError)):
            for seq in range(2, 50):  # the first write after the loss may still reach the socket buffer
                t.publish_result(LineResult(seq=seq, verdict="OK", decision="OK", score=0.1))
                time.sleep(0.05)
        wait_for(lambda: t.status().state == "down", message=str(t.status()))
        plc = PlcServer(port).start()
        wait_for(lambda: t.status().state == "connected", 15, str(t.status()))
        d = mm.decode_status(plc.get(0, mm.RESULT_SIZE))  # the newest outputs, written again
        assert d["ready"] and d["result_valid"] and d["seq"] >= 1
        t.publish_result(LineResult(seq=100, verdict="NG", decision="NG", score=0.5))
        assert mm.decode_status(plc.get(0, mm.RESULT_SIZE))["seq"] == 100
        plc.set(mm.TRIGGER, [1])
        assert commands.get(timeout=10).kind is LineInput.TRIGGER
    finally:
        t.stop()
        plc.stop()


@pytest.fixture
def stalled():
    """A TCP server that accepts and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held: list[socket.socket] = []
    quit_ = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not quit_.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    th = threading.Thread(target=accept, name="test-stalled-plc", daemon=True)
    th.start()
    try:
        yield srv.getsockname()[1]
    finally:
        quit_.set()
        th.join(5)
        for s in held:
            s.close()
        srv.close()


def test_stalled_plc_makes_publish_raise(stalled):
    t = link(stalled, timeout_ms=200)
    try:
        started = time.monotonic()
        with pytest.raises((ConnectionError, TimeoutError)):
            t.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.1))
        assert time.monotonic() - started < 10  # a guard: bounded by timeout_ms, never a hang
        assert t.status().state != "connected"
    finally:
        t.stop()


def test_registers_the_plc_refuses(plc):
    t = link(plc.port, base=5000)  # the PLC has no such registers
    try:
        wait_for(lambda: "refused" in t.status().detail, message=str(t.status()))
        assert t.status().state == "connecting"
        with pytest.raises((ConnectionError, RuntimeError)):
            t.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.1))
    finally:
        t.stop()


def test_command_registers_the_plc_refuses(plc):
    """Outputs fit (base 100: 100..113) but the command registers (200..202) do not exist:
    the link stays connected, says so, and results still go out."""
    t = link(plc.port, base=100)
    try:
        wait_for(lambda: "command registers fail" in t.status().detail, message=str(t.status()))
        assert t.status().state == "connected"
        t.publish_result(LineResult(seq=12, verdict="OK", decision="OK", score=0.1))
        assert mm.decode_status(plc.get(100, mm.RESULT_SIZE))["seq"] == 12
    finally:
        t.stop()
