"""kind "modbus-server": the station as a Modbus TCP server that the line's PLC polls.

pymodbus's asyncio server runs in the transport's own daemon thread with its own event loop.
The registers live here (``_regs``, base+0 .. base+102) under one lock: pymodbus calls
:meth:`_access` on its loop for every request and it copies them into pymodbus's block under
that lock, and each publish changes them under it in one step, so a PLC read of registers
0..6 never sees half a result. A PLC write of TRIGGER / RECIPE / COMMAND is taken in the same
call (no polling): the commands go to the station, the COMMAND bits are cleared at once and
TRIGGER_ACK / CMD_ACK updated. Writes to the station's own registers, or coil / discrete
function codes, are refused with a Modbus exception.

Link state: "connecting" while no PLC is connected (listening), "connected" with one or
more, "down" when the port cannot be opened.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from core.lineio import modbus_map as mm
from core.lineio.contract import CommandSink, LineOutput, LineResult, LinkStatus, StationState, Transport
from core.lineio.linkstate import LinkState
from core.lineio.modbus_io import InputTaker, OutputRegisters
from core.lineio.serverloop import check_port, run_server, stop_server

_log = logging.getLogger(__name__)

SPAN = mm.COMMAND + 1  # registers base+0 .. base+102 (16..99 read as 0)
REGISTER_CODES = (3, 4, 6, 16, 23)  # holding registers (input registers read the same map)


class ModbusServerTransport(Transport):
    def __init__(self, host: str, port: int, *, unit_id: int = 0, base: int = 0) -> None:
        self.host, self.port, self.unit_id, self.base = host, int(port), int(unit_id), int(base)
        self.name = f"modbus-server {host}:{port}"
        self._lock = threading.Lock()  # guards _regs, _out, _in, _loop, _quit
        self._regs = [0] * SPAN
        self._out = OutputRegisters()
        self._in = InputTaker(self.name, None, trigger=0)
        self._link = LinkState()
        self._server: ModbusTcpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._quit = False

    # --- Transport ---------------------------------------------------------------------------
    def start(self, commands: CommandSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._in.sink = commands
        self._link.set("connecting", f"starting on {self.host}:{self.port}")
        self._thread = threading.Thread(target=self._run, name=f"lineio-modbus-server-{self.port}", daemon=True)
        self._thread.start()

    def publish_result(self, result: LineResult) -> None:
        self._change(self._out.result, result)
        self._link.count_sent()

    def publish_state(self, state: StationState) -> None:
        self._change(self._out.state, state)

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        self._change(self._out.force, output, value)

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        server = self._server
        if state == "connected" and server is not None:
            n = len(server.active_connections)
            state = "connected" if n else "connecting"
            detail = f"{detail}, {n} PLC connection{'s' if n != 1 else ''}" if n else f"{detail}, no PLC connected"
        with self._lock:
            inputs = self._in.inputs()
        return LinkStatus(self.name, state, detail, sent=sent, inputs=inputs)

    def stop(self) -> None:
        with self._lock:
            self._quit = True
            loop, event, thread = self._loop, self._stop_event, self._thread
        stop_server(loop, event, thread, self.name)
        self._link.stopped()

    # --- registers ---------------------------------------------------------------------------
    def _change(self, apply, *args) -> None:
        state, detail, _ = self._link.get()
        if state == "down":
            raise ConnectionError(f"{self.name}: server not running ({detail})")
        with self._lock:
            first, values = apply(*args)
            self._regs[first:first + len(values)] = values

    async def _access(self, func_code: int, start: int, address: int, count: int,
                      registers: list[int], values: list[int] | None) -> ExcCodes | None:
        """Every request, on the server's loop: serve our registers, take the PLC's writes."""
        if func_code not in REGISTER_CODES:
            return ExcCodes.ILLEGAL_FUNCTION
        first = address - start  # relative to base
        if values is None:
            with self._lock:
                registers[:SPAN] = self._regs
            return None
        if first < mm.IN_START or first + len(values) > mm.IN_START + mm.IN_SIZE:
            return ExcCodes.ILLEGAL_ADDRESS  # only TRIGGER / RECIPE / COMMAND are the PLC's
        with self._lock:
            area = self._regs[mm.IN_START:SPAN]
            area[first - mm.IN_START:first - mm.IN_START + len(values)] = [int(v) & 0xFFFF for v in values]
            cmds, cleared = self._in.take(*area)
            area[mm.COMMAND - mm.IN_START] = cleared
            self._regs[mm.IN_START:SPAN] = area
        if mm.COMMAND - first in range(len(values)):
            values[mm.COMMAND - first] = cleared  # pymodbus' own copy: the bits are taken
        self._in.emit(cmds)  # outside the lock: the station's sink may take a moment
        with self._lock:
            self._out.regs[mm.TRIGGER_ACK] = self._in.trigger_ack
            self._out.regs[mm.CMD_ACK] = self._in.cmd_ack
            self._regs[mm.TRIGGER_ACK:mm.CMD_ACK + 1] = self._out.regs[mm.TRIGGER_ACK:mm.CMD_ACK + 1]
        return None

    # --- server thread -----------------------------------------------------------------------
    def _devices(self) -> list[SimDevice]:
        block = [SimData(self.base, count=SPAN, values=0, datatype=DataType.REGISTERS)]
        ours = SimDevice(id=self.unit_id, simdata=block, action=self._access)
        if self.unit_id == 0:
            return [ours]  # id 0: every unit id

        async def absent(*_args) -> ExcCodes:
            return ExcCodes.GATEWAY_NO_RESPONSE

        other = SimDevice(id=0, simdata=[SimData(self.base, count=SPAN, values=0, datatype=DataType.REGISTERS)],
                          action=absent)
        return [ours, other]

    def _run(self) -> None:
        run_server(self._serve, self._link, self.name, self.host, self.port)

    async def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._quit:
                return
            self._loop, self._stop_event = loop, asyncio.Event()
        check_port(self.host, self.port)
        server = ModbusTcpServer(self._devices(), address=(self.host, self.port))
        await server.serve_forever(background=True)
        self._server = server
        try:
            unit = "any unit id" if self.unit_id == 0 else f"unit id {self.unit_id}"
            self._link.set("connected", f"listening on {self.host}:{self.port} ({unit}, base {self.base})")
            _log.info("%s: listening (%s, base %d)", self.name, unit, self.base)
            with self._lock:
                if self._quit:
                    return
            await self._stop_event.wait()
        finally:
            await server.shutdown()
            for _ in range(3):  # let requests already taken in end (else: never-awaited warnings)
                await asyncio.sleep(0)
            self._server = None
