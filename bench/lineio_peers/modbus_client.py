"""Bench peer for kind "modbus-client": the PLC side, a pymodbus server holding the registers
the station writes into; a result is seen the moment the station's write of RESULT_COUNT
arrives (SEQ comes in the same request). It triggers by raising its TRIGGER register, which
the station polls every poll_ms (10 ms here, the option's least)."""

from __future__ import annotations

import threading

from bench.lineio_peers._modbus_plc import PlcServer
from bench.lineio_peers._seen import SeenSeqs, free_port
from core.lineio import modbus_map as mm


class Peer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, **_ignored) -> None:
        self.host, self.port = host, int(port or free_port())
        self._seen = SeenSeqs()
        self._plc = PlcServer(self.port, host=self.host, on_write=self._written)
        self._triggers = 0
        self.connected = threading.Event()  # the station has written its outputs

    def transport_options(self) -> dict:
        return {"kind": "modbus-client", "host": self.host, "port": self.port, "poll_ms": 10, "timeout_ms": 1000}

    def start(self) -> None:
        self._plc.start()

    def wait_result(self, seq: int, timeout: float) -> float | None:
        return self._seen.wait(seq, timeout)

    def trigger(self, timeout: float = 5.0) -> None:
        if not self.connected.wait(timeout):
            raise TimeoutError("modbus-client peer: the station has not connected")
        self._triggers = (self._triggers + 1) % 65536
        self._plc.set(mm.TRIGGER, [self._triggers])

    def stop(self) -> None:
        self._plc.stop()

    def _written(self, first: int, values: list[int]) -> None:
        self.connected.set()
        if first <= mm.SEQ and first + len(values) > mm.RESULT_COUNT:
            d = mm.decode_status(self._plc.get(0, mm.RESULT_SIZE))
            if d["result_count"]:
                self._seen.saw(d["seq"])
