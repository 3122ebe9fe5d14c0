"""The station's line interface: every inspected result goes through the mapping and the
deadline (:mod:`core.lineio.decision`) to each link, each behind its own
:class:`~core.lineio.runner.TransportRunner` (so the inspection thread never waits for a
PLC); the station state (READY, BUSY, counters, heartbeat) is pushed on change and every
heartbeat; the line's commands go to the station's :data:`CommandSink`.

An :class:`LineInterface` is an InspectionWorker consumer: ``worker.add_consumer(hub)``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from core.lineio import decision
from core.lineio.config import LineConfig, Mapping
from core.lineio.contract import (DECISIONS, CommandSink, LineCommand, LineOutput, LineResult,
                                  LinkStatus, StationState, Transport)
from core.lineio.registry import TransportContext, build_transport
from core.lineio.runner import TransportRunner
from core.lineio.signals import LineStats, SignalBoard, SignalSnapshot

_log = logging.getLogger(__name__)

STATE_FIELDS = tuple(f.name for f in dataclasses.fields(StationState))


def build_transports(config: LineConfig, context: TransportContext) -> list[Transport]:
    """The enabled transports of ``config`` (numbered as in the file in messages); on a
    refused option the ones already built are stopped and the LineConfigError raised."""
    built: list[Transport] = []
    try:
        for i, t in enumerate(config.transports, start=1):
            if t.enabled:
                built.append(build_transport(t.kind, t.options, context, where=f"line_io transport {i}"))
    except BaseException:
        for t in built:
            _stop_quietly(t)
        raise
    return built


def _stop_quietly(transport: Transport) -> None:
    try:
        transport.stop()
    except Exception:  # stopping must go on for the others
        _log.exception("line link %s: stop failed", getattr(transport, "name", "?"))


class LineInterface:
    def __init__(self, config: LineConfig, transports: list[Transport] | None = None, *,
                 context: TransportContext | None = None, clock: Callable[[], float] = time.monotonic,
                 capacity: int = 256) -> None:
        """``transports`` None: built from ``config.transports`` (the enabled ones) with
        ``context`` (default: the data folder of core.store.paths)."""
        if transports is None:
            if context is None:
                from core.store.paths import data_dir

                context = TransportContext(data_dir=data_dir())
            transports = build_transports(config, context)
        self.config = config
        self._clock = clock
        self._mapping: Mapping = config.mapping
        self._runners = [TransportRunner(t, capacity, clock, recheck=self._overdue) for t in transports]
        self._lock = threading.Lock()
        self._state = StationState()
        self._board = SignalBoard()
        self._sent = self._late = self._fail_safe = self._test = 0
        self._sink: CommandSink | None = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._acked: frozenset[str] | None = None  # links down when the alarm was acknowledged
        self._station_alarm = ""  # set through update_state(alarm=...): the alarm engine's
        self._started = False

    # --- life cycle --------------------------------------------------------------------------
    def start(self, commands: CommandSink | None = None) -> None:
        """Open every link (quick: a peer not there yet is not an error) and start the
        threads. A link that cannot start (a port in use) stops the others and raises."""
        if self._started:
            raise RuntimeError("LineInterface.start: already started")
        self._started = True
        self._sink = commands
        opened: list[Transport] = []
        try:
            for r in self._runners:
                r.transport.start(self._on_command)
                opened.append(r.transport)
        except BaseException:
            for t in opened:
                _stop_quietly(t)
            self._stopped.set()
            raise
        for r in self._runners:
            r.start()
        self._push_state(self._state)
        self._heartbeat = threading.Thread(target=self._beat, name="lineio-heartbeat", daemon=True)
        self._heartbeat.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Send what is queued (for up to half of ``timeout``), close every link, join every
        thread; True when all ended in time. Idempotent."""
        deadline = time.monotonic() + max(0.0, timeout)
        self._stopped.set()
        self._wake.set()
        for r in self._runners:
            r.stop()
        drain_until = time.monotonic() + max(0.0, timeout) / 2
        for r in self._runners:
            r.join(max(0.0, drain_until - time.monotonic()))
        for r in self._runners:
            r.abandon()
            _stop_quietly(r.transport)  # closes its sockets: a call blocked on them returns
        ok = True
        for r in self._runners:
            if not r.join(max(0.0, deadline - time.monotonic())):
                _log.warning("line link %s: its thread did not stop in time", r.name)
                ok = False
        if self._heartbeat is not None:
            self._heartbeat.join(max(0.0, deadline - time.monotonic()))
            ok &= not self._heartbeat.is_alive()
        return ok

    # --- results (inspection thread: never blocks) -------------------------------------------
    def __call__(self, result) -> None:
        """An InspectionWorker consumer: decide, then queue to every link."""
        line = self.decide(result)
        with self._lock:
            self._sent += 1
            if line.late:
                self._late += 1
                self._fail_safe += 1
            s = self._state
            counts = {"ok": s.ok + (line.verdict == "OK"), "review": s.review + (line.verdict == "REVIEW"),
                      "ng": s.ng + (line.verdict == "NG"), "late": s.late + line.late}
            self._state = state = dataclasses.replace(s, last_seq=line.seq, **counts)
        if line.late:
            _log.warning("result seq %s late (%s): sent as %s", line.seq, line.error, line.decision)
        self._send(line)
        self._push_state(state)

    def decide(self, result) -> LineResult:
        """Pure: the LineResult of ``result`` now (mapping, deadline, fail-safe)."""
        return decision.decide(result, self._mapping, self._clock())

    def send_test(self, decision_: str) -> LineResult:
        """A fake result (``test=True``, seq 0) to every link, for commissioning."""
        if decision_ not in DECISIONS:
            raise ValueError(f"send_test: decision must be one of {', '.join(DECISIONS)}, got {decision_!r}")
        now = self._clock()
        line = LineResult(seq=0, verdict=decision_ if decision_ != "ERROR" else "NG", decision=decision_,
                          score=0.0, recipe=self._state.recipe, model_version=self._state.model_version,
                          t_trigger=now, t_ready=now, wall_time=time.time(), test=True)
        with self._lock:
            self._test += 1
        _log.info("test result %s sent to every line link", decision_)
        self._send(line)
        return line

    def _send(self, line: LineResult) -> None:
        self._board.result(line)
        for r in self._runners:
            r.put_result(line)

    def _overdue(self, line: LineResult) -> LineResult | None:
        """A runner's last look before sending: late by now -> the fail-safe (counted)."""
        replacement = decision.overdue(line, self._mapping, self._clock())
        if replacement is not None:
            with self._lock:
                self._late += 1
                self._fail_safe += 1
        return replacement

    # --- station state -----------------------------------------------------------------------
    def set_mapping(self, mapping: Mapping) -> None:
        """The mapping in force from the next result on (a recipe switch)."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"set_mapping: expected a Mapping, got {type(mapping).__name__}")
        self._mapping = mapping
        self._wake.set()  # a new heartbeat period takes effect now

    @property
    def mapping(self) -> Mapping:
        return self._mapping

    def update_state(self, **fields) -> None:
        """Change StationState fields (ready, busy, error, recipe, model_version, ok, ...);
        pushed to every link when something changed."""
        unknown = set(fields) - set(STATE_FIELDS)
        if unknown:
            raise ValueError(f"update_state: unknown field {sorted(unknown)[0]!r} "
                             f"(expected one of: {', '.join(STATE_FIELDS)})")
        if "alarm" in fields:  # the station's alarms (core.alarms), kept beside the links' own
            self._station_alarm = str(fields["alarm"] or "")
            fields["alarm"] = self._alarm_text(self.alarm)
        with self._lock:
            new = dataclasses.replace(self._state, **fields)
            changed, self._state = new != self._state, new
        if changed:
            self._push_state(new)

    def _alarm_text(self, links: str) -> str:
        return "; ".join(a for a in (self._station_alarm, links) if a)

    def state(self) -> StationState:
        return self._state

    def _push_state(self, state: StationState) -> None:
        self._board.state(state)
        for r in self._runners:
            r.put_state(state)

    def _beat(self) -> None:
        while not self._stopped.is_set():
            self._wake.clear()
            if self._wake.wait(self._mapping.heartbeat_ms / 1000.0):
                continue  # a new period, or stop
            alarm = self._alarm_text(self.alarm)
            with self._lock:
                self._state = state = dataclasses.replace(
                    self._state, heartbeat=self._state.heartbeat + 1, alarm=alarm)
            self._push_state(state)

    # --- commissioning -----------------------------------------------------------------------
    def force(self, output: LineOutput, value, *, transport: str | None = None, who: str = "") -> None:
        """Drive ``output`` by hand on one link (by name) or all (None); logged."""
        try:
            output = LineOutput(output)
        except ValueError:
            raise ValueError(f"force: unknown output {output!r} (one of: "
                             f"{', '.join(o.value for o in LineOutput)})") from None
        runners = [r for r in self._runners if transport is None or transport in (r.name, r.status().name)]
        if not runners:
            names = ", ".join(r.status().name for r in self._runners) or "none"
            raise ValueError(f"force: no line link named {transport!r} (links: {names})")
        where = transport if transport is not None else "every link"
        _log.info("forced output %s=%r on %s by %s", output.value, value, where, who or "unknown")
        self._board.forced(output, value)
        for r in runners:
            r.put_force(output, value, who)

    # --- commands (transport threads) --------------------------------------------------------
    def _on_command(self, cmd: LineCommand) -> None:
        if not cmd.t:
            cmd = dataclasses.replace(cmd, t=self._clock())
        self._board.command(cmd)
        sink = self._sink
        if sink is None:
            return
        try:
            sink(cmd)
        except Exception:  # the station's handler must not break the link's thread
            _log.exception("line command %s from %s: handler failed", cmd.kind, cmd.source)

    # --- queries (any thread, never block) ---------------------------------------------------
    def statuses(self) -> list[LinkStatus]:
        return [r.status() for r in self._runners]

    def signals(self) -> SignalSnapshot:
        return self._board.snapshot()

    def stats(self) -> LineStats:
        with self._lock:
            sent, late, fail_safe, test = self._sent, self._late, self._fail_safe, self._test
        return LineStats(sent=sent, late=late, fail_safe=fail_safe,
                         dropped=sum(r.dropped for r in self._runners), test=test)

    def _not_connected(self) -> list[LinkStatus]:
        return [s for s in self.statuses() if s.state != "connected"]

    @property
    def alarm(self) -> str:
        """"" when every link is connected (or the alarm was acknowledged and nothing changed
        since), else one line naming each link that is not."""
        bad = self._not_connected()
        if not bad:
            self._acked = None  # all well again: the next fault alarms anew
            return ""
        if (self._acked is not None and frozenset(s.name for s in bad) <= self._acked):
            return ""
        return "line link " + "; ".join(f"{s.name} {s.state}" + (f" ({s.detail})" if s.detail else "")
                                        for s in bad)

    def ack_alarm(self) -> str:
        """Acknowledge the alarm (ACK_ALARM): it stays silent until another link goes down.
        Returns the text acknowledged."""
        text = self.alarm
        self._acked = frozenset(s.name for s in self._not_connected())
        if text:
            _log.info("line alarm acknowledged: %s", text)
        return text
