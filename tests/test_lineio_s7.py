"""kind "s7" against snap7's own client on loopback: the DB's bytes after each publish, the
command area written by the client arriving as LineCommands, garbage on the port, a taken
port, and stop() freeing the port."""

from __future__ import annotations

import math
import queue
import socket
import struct
import time

import pytest
import snap7

from core.lineio import s7
from core.lineio.contract import LineInput, LineOutput, LineResult, StationState
from core.lineio.registry import LineConfigError, TransportContext, build_transport
from tests.lineio_net import free_port, send_garbage

DB = 12


@pytest.fixture(scope="module")
def served():
    commands: queue.Queue = queue.Queue()
    t = s7.build("s7", {"host": "127.0.0.1", "port": free_port(), "db": DB, "poll_ms": 10},
                 TransportContext(data_dir="."))
    t.start(commands.put)
    try:
        assert t.status().state == "connected", t.status()
        yield t, commands
    finally:
        t.stop()


@pytest.fixture
def plc(served):
    t, _ = served
    c = snap7.client.Client()
    c.connect("127.0.0.1", 0, 1, t.port)
    try:
        yield c
    finally:
        c.disconnect()


def test_options_are_checked():
    ctx = TransportContext(data_dir=".")
    for bad, word in [({"port": 0}, "port"), ({"port": "102"}, "port"), ({"db": 0}, "db"),
                      ({"poll_ms": 5}, "poll_ms"), ({"poll_ms": 1.5}, "poll_ms"), ({"host": "plc.local"}, "host"),
                      ({"host": "1.2"}, "host"), ({"rack": 0}, "rack")]:
        with pytest.raises(LineConfigError, match=word):
            build_transport("s7", bad, ctx)
    t = build_transport("s7", {}, ctx)
    assert (t.host, t.port, t.db) == ("0.0.0.0", 102, 10) and t.status().state == "stopped"


def test_result_and_state_in_the_db(served, plc):
    t, _ = served
    t.publish_state(StationState(ready=True, busy=True, alarm="x", heartbeat=32769, ok=5, review=2, ng=1, late=3,
                                 model_version=7))
    t.publish_result(LineResult(seq=123456, verdict="REVIEW", decision="NG", score=0.75))
    d = plc.db_read(DB, 0, s7.DB_SIZE)
    bits = d[0]
    assert bits == (1 << 0) | (1 << 1) | (1 << 2) | (1 << 5) | (1 << 7), bin(bits)  # READY BUSY VALID NG ALARM
    assert struct.unpack_from(">i", d, s7.SEQ)[0] == 123456
    assert struct.unpack_from(">f", d, s7.SCORE)[0] == pytest.approx(0.75)
    assert struct.unpack_from(">6h", d, s7.HEARTBEAT) == (1, 5, 2, 1, 3, 7)
    t.publish_result(LineResult(seq=7, verdict="NG", decision="ERROR", score=math.nan))
    d = plc.db_read(DB, 0, 10)
    assert d[0] & (1 << 6) and not d[0] & (1 << 5) and math.isnan(struct.unpack_from(">f", d, s7.SCORE)[0])
    t.force(LineOutput.READY, False)
    t.force(LineOutput.SEQ, 99)
    d = plc.db_read(DB, 0, 6)
    assert not d[0] & 1 and struct.unpack_from(">i", d, s7.SEQ)[0] == 99
    assert t.status().state == "connected" and "1 client" in t.status().detail


def test_command_area_becomes_commands(served, plc):
    t, commands = served
    plc.db_write(DB, s7.TRIGGER, bytearray(struct.pack(">h", 2)))  # +2: two triggers
    plc.db_write(DB, s7.RECIPE, bytearray(struct.pack(">h", 3)))
    got = [commands.get(timeout=10) for _ in range(3)]
    assert [(c.kind, c.value) for c in got] == [(LineInput.TRIGGER, None)] * 2 + [(LineInput.RECIPE, 3)]
    plc.db_write(DB, s7.COMMAND_BITS, bytearray([0b1011]))  # START, STOP, ACK_ALARM
    got = {commands.get(timeout=10).kind for _ in range(3)}
    assert got == {LineInput.START, LineInput.STOP, LineInput.ACK_ALARM}
    deadline = time.monotonic() + 10
    while plc.db_read(DB, s7.COMMAND_BITS, 1)[0] & 0x0F:  # taken: the station clears them
        assert time.monotonic() < deadline
        time.sleep(0.01)
    plc.db_write(DB, s7.COMMAND_BITS, bytearray([0b0100]))
    assert commands.get(timeout=10).kind is LineInput.RESET_COUNTERS
    plc.db_write(DB, s7.TRIGGER, bytearray(struct.pack(">h", 3)))  # the same bits are not seen twice
    assert commands.get(timeout=10).kind is LineInput.TRIGGER


def test_garbage_on_the_port_does_not_disturb_the_server(served):
    t, _ = served
    send_garbage(t.port)
    t.publish_result(LineResult(seq=4242, verdict="OK", decision="OK", score=0.1))
    c = snap7.client.Client()
    c.connect("127.0.0.1", 0, 1, t.port)
    try:
        d = c.db_read(DB, 0, 6)
        assert d[0] & (1 << 3) and struct.unpack_from(">i", d, s7.SEQ)[0] == 4242
    finally:
        c.disconnect()


def test_stop_frees_the_port_and_a_taken_port_is_down():
    port = free_port()
    ctx = TransportContext(data_dir=".")
    a = s7.build("s7", {"host": "127.0.0.1", "port": port}, ctx)
    a.publish_state(StationState(ready=True))  # before start: served once it is up
    a.start(lambda c: None)
    try:
        c = snap7.client.Client()
        c.connect("127.0.0.1", 0, 1, port)
        assert c.db_read(10, 0, 1)[0] & 1
        c.disconnect()
    finally:
        a.stop()
    assert a.status().state == "stopped"
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # free again; now taken (without SO_REUSEPORT) for b
        s.listen(1)
        b = s7.build("s7", {"host": "127.0.0.1", "port": port}, ctx)
        b.start(lambda c: None)
        try:
            assert b.status().state == "down" and str(port) in b.status().detail
            with pytest.raises(ConnectionError):
                b.publish_result(LineResult(seq=1, verdict="OK", decision="OK", score=0.0))
        finally:
            b.stop()
