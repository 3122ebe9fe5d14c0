"""The station's server kinds (modbus-server, opcua, s7) with PLCs that misbehave: clients that
connect, send half a request and then hang on to the socket (a stalled PLC), and clients that
are killed mid-request (the connection reset). Results go on being published without waiting
for them, and a proper client still reads the newest result. Each server runs on a free
loopback port and is stopped by the test."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

import pytest

from core.lineio.contract import LineResult
from core.lineio.registry import TransportContext, build_transport
from tests.lineio_net import free_port, wait_for

# half of each protocol's first request: a Modbus MBAP header, an ISO-on-TCP (TPKT) header, OPC UA "HEL"
HALF_REQUEST = {"modbus-server": b"\x00\x01\x00\x00\x00\x06",
                "s7": b"\x03\x00\x00\x16\x11\xe0",
                "opcua": b"HELF\x38\x00\x00\x00"}


def read_seq(kind: str, port: int) -> int:
    if kind == "modbus-server":
        from pymodbus.client import ModbusTcpClient

        from core.lineio import modbus_map as mm

        c = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
        assert c.connect()
        try:
            return mm.decode_status(c.read_holding_registers(0, count=mm.RESULT_SIZE).registers)["seq"]
        finally:
            c.close()
    if kind == "s7":
        import snap7

        from core.lineio import s7

        c = snap7.client.Client()
        c.connect("127.0.0.1", 0, 1, port)
        try:
            return struct.unpack_from(">i", c.db_read(10, 0, 8), s7.SEQ)[0]
        finally:
            c.disconnect()

    async def opcua() -> int:
        from asyncua import Client, ua

        c = Client(f"opc.tcp://127.0.0.1:{port}/lineinspector/", timeout=10)
        await c.connect()
        try:
            idx = await c.get_namespace_index("urn:lineinspector:station")
            return await c.get_node(ua.NodeId("station.LastResult.Seq", idx)).read_value()
        finally:
            await c.disconnect()

    return asyncio.run(asyncio.wait_for(opcua(), 20.0))


@pytest.fixture(params=sorted(HALF_REQUEST))
def server(request, tmp_path):
    kind, port = request.param, free_port()
    t = build_transport(kind, {"host": "127.0.0.1", "port": port}, TransportContext(data_dir=tmp_path))
    t.start(lambda cmd: None)
    try:
        wait_for(lambda: t.status().state in ("connected", "connecting") and _accepts(port), 15.0,
                 "the server did not come up")
        yield kind, port, t
    finally:
        t.stop()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a PLC that loses power mid-request leaves its connection."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_stalled_and_killed_clients_block_nothing(server):
    kind, port, t = server
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        for s in stalled:
            s.sendall(HALF_REQUEST[kind])  # ... and never the rest
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(HALF_REQUEST[kind])
            _reset(s)
        done = threading.Event()

        def publish() -> None:
            for seq in range(1, 51):
                t.publish_result(LineResult(seq=seq, verdict="OK", decision="OK", score=0.1))
            done.set()

        threading.Thread(target=publish, daemon=True).start()
        assert done.wait(20.0), f"{kind}: publishing waited for a stalled client"
        assert read_seq(kind, port) == 50  # a proper PLC is served beside the stalled ones
        assert t.status().state in ("connected", "connecting"), t.status()
    finally:
        for s in stalled:
            _reset(s)
    assert read_seq(kind, port) == 50
