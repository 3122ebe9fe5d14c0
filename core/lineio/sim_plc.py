"""A simulated PLC for the simulated line: a Modbus TCP client (the PLC side; the station runs
the "modbus-server" kind, register map in core.lineio.modbus_map) that sends one part down the
line every 60/parts_per_min seconds: it bumps TRIGGER, waits for RESULT_COUNT to move, reads
registers 0..67 (status and result ring) in one request and sorts each part a new result names
by its seq into the OK or NG bin
before the part reaches the reject gate (gate_ms after its trigger). It counts parts that
reached the wrong bin (false rejects, escapes), parts that passed the gate undecided (missed:
they go to the OK bin, as on a real line whose gate stays shut) and decisions that came late.

Ground truth comes from the line, not from the station: ``truth(seq)`` says whether the part
that became frame ``seq`` is defective (:func:`sim_truth` asks the simulated line itself).
Trigger n (1, 2, ...) becomes frame ``first_seq + n - 1``: a triggered camera makes one frame
per trigger, numbered from 0 when it opens.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from numbers import Real

from core.lineio import modbus_map as mm
from core.lineio.sim_plc_ledger import BINS, PartLedger, PlcCounts

_log = logging.getLogger(__name__)

RANGES = {  # option -> (low, high) of what a user may type
    "parts_per_min": (1.0, 60000.0), "gate_ms": (1.0, 600000.0), "poll_ms": (0.5, 1000.0),
    "timeout_s": (0.05, 60.0),
}
INT_RANGES = {"port": (1, 65535), "unit_id": (0, 247), "base": (0, 65535 - mm.COMMAND),
              "parts": (0, 10**8), "first_seq": (0, 2**32 - 1)}
RECONNECT_S = 0.2


def _number(name: str, value: object) -> float:
    low, high = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, Real) or not (
            math.isfinite(value) and low <= value <= high):
        raise ValueError(f"sim PLC: {name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _integer(name: str, value: object) -> int:
    low, high = INT_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"sim PLC: {name} must be an integer from {low} to {high}, got {value!r}")
    return value


def sim_truth(config=None) -> Callable[[int], bool]:
    """seq -> defective, from the simulated line (frame i depends only on its configuration and
    seed), so the PLC knows each part without asking the station. ~5 ms a part (it renders)."""
    from core.camera.sim.line import SimLineConfig, SimLineRenderer

    renderer = SimLineRenderer(config or SimLineConfig())
    return lambda seq: renderer.render(int(seq))[1]["defect_type"] is not None


class SimPlc:
    def __init__(self, host: str = "127.0.0.1", port: int = 5020, *, truth: Callable[[int], bool],
                 parts_per_min: float = 1200.0, gate_ms: float = 1000.0, parts: int = 0,
                 review_bin: str = "ng", unit_id: int = 1, base: int = 0, poll_ms: float = 2.0,
                 first_seq: int = 0, timeout_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``parts`` 0: until stop(). ``review_bin``: where a REVIEW decision sends the part."""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"sim PLC: host must be an IP address, got {str(host)[:40]!r}") from None
        if review_bin not in BINS:
            raise ValueError(f"sim PLC: review_bin must be one of {', '.join(BINS)}, got {str(review_bin)[:40]!r}")
        self.host = host
        self.port, self.base = _integer("port", port), _integer("base", base)
        self.unit_id = _integer("unit_id", unit_id)
        self.parts, self.first_seq = _integer("parts", parts), _integer("first_seq", first_seq)
        self.period_s = 60.0 / _number("parts_per_min", parts_per_min)
        self.gate_s = _number("gate_ms", gate_ms) / 1000.0
        self.poll_s = _number("poll_ms", poll_ms) / 1000.0
        self.timeout_s = _number("timeout_s", timeout_s)
        self._truth = truth
        self._clock = clock
        self._ledger = PartLedger(self.gate_s, review_bin)
        self._lock = threading.Lock()  # the ledger as counts() sees it
        self._client = None
        self._connected = False
        self._trigger_word: int | None = None  # TRIGGER as we last wrote it
        self._result_count: int | None = None  # RESULT_COUNT as we last saw it
        self.triggered = 0
        self.first_trigger_at: float | None = None
        self.last_trigger_at: float | None = None
        self._next_due: float | None = None
        self._quit = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._said_down = False

    # --- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Run the line in its own thread (it keeps trying until the station is up)."""
        if self._thread is not None:
            raise RuntimeError("SimPlc.start: already started")
        self._thread = threading.Thread(target=self._run, name="sim-plc", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop triggering, close the link, join the thread; True when it ended in time."""
        self._quit.set()
        ok = True
        if self._thread is not None:
            self._thread.join(timeout)
            ok = not self._thread.is_alive()
        self._close()
        return ok

    def wait_done(self, timeout: float) -> bool:
        """True once all ``parts`` were triggered and each reached the gate (or was sorted)."""
        return self._done.wait(timeout)

    def counts(self) -> PlcCounts:
        with self._lock:
            return self._ledger.counts()

    @property
    def connected(self) -> bool:
        return self._connected

    # --- one step at a time (the thread calls these; a test may, with its own clock) ------------
    def connect(self) -> bool:
        """Open the link and take the station's TRIGGER and RESULT_COUNT as they stand."""
        from pymodbus.client import ModbusTcpClient

        self._close()
        client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)
        try:
            if not client.connect():
                raise ConnectionError("connection refused")
            trigger = self._read(client, mm.TRIGGER, 1)[0]
            regs = self._read(client, mm.STATUS, mm.RING_END)
        except Exception as exc:
            client.close()
            if not self._said_down:
                _log.info("sim PLC: station %s:%s not reachable (%s); retrying", self.host, self.port, exc)
            self._said_down = True
            return False
        self._client, self._connected, self._said_down = client, True, False
        if self._trigger_word is None:
            self._trigger_word = trigger
        count = regs[mm.RESULT_COUNT]
        if self._result_count is not None:  # results written while we were away: never seen
            with self._lock:
                self._ledger.lost_results((count - self._result_count) % 65536)
        self._result_count = count
        _log.info("sim PLC: connected to %s:%s", self.host, self.port)
        return True

    def trigger_part(self) -> int:
        """One part onto the line: its ground truth noted, TRIGGER bumped; the part's seq. The
        part exists even when the write fails (the link is down): it will pass undecided."""
        self.triggered += 1
        seq = self.first_seq + self.triggered - 1
        defective = bool(self._truth(seq))
        now = self._clock()
        with self._lock:
            self._ledger.add(self.triggered, seq, defective, now)
        self.first_trigger_at = self.first_trigger_at if self.first_trigger_at is not None else now
        self.last_trigger_at = now
        self._trigger_word = mm.u16((self._trigger_word or 0) + 1)
        if self._connected:
            try:
                self._write(mm.TRIGGER, self._trigger_word)
            except Exception as exc:
                self._lost(exc)
        return seq

    def poll(self) -> str | None:
        """Read registers 0..67 once (status and the result ring); sort the parts the new
        results name, then let parts past the gate through. What became of the newest new
        result (see PartLedger.result), else None."""
        outcome = None
        if self._connected:
            try:
                regs = self._read(self._client, mm.STATUS, mm.RING_END)
            except Exception as exc:
                self._lost(exc)
            else:
                outcome = self._take(regs)
        with self._lock:
            self._ledger.expire(self._clock())
            pending = self._ledger.pending
        if self.parts and self.triggered >= self.parts and pending == 0:
            self._done.set()
        return outcome

    def _take(self, regs: list[int]) -> str | None:
        count = regs[mm.RESULT_COUNT]
        since = self._result_count if self._result_count is not None else count
        self._result_count = count
        if count == since:
            return None
        results, gone = mm.decode_ring(regs, since)
        if not results:  # a station without the ring (or a torn ring): the status block only
            st = mm.decode_status(regs)
            results, gone = [st], (count - since) % 65536 - 1
        outcome = None
        with self._lock:
            if gone:
                self._ledger.lost_results(gone)
            for r in results:
                decision = r["decision"] or "ERROR"  # a handshake without a decision: reject, say it
                if not r["decision"]:
                    _log.warning("sim PLC: result %s has no decision bit (seq %s)", r["result_count"], r["seq"])
                outcome = self._ledger.result(r["seq"], decision, self._clock(), test=r["test"])
        return outcome

    # --- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._quit.is_set():
                if not self._connected and not self.connect():
                    self._quit.wait(RECONNECT_S)
                    if self._next_due is None:
                        continue  # the line starts once the station is there
                now = self._clock()
                if self._next_due is None:
                    self._next_due = now
                if (not self.parts or self.triggered < self.parts) and now >= self._next_due:
                    self.trigger_part()
                    # a PLC that fell behind (stalled) does not burst: the line keeps its pitch
                    self._next_due = max(self._next_due + self.period_s, now)
                self.poll()
                wait = self.poll_s
                if not self.parts or self.triggered < self.parts:
                    wait = min(wait, max(0.0, self._next_due - self._clock()))
                self._quit.wait(wait)
        except Exception:  # said, not raised into nowhere: the counts so far stay readable
            _log.exception("sim PLC: stopped by an error")
        finally:
            self._close()

    # --- Modbus --------------------------------------------------------------------------------
    def _read(self, client, address: int, count: int) -> list[int]:
        rr = client.read_holding_registers(self.base + address, count=count, device_id=self.unit_id)
        if rr.isError():
            raise ConnectionError(f"read of register {self.base + address} refused: {rr}")
        return list(rr.registers)

    def _write(self, address: int, value: int) -> None:
        rr = self._client.write_register(self.base + address, value, device_id=self.unit_id)
        if rr.isError():
            raise ConnectionError(f"write of register {self.base + address} refused: {rr}")

    def _lost(self, exc: Exception) -> None:
        _log.warning("sim PLC: link to %s:%s lost (%s)", self.host, self.port, exc)
        self._close()

    def _close(self) -> None:
        client, self._client, self._connected = self._client, None, False
        if client is not None:
            try:
                client.close()
            except Exception:  # closing a broken socket: nothing more to do
                pass
