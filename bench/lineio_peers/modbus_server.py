"""Bench peer for kind "modbus-server": the PLC side, a pymodbus client polling the station's
registers 0..6 as fast as it can (every poll_ms); a result is seen when RESULT_COUNT moves,
its SEQ read in the same request. It triggers by raising the TRIGGER counter, and keeps
trying to connect until the station's server is up (the station is the server)."""

from __future__ import annotations

from pymodbus.client import ModbusTcpClient

from bench.lineio_peers._polling import PollingPeer
from core.lineio import modbus_map as mm


class Peer(PollingPeer):
    name = "modbus-server"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, poll_ms: float = 1.0,
                 **_ignored) -> None:
        super().__init__(host, port, poll_ms)

    def transport_options(self) -> dict:
        return {"kind": "modbus-server", "host": self.host, "port": self.port}

    def _open(self):
        client = ModbusTcpClient(self.host, port=self.port, timeout=2, retries=0)
        if not client.connect():  # not up yet
            client.close()
            return None
        return client

    def _read(self, client) -> tuple[object, int]:
        r = client.read_holding_registers(0, count=mm.RESULT_SIZE)
        if r.isError():
            raise ConnectionError(f"modbus-server peer: {r}")
        d = mm.decode_status(r.registers)
        return d["result_count"], d["seq"]

    def _write_trigger(self, client, count: int) -> None:
        r = client.write_register(mm.TRIGGER, count)
        if r.isError():
            raise RuntimeError(f"modbus-server peer: trigger refused: {r}")

    def _close(self, client) -> None:
        client.close()
