"""The headless station: a live session on the camera with the results store and the line
interface, no window. The line's orders arrive on transport threads: TRIGGER fires the
camera's software trigger at once (its time goes into the frame's metadata where the source
records it, for the deadline); every other order is queued and carried out on the station's
own thread by :meth:`Station.poll` (a recipe change stops one session and opens another,
which blocks for seconds). The line interface outlives the sessions, so the PLC sees the
station (READY off) between recipes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.camera.base import Feature
from core.inspection.counters import ShiftContext, StationCounters
from core.inspection.session import LiveSession
from core.lineio.contract import LineCommand, LineInput
from core.lineio.recipe_select import LineCommandError, resolve_recipe

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StationReport:
    """What the station did, for its last line."""

    inspected: int  # results the sessions' workers produced
    recorded: int  # rows the results store committed
    unrecorded: int  # results the recorder could not store (disk full...)
    stopped_cleanly: bool


def triggered_opener(opener: Callable) -> Callable:
    """A source opener for triggered stations: the camera waits for a trigger (TriggerMode On,
    software trigger) unless the SOURCE names its own trigger_mode (e.g. a hardware line)."""

    def open_triggered(spec: str):
        source = opener(spec)
        if "trigger_mode" not in spec:
            try:
                source.set_feature(Feature.TRIGGER_MODE, "On")
            except Exception as exc:  # a source without triggers: it free-runs, said once
                _log.warning("%s: trigger mode not set (%s); frames come without triggers", spec, exc)
        return source

    return open_triggered


class Station:
    def __init__(self, data_dir: Path, recipe: str, source: str | None = None, *, mode: str = "live",
                 device: str = "auto", line, recipes, results,
                 session_factory: Callable[..., LiveSession] = LiveSession,
                 source_opener: Callable | None = None,
                 counters: StationCounters | None = None, alarms=None) -> None:
        """``line``: a core.lineio.hub.LineInterface (not started: :meth:`open` starts it);
        ``recipes``: a RecipeStore; ``results``: a ResultsStore (closed by :meth:`close`);
        ``counters``: per recipe and shift (default: the schedule of ``data_dir``'s
        station.toml; ShiftConfigError, a ValueError, if it is wrong); ``alarms``: a
        core.alarms.station_alarms.StationAlarms (default: on this line, recorded in the
        results database, watching its disks; closed by :meth:`close`)."""
        self.data_dir = Path(data_dir)
        self.selected = recipe
        self.source_override = source
        self.mode, self.device = mode, device
        self.line, self.recipes, self.results = line, recipes, results
        self._factory = session_factory
        self._opener = source_opener
        self.session: LiveSession | None = None
        if counters is None:
            from core.shifts.config import load_schedule

            counters = StationCounters(ShiftContext(load_schedule(self.data_dir)))
        self.counters = counters
        counters.add_rollover_listener(self._shift_ended)
        self.reports = None  # writes each shift's report when it ends (a ResultsStore only)
        if counters.context.schedule is not None and hasattr(results, "summary_by"):
            from core.shifts.auto_report import ShiftReportWriter

            self.reports = ShiftReportWriter(results, self.data_dir / "reports",
                                             counters.context.schedule.tz)
            counters.add_rollover_listener(self.reports)
        if alarms is None:
            from core.alarms.station_alarms import StationAlarms

            db = getattr(results, "db_path", None)
            archive = getattr(getattr(results, "archive", None), "root", None)
            disks = {k: v for k, v in (("results", db and Path(db).parent), ("archive", archive)) if v}
            alarms = StationAlarms(line=line, db_path=db, disks=disks)
        self.alarms = alarms
        self._commands: queue.SimpleQueue[LineCommand] = queue.SimpleQueue()
        self._inspected_before = 0  # by sessions already closed
        self._unrecorded_before = 0
        self._trigger_failing = False
        self._lock = threading.Lock()  # self.session as the transport threads see it
        self.closed_ok = True

    # --- life cycle (the station's thread) ---------------------------------------------------
    def open(self) -> None:
        """Start the line interface, then inspect the selected recipe (blocking)."""
        self.line.start(self.on_command)
        self.start_session(self.selected)

    def start_session(self, name: str) -> None:
        self.stop_session()
        recipe = self.recipes.get(name)
        bundle = self.recipes.active_bundle_path(name)
        spec = self.source_override or recipe.camera.source or "sim"
        kw = {} if self._opener is None else {"source_opener": self._opener}
        session = self._factory(recipe, bundle, spec, mode=self.mode, device=self.device,
                                results=self.results, counters=self.counters.for_recipe(name),
                                line=self.line, stop_line_on_close=False, **kw)
        session.open()
        self.alarms.attach(session)
        with self._lock:
            self.session = session
        self.selected = name
        _log.info("station: inspecting recipe '%s' (model v%s) on %s, %s mode", name,
                  recipe.active_version, spec, self.mode)

    def stop_session(self) -> None:
        """Stop the camera, inspect what it already delivered, record it, READY off."""
        with self._lock:
            session, self.session = self.session, None
        if session is None:
            return
        ok = session.close(10.0, drain=True)
        self.alarms.detach()
        self.closed_ok &= ok
        if session.worker is not None:
            self._inspected_before += session.worker.stats().inspected
        if session.recorder is not None:
            self._unrecorded_before += session.recorder.lost
        if not ok:
            _log.warning("station: some inspection threads of '%s' did not stop in time", session.recipe.name)

    def close(self, timeout: float = 15.0) -> StationReport:
        """Stop the session (drained, every result recorded), the results store, the line."""
        self.stop_session()
        if self.reports is not None and not self.reports.wait(timeout):
            _log.warning("station: a shift report was still being written at close")
        recorded = 0
        try:
            self.results.close(timeout)
            recorded = self.results.committed_count
        except Exception as exc:  # said; the line still stops
            _log.error("station: closing the results store: %s", exc)
            self.closed_ok = False
        self.closed_ok &= self.alarms.close(min(timeout, 5.0))
        self.closed_ok &= bool(self.line.stop(min(timeout, 5.0)))
        return StationReport(self._inspected_before, recorded, self._unrecorded_before, self.closed_ok)

    def _shift_ended(self, final, span) -> None:
        """A recipe's counters rolled over: the line's counters of the running one start
        again too (the hub counts the results it sends from the session's opening figures)."""
        session = self.session
        if session is not None and session.recipe.name == final.recipe:
            self.line.update_state(ok=0, review=0, ng=0, late=0)

    # --- the line's orders -------------------------------------------------------------------
    def on_command(self, cmd: LineCommand) -> None:
        """The hub's CommandSink (transport threads; never blocks)."""
        if LineInput(cmd.kind) is LineInput.TRIGGER:
            self._trigger()
        else:
            self._commands.put(cmd)

    def _trigger(self) -> None:
        with self._lock:
            session = self.session
        grabber = getattr(session, "grabber", None)
        if grabber is None:
            _log.warning("TRIGGER ignored: no recipe is being inspected")
            return
        try:
            self.line.update_state(busy=True)
            grabber.software_trigger()
        except Exception as exc:  # live mode, a camera without a software trigger
            self.line.update_state(busy=False)
            if not self._trigger_failing:
                _log.warning("TRIGGER not carried out: %s (said once until a trigger works)", exc)
            self._trigger_failing = True
        else:
            self._trigger_failing = False

    def poll(self) -> None:
        """Carry out the queued orders and keep the line's ERROR state in step (station thread)."""
        while True:
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                break
            try:
                said = self.carry_out(cmd)
            except LineCommandError as exc:
                _log.warning("line command %s from %s refused: %s", cmd.kind, cmd.source or "the line", exc)
            except Exception as exc:  # e.g. a recipe whose model cannot load: said, station goes on
                _log.error("line command %s from %s failed: %s", cmd.kind, cmd.source or "the line", exc)
            else:
                _log.info("line command from %s: %s", cmd.source or "the line", said)
        self.counters.tick()  # roll over at the shift's end even when no part comes
        self.alarms.tick(self.session)
        self.line.update_state(error=self.fault())

    def carry_out(self, cmd: LineCommand) -> str:
        kind = LineInput(cmd.kind)
        if kind is LineInput.RECIPE:
            name = resolve_recipe(cmd.value, self.recipes.names())
            if self.session is not None and self.session.recipe.name == name:
                return f"RECIPE {cmd.value}: '{name}' is already running"
            if self.session is None:
                self.selected = name
                return f"RECIPE {cmd.value}: '{name}' selected (START starts it)"
            self.start_session(name)
            return f"RECIPE {cmd.value}: switched to '{name}'"
        if kind is LineInput.START:
            if self.session is not None:
                return f"START: '{self.session.recipe.name}' is already running"
            self.start_session(self.selected)
            return f"START: '{self.selected}' started"
        if kind is LineInput.STOP:
            if self.session is None:
                return "STOP: already stopped"
            self.stop_session()
            return "STOP: stopped"
        if kind is LineInput.RESET_COUNTERS:
            self.counters.for_recipe(self.selected).reset()
            self.line.update_state(ok=0, review=0, ng=0, late=0)
            return f"RESET_COUNTERS: counters of '{self.selected}' reset"
        if kind is LineInput.LOT:
            try:
                lot = self.counters.context.set_lot(cmd.value)
            except ValueError as exc:
                raise LineCommandError(f"LOT: {exc}") from None
            return f"LOT: lot {lot or '(none)'}"
        if kind is LineInput.ACK_ALARM:
            acked = [a.text for a in self.alarms.acknowledge_all("line")]
            text = "; ".join([t for t in (self.line.ack_alarm(),) if t] + acked)
            return f"ACK_ALARM: alarm cleared ({text})" if text else "ACK_ALARM: no alarm"
        return f"{kind.name}: nothing to do"

    # --- what it shows -----------------------------------------------------------------------
    def camera(self):
        """The open camera, if any (TransportContext.camera: GenICam outputs use it)."""
        return getattr(self.session, "source", None)

    def fault(self) -> str:
        s = self.session
        if s is None:
            return ""
        st = s.status()
        return st.fault or st.alarm

    def inspected(self) -> int:
        s = self.session
        now = s.worker.stats().inspected if s is not None and s.worker is not None else 0
        return self._inspected_before + now

    def status_line(self) -> str:
        s = self.session
        if s is None:
            head = f"station: stopped (recipe '{self.selected}' selected)"
        else:
            st = s.status()
            c = s.counters.snapshot()
            head = (f"station: '{s.recipe.name}' v{st.model_version} {st.state} on {st.source}, "
                    f"{c.inspected} inspected (OK {c.ok}, REVIEW {c.review}, NG {c.ng})"
                    f"{f' in shift {c.shift!r}' if c.shift else ''}{f', lot {c.lot}' if c.lot else ''}, "
                    f"{st.inspected_fps:.1f}/s")
            if st.fault or st.alarm:
                head += f", fault: {st.fault or st.alarm}"
        links = ", ".join(f"{x.name} {x.state}" for x in self.line.statuses()) or "no links"
        stats = self.line.stats()
        line = f"line: {links}; sent {stats.sent}, late {stats.late}, dropped {stats.dropped}"
        alarm = self.line.alarm
        return f"{head}; {line}" + (f"; ALARM {alarm}" if alarm else "")
