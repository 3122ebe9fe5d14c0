"""kind "s7": the station as a Siemens S7 server (python-snap7's pure-Python server) exposing
one data block that the PLC reads with GET / PUT (or a PLC-side S7 client) and whose command
area it writes. snap7's server answers reads and writes on its own threads; this transport
only changes the block's bytes (under snap7's own per-area lock, so a PLC read never sees
half a result) and polls the command area every ``poll_ms``.

Data block layout (big-endian, S7 addresses relative to the DB, 40 bytes):

    station -> PLC                          PLC -> station
    DBX0.0 READY      DBX0.4 REVIEW         DBW32 TRIGGER  INT  +n = n triggers
    DBX0.1 BUSY       DBX0.5 NG             DBW34 RECIPE   INT  a change to 1.. = select that
    DBX0.2 RESULT_VALID DBX0.6 ERROR                              recipe (number in the station's list)
    DBX0.3 OK         DBX0.7 ALARM          DBX36.0 START   DBX36.1 STOP
    DBD2  SEQ        DINT                   DBX36.2 RESET_COUNTERS  DBX36.3 ACK_ALARM
    DBD6  SCORE      REAL (NaN = none)        (set by the PLC; the station clears the bit when
    DBW10 HEARTBEAT  INT  counts 0..32767      it has taken the command)
    DBW12 OK, DBW14 REVIEW, DBW16 NG, DBW18 LATE  INT counters (modulo 32768)
    DBW20 MODEL_VERSION INT (-1 = none)
"""

from __future__ import annotations

import logging
import math
import socket
import struct
import threading
import time
from typing import Any

from snap7.server import Server
from snap7.type import SrvArea

from core.lineio.contract import CommandSink, LineCommand, LineInput, LineOutput, LineResult, LinkStatus, StationState, Transport
from core.lineio.linkstate import LinkState
from core.lineio.registry import LineConfigError, TransportContext

_log = logging.getLogger(__name__)

DB_SIZE = 40
BITS = {LineOutput.READY: 0, LineOutput.BUSY: 1, LineOutput.RESULT_VALID: 2, LineOutput.OK: 3,
        LineOutput.REVIEW: 4, LineOutput.NG: 5, LineOutput.ERROR: 6}
ALARM_BIT = 7
SEQ, SCORE, HEARTBEAT, COUNTERS, MODEL_VERSION = 2, 6, 10, 12, 20
TRIGGER, RECIPE, COMMAND_BITS = 32, 34, 36
COMMANDS = {0: LineInput.START, 1: LineInput.STOP, 2: LineInput.RESET_COUNTERS, 3: LineInput.ACK_ALARM}
MAX_TRIGGERS_PER_POLL = 16  # a larger jump of the counter is taken as a reset: one trigger
DEFAULTS = {"host": "0.0.0.0", "port": 102, "db": 10, "poll_ms": 50}
LIMITS = {"port": (1, 65535), "db": (1, 65535), "poll_ms": (10, 10000)}


