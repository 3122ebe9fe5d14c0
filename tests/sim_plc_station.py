"""A stand-in station for the simulated PLC's tests: a real pymodbus TCP server laid out as the
register map (core.lineio.modbus_map), in its own thread and loop. A TRIGGER write makes frame
``next_seq`` (0, 1, ...); ``decide(seq)`` says what the station answers for it: a decision is
written at once, within the write's own request (registers 0..6 then RESULT_COUNT, as the
real transport does), None holds it back (released later with :meth:`publish`), "skip" drops
the frame (no result at all)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from core.lineio import modbus_map as mm
from core.lineio.contract import LineResult
from tests.lineio_net import free_port


class StandInStation:
    def __init__(self, decide: Callable[[int], str | None]) -> None:
        self.decide = decide
        self.port = free_port()
        self.triggers = 0  # triggers taken
        self.next_seq = 0
        self.held: list[int] = []
        self._regs: list[int] | None = None  # the server's live registers (set on first access)
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="standin-station", daemon=True)

    def start(self) -> None:
        self._thread.start()
        device = SimDevice(0, simdata=[SimData(0, count=mm.COMMAND + 1, values=0, datatype=DataType.REGISTERS)],
                           action=self._action)
        asyncio.run_coroutine_threadsafe(self._serve(device), self._loop).result(10)

    async def _serve(self, device: SimDevice) -> None:
        self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))  # needs its loop running
        await self._server.serve_forever(background=True)

    def stop(self) -> None:
        """Idempotent: a test may stop the station early (the PLC loses its link)."""
        if self._loop.is_closed():
            return
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _action(self, fc, start, address, count, registers, values):
        self._regs = registers
        if values and address <= mm.TRIGGER < address + count:
            steps = mm.trigger_steps(registers[mm.TRIGGER], values[mm.TRIGGER - address])
            for _ in range(steps):
                self._frame()
        return None

    def _frame(self) -> None:
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        self.triggers += 1
        decision = self.decide(seq)
        if decision is None:
            self.held.append(seq)
        elif decision != "skip":
            self._write(seq, decision)

    def publish(self, seq: int, decision: str, *, test: bool = False) -> None:
        """A held result (or any) written now, on the server's loop."""
        asyncio.run_coroutine_threadsafe(self._publish(seq, decision, test), self._loop).result(10)

    async def _publish(self, seq: int, decision: str, test: bool) -> None:
        self._write(seq, decision, test)

    def _write(self, seq: int, decision: str, test: bool = False) -> None:
        regs = self._regs
        count = mm.u16(regs[mm.RESULT_COUNT] + 1)
        line = LineResult(seq=seq, verdict="NG" if decision == "ERROR" else decision, decision=decision,
                          score=0.5, test=test)
        regs[0:mm.RESULT_SIZE] = mm.encode_result(line, result_count=count)
