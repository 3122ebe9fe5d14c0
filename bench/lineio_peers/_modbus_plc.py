"""A PLC's holding registers as a pymodbus Modbus TCP server (its own thread and event loop):
what the station's "modbus-client" kind writes into, for its tests and its bench peer. Every
write the station makes is seen as it arrives (``on_write``); the PLC's own writes (a
trigger, a command bit) go in with :meth:`set`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

SIZE = 200  # registers 0..199 from base


class PlcServer:
    def __init__(self, port: int, host: str = "127.0.0.1", base: int = 0,
                 on_write: Callable[[int, list[int]], None] | None = None) -> None:
        """``on_write(first, values)``: a station write (first relative to base), on the server's loop."""
        self.host, self.port, self.base = host, int(port), int(base)
        self.on_write = on_write
        self._regs = [0] * SIZE
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._up = threading.Event()
        self.error: Exception | None = None
        self.writes = 0

    def start(self, timeout: float = 10.0) -> PlcServer:
        self._up.clear()
        self._thread = threading.Thread(target=self._run, name=f"plc-modbus-{self.port}", daemon=True)
        self._thread.start()
        if not self._up.wait(timeout) or self.error is not None:
            raise RuntimeError(f"PLC server on port {self.port} did not start: {self.error}")
        return self

    def stop(self) -> None:
        loop, event, thread = self._loop, self._stop, self._thread
        if loop is not None and event is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(event.set)
            thread.join(10.0)
        self._thread = None

    def get(self, first: int, count: int) -> list[int]:
        with self._cond:
            return self._regs[first:first + count]

    def set(self, first: int, values: list[int]) -> None:
        with self._cond:
            self._regs[first:first + len(values)] = values

    def wait(self, what: Callable[[list[int]], bool], timeout: float = 10.0) -> bool:
        """Until ``what(registers)`` holds after some write (False after ``timeout``)."""
        with self._cond:
            return self._cond.wait_for(lambda: what(self._regs), timeout)

    async def _access(self, _fc: int, start: int, address: int, _count: int, registers: list[int],
                      values: list[int] | None) -> None:
        first = address - start
        with self._cond:
            if values is None:
                registers[:SIZE] = self._regs
                return
            self._regs[first:first + len(values)] = values
            self.writes += 1
            self._cond.notify_all()
        if self.on_write is not None:
            self.on_write(first, list(values))

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except Exception as exc:  # the port is taken: said by start()
            self.error = exc
            self._up.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        block = [SimData(self.base, count=SIZE, values=0, datatype=DataType.REGISTERS)]
        server = ModbusTcpServer(SimDevice(id=0, simdata=block, action=self._access), address=(self.host, self.port))
        await server.serve_forever(background=True)
        self._up.set()
        try:
            await self._stop.wait()
        finally:
            await server.shutdown()
            for _ in range(3):  # let requests already taken in end (else: never-awaited warnings)
                await asyncio.sleep(0)