def build(kind: str, options: dict[str, Any], context: TransportContext) -> S7Transport:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise LineConfigError(f"unknown option {unknown[0]!r} (use {', '.join(DEFAULTS)})")
    opts = {**DEFAULTS, **options}
    for key, (lo, hi) in LIMITS.items():
        v = opts[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise LineConfigError(f"{key} must be an integer {lo}-{hi}, got {str(v)[:40]!r}")
    host = opts["host"]
    try:
        socket.inet_aton(host)
        ok = isinstance(host, str) and host.count(".") == 3
    except (OSError, TypeError):
        ok = False
    if not ok:
        raise LineConfigError(f"host must be an IPv4 address such as 0.0.0.0, got {str(host)[:40]!r}")
    return S7Transport(host, opts["port"], db=opts["db"], poll_ms=opts["poll_ms"])


def _int16(value: int) -> int:
    """A count as an S7 INT that stays non-negative (wraps at 32768)."""
    return int(value) % 32768


class S7Transport(Transport):
    def __init__(self, host: str, port: int, *, db: int = 10, poll_ms: int = 50) -> None:
        self.host, self.port, self.db, self.poll_s = host, int(port), int(db), poll_ms / 1000.0
        self.name = f"s7 {host}:{port} DB{db}"
        self.data = bytearray(DB_SIZE)  # registered with snap7: its reads see these bytes
        self._server: Server | None = None
        self._link = LinkState()
        self._result_error = False  # the last result's decision was ERROR
        self._state_error = False
        self._seen_trigger = self._seen_recipe = 0
        self._commands: CommandSink | None = None
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    # --- Transport ---------------------------------------------------------------------------
    def start(self, commands: CommandSink) -> None:
        if self._server is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._commands = commands
        server = Server(log=False)
        server.register_area(SrvArea.DB, self.db, self.data)  # a bytearray: served as it is, not copied
        server.host = self.host
        try:
            server.start(tcp_port=self.port)
        except Exception as exc:  # port taken, no permission for 102, ...
            reason = f"cannot listen on {self.host}:{self.port}: {exc}"
            if self.port < 1024:
                reason += " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
            _log.error("%s: %s", self.name, reason)
            self._link.set("down", reason)
            return
        self._server = server
        self._link.set("connected", f"serving DB{self.db} on {self.host}:{self.port}")
        self._thread = threading.Thread(target=self._poll, name=f"lineio-s7-{self.port}", daemon=True)
        self._thread.start()

    def publish_result(self, result: LineResult) -> None:
        def write(d: bytearray) -> None:
            self._result_error = result.decision == "ERROR"
            for out in (LineOutput.OK, LineOutput.REVIEW, LineOutput.NG):
                self._bit(d, BITS[out], result.decision == out.name)
            self._bit(d, BITS[LineOutput.ERROR], self._result_error or self._state_error)
            self._bit(d, BITS[LineOutput.RESULT_VALID], True)
            struct.pack_into(">i", d, SEQ, int(result.seq) & 0x7FFFFFFF)
            struct.pack_into(">f", d, SCORE, float(result.score) if math.isfinite(result.score) else math.nan)
        self._change(write)
        self._link.count_sent()

    def publish_state(self, state: StationState) -> None:
        def write(d: bytearray) -> None:
            self._state_error = bool(state.error)
            self._bit(d, BITS[LineOutput.READY], state.ready)
            self._bit(d, BITS[LineOutput.BUSY], state.busy)
            self._bit(d, BITS[LineOutput.ERROR], self._state_error or self._result_error)
            self._bit(d, ALARM_BIT, bool(state.alarm))
            struct.pack_into(">h", d, HEARTBEAT, _int16(state.heartbeat))
            struct.pack_into(">4h", d, COUNTERS, *(_int16(n) for n in (state.ok, state.review, state.ng, state.late)))
            mv = -1 if state.model_version is None else max(-1, min(32767, int(state.model_version)))
            struct.pack_into(">h", d, MODEL_VERSION, mv)
        self._change(write)

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        def write(d: bytearray) -> None:
            if output in BITS:
                self._bit(d, BITS[output], bool(value))
            elif output is LineOutput.SEQ:
                struct.pack_into(">i", d, SEQ, int(value) & 0x7FFFFFFF)
            elif output is LineOutput.SCORE:
                struct.pack_into(">f", d, SCORE, float(value))
            elif output is LineOutput.HEARTBEAT:
                struct.pack_into(">h", d, HEARTBEAT, _int16(value))
        self._change(write)

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        server = self._server
        if state == "connected" and server is not None:
            n = server.client_count
            detail = f"{detail}, {n} client{'s' if n != 1 else ''}"
        return LinkStatus(self.name, state, detail, sent=sent)

    def stop(self) -> None:
        self._quit.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(5.0)
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self._link.stopped()

    # --- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _bit(d: bytearray, bit: int, on: bool) -> None:
        d[0] = d[0] | (1 << bit) if on else d[0] & ~(1 << bit)

    def _change(self, write) -> None:
        """Apply ``write`` to the DB under snap7's lock of the area (a PLC read waits for it)."""
        server = self._server
        if server is None:
            state, detail, _ = self._link.get()
            if state == "down":
                raise ConnectionError(f"{self.name}: server not running ({detail})")
            write(self.data)  # not started yet: served once it is
            return
        server.lock_area(SrvArea.DB, self.db)
        try:
            write(self.data)
        finally:
            server.unlock_area(SrvArea.DB, self.db)

    def _poll(self) -> None:
        """The command area, every poll_ms: new trigger counts, recipe numbers, command bits."""
        while not self._quit.wait(self.poll_s):
            server = self._server
            if server is None:
                return
            server.lock_area(SrvArea.DB, self.db)
            try:
                trigger, recipe, bits = struct.unpack_from(">hhB", self.data, TRIGGER)
                if bits & 0x0F:
                    self.data[COMMAND_BITS] = bits & ~0x0F  # taken: the PLC sees its bits cleared
            finally:
                server.unlock_area(SrvArea.DB, self.db)
            if trigger != self._seen_trigger:
                steps = (trigger - self._seen_trigger) & 0xFFFF
                self._seen_trigger = trigger
                for _ in range(steps if steps <= MAX_TRIGGERS_PER_POLL else 1):  # else: counter reset
                    self._emit(LineInput.TRIGGER, None)
            if recipe != self._seen_recipe:
                self._seen_recipe = recipe
                if recipe >= 1:
                    self._emit(LineInput.RECIPE, recipe)
            for bit, kind in COMMANDS.items():
                if bits & (1 << bit):
                    self._emit(kind, None)

    def _emit(self, kind: LineInput, value: int | None) -> None:
        sink = self._commands
        if sink is None:
            return
        try:
            sink(LineCommand(kind, value, source=self.name, t=time.monotonic()))
        except Exception:  # the station's bug must not end the poll thread
            _log.exception("%s: command %s failed", self.name, kind)
