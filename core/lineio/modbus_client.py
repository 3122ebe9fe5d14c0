"""kind "modbus-client": the PLC is the Modbus TCP server and the station writes into its
holding registers, the map of :mod:`core.lineio.modbus_map` from ``base``.

One pymodbus sync client, used one request at a time under ``_io``: by the runner thread
(publish_*) and by the transport's own poll thread, which connects (backoff 0.1 s doubling
to 5 s), writes the station's whole output block after each (re)connect, and every
``poll_ms`` reads TRIGGER / RECIPE / COMMAND, hands the commands to the station, writes
COMMAND back with the bits it took cleared and mirrors TRIGGER into TRIGGER_ACK. A result
is one write of registers 0..6 (function 16). A PLC that stops answering makes publish_*
raise after about ``timeout_ms`` (the runner counts it); the link then reconnects and the
newest outputs are written again. The output registers are kept here, so nothing published
while the PLC was away is needed again but the latest.
"""

from __future__ import annotations

import logging
import threading

from pymodbus.client import ModbusTcpClient

from core.lineio import modbus_map as mm
from core.lineio.contract import CommandSink, LineOutput, LineResult, LinkStatus, StationState, Transport
from core.lineio.linkstate import LinkState
from core.lineio.modbus_io import InputTaker, OutputRegisters

_log = logging.getLogger(__name__)

BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0  # s between connection attempts


class ModbusClientTransport(Transport):
    def __init__(self, host: str, port: int = 502, *, unit_id: int = 1, base: int = 0,
                 timeout_ms: int = 1000, poll_ms: int = 50) -> None:
        self.host, self.port, self.unit_id, self.base = host, int(port), int(unit_id), int(base)
        self.timeout_s, self.poll_s = timeout_ms / 1000.0, poll_ms / 1000.0
        self.name = f"modbus-client {host}:{port}"
        self._io = threading.Lock()  # one request at a time on _client
        self._mlock = threading.Lock()  # guards _out and _in (never held across a request)
        self._out = OutputRegisters()
        self._in = InputTaker(self.name, None, trigger=None)
        self._client: ModbusTcpClient | None = None
        self._link = LinkState()
        self._ever = False  # connected once: a later loss is "down", not "connecting"
        self._poll_failing = False  # reading the command registers fails (said once)
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    # --- Transport ---------------------------------------------------------------------------
    def start(self, commands: CommandSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._in.sink = commands
        self._link.set("connecting", f"connecting to {self.host}:{self.port}")
        self._thread = threading.Thread(target=self._run, name=f"lineio-modbus-client-{self.port}", daemon=True)
        self._thread.start()

    def publish_result(self, result: LineResult) -> None:
        self._publish(self._out.result, result)
        self._link.count_sent()

    def publish_state(self, state: StationState) -> None:
        self._publish(self._out.state, state)

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        self._publish(self._out.force, output, value)

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        with self._mlock:
            inputs = self._in.inputs()
        return LinkStatus(self.name, state, detail, sent=sent, inputs=inputs)

    def stop(self) -> None:
        self._quit.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(self.timeout_s * 3 + 5.0)
            if t.is_alive():
                _log.warning("%s: poll thread did not end", self.name)
        with self._io:
            self._drop(None)
        self._link.stopped()

    # --- requests ----------------------------------------------------------------------------
    def _publish(self, apply, *args) -> None:
        with self._mlock:
            first, values = apply(*args)  # kept: written again after a reconnect
        if not self._io.acquire(timeout=self.timeout_s):
            raise TimeoutError(f"{self.name}: the PLC has not answered for {self.timeout_s:g} s")
        try:
            if self._client is None:
                _state, detail, _ = self._link.get()
                raise ConnectionError(f"{self.name}: not connected ({detail})")
            self._request(lambda c: c.write_registers(self.base + first, values, device_id=self.unit_id))
        finally:
            self._io.release()

    def _request(self, call):
        """``call(client)`` under ``_io``; a refusal raises, a lost PLC also drops the connection."""
        client = self._client
        try:
            response = call(client)
        except Exception as exc:  # timeout, reset, garbage: the connection is no longer usable
            self._drop(f"{type(exc).__name__}: {exc}")
            raise ConnectionError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise RuntimeError(f"{self.name}: the PLC refused the request (Modbus exception {code})")
        return response

    def _drop(self, reason: str | None) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing a broken socket: nothing more to do
                pass
            if reason:
                _log.warning("%s: connection lost: %s", self.name, reason)
                self._link.set("down", f"lost {self.host}:{self.port}: {reason}; reconnecting")

    # --- poll thread -------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._quit.is_set():
            if self._client is None:
                if self._connect():
                    backoff = BACKOFF_FIRST
                else:
                    self._quit.wait(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    continue
            try:
                self._poll()
            except Exception as exc:  # a lost PLC is said by _drop; a refusal here, once a burst
                if self._client is not None and not self._poll_failing:
                    self._poll_failing = True
                    _log.warning("%s: command registers: %s (said once until they work again)", self.name, exc)
                    self._link.set("connected", f"{self._connected_detail()}; command registers fail: {exc}")
            else:
                if self._poll_failing:
                    self._poll_failing = False
                    self._link.set("connected", self._connected_detail())
            self._quit.wait(self.poll_s)

    def _connect(self) -> bool:
        client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0,
                                 name=self.name)
        try:
            ok = client.connect()
        except Exception:  # a host name that does not resolve, ...
            ok = False
        if not ok:
            client.close()
            state = "down" if self._ever else "connecting"
            self._link.set(state, f"cannot connect to {self.host}:{self.port}; retrying")
            return False
        with self._io:
            self._client = client
            with self._mlock:
                block = list(self._out.regs[:mm.RING_END])
            try:
                self._request(lambda c: c.write_registers(self.base, block, device_id=self.unit_id))
            except Exception as exc:
                self._drop(None)
                self._link.set("down" if self._ever else "connecting",
                               f"{self.host}:{self.port} connected but the outputs were refused: {exc}")
                return False
        self._ever, self._poll_failing = True, False
        self._link.set("connected", self._connected_detail())
        _log.info("%s: connected (unit id %d, base %d)", self.name, self.unit_id, self.base)
        return True

    def _connected_detail(self) -> str:
        return f"connected to {self.host}:{self.port} (unit id {self.unit_id}, base {self.base})"

    def _poll(self) -> None:
        with self._io:
            if self._client is None:
                return
            regs = self._request(lambda c: c.read_holding_registers(self.base + mm.IN_START, count=mm.IN_SIZE,
                                                                    device_id=self.unit_id)).registers
        with self._mlock:
            cmds, cleared = self._in.take(*regs[:mm.IN_SIZE])
            acks_before = self._out.regs[mm.TRIGGER_ACK:mm.CMD_ACK + 1]
        self._in.emit(cmds)
        with self._mlock:
            acks = [mm.u16(self._in.trigger_ack), self._in.cmd_ack]
            self._out.regs[mm.TRIGGER_ACK:mm.CMD_ACK + 1] = acks
        with self._io:
            if self._client is None:
                return
            if cleared != regs[mm.COMMAND - mm.IN_START]:
                self._request(lambda c: c.write_register(self.base + mm.COMMAND, cleared, device_id=self.unit_id))
            if acks != acks_before:
                self._request(lambda c: c.write_registers(self.base + mm.TRIGGER_ACK, acks, device_id=self.unit_id))
