"""kind "genicam": the camera's own digital outputs (LineSelector / LineMode / LineSource /
UserOutputSelector / UserOutputValue through :meth:`CameraSource.set_digital_output`), one
line per decision plus a READY line, as a pulse or a level.

A result's pulse starts ``delay_ms`` after the part's trigger (``LineResult.t_trigger``), not
when the result is ready: the reject gate is a fixed distance down the belt. A result that
is ready after that instant fires at once and is counted late. Every line write runs on the
transport's own scheduler thread (:mod:`core.lineio.pulse_schedule`), so nothing sleeps in
the inspection thread or the link's runner; publish_result only schedules.

The camera is whatever ``TransportContext.camera()`` returns when a write is due (the
station opens it after the line interface and replaces it on a recipe change): a new camera
gets every configured line driven low first. A camera without outputs shows "down" with the
camera's own error text. The lines are read back (LineStatus / LineStatusAll, where the
device offers them) after each group of writes and with each station state, into
``status().inputs``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from core.lineio.contract import CommandSink, LineOutput, LineResult, LinkStatus, StationState, Transport
from core.lineio.linkstate import LinkState
from core.lineio.pulse_schedule import PulseScheduler
from core.lineio.registry import LineConfigError, TransportContext

_log = logging.getLogger(__name__)

DECISION_LINES = {"OK": "ok_line", "NG": "ng_line", "REVIEW": "review_line", "ERROR": "error_line"}
LINE_KEYS = (*DECISION_LINES.values(), "ready_line")
DEFAULTS: dict[str, Any] = {"ok_line": "", "ng_line": "Line1", "review_line": "", "error_line": "",
                            "ready_line": "", "pulse_ms": 100, "delay_ms": 0}
LIMITS = {"pulse_ms": (0, 10000), "delay_ms": (0, 60000)}
_LINE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
FORCED = {LineOutput.OK: "ok_line", LineOutput.NG: "ng_line", LineOutput.REVIEW: "review_line",
          LineOutput.ERROR: "error_line", LineOutput.READY: "ready_line"}


def build(kind: str, options: dict[str, Any], context: TransportContext) -> GenICamOutputs:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise LineConfigError(f"unknown option {unknown[0]!r} (use {', '.join(DEFAULTS)})")
    opts = {**DEFAULTS, **options}
    for key in LINE_KEYS:
        v = opts[key]
        if not isinstance(v, str) or (v and not _LINE_NAME.fullmatch(v)):
            raise LineConfigError(f"{key} must be a line name such as \"Line1\" (or \"\" for none), "
                                  f"got {str(v)[:40]!r}")
    for key, (lo, hi) in LIMITS.items():
        v = opts[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            extra = " (0 = level, else the pulse width)" if key == "pulse_ms" else ""
            raise LineConfigError(f"{key} must be an integer {lo}-{hi}{extra}, got {str(v)[:40]!r}")
    lines = {k: opts[k] for k in LINE_KEYS}
    if not any(lines.values()):
        raise LineConfigError(f"set at least one of {', '.join(LINE_KEYS)}")
    ready = lines["ready_line"]
    if ready and ready in [lines[k] for k in DECISION_LINES.values()]:
        raise LineConfigError(f"ready_line {ready!r} is also a decision's line; give READY its own line")
    return GenICamOutputs(context.camera, lines, pulse_ms=opts["pulse_ms"], delay_ms=opts["delay_ms"])


class GenICamOutputs(Transport):
    def __init__(self, camera: Callable[[], Any], lines: dict[str, str], *, pulse_ms: int = 100,
                 delay_ms: int = 0, clock: Callable[[], float] = time.monotonic, thread: bool = True) -> None:
        """``thread=False``: no scheduler thread; the caller runs ``self.scheduler.run_due()``
        (tests, with an injected ``clock``)."""
        self._camera_of = camera
        self.lines = {k: lines.get(k, "") for k in LINE_KEYS}
        self.pulse_s, self.delay_s = pulse_ms / 1000.0, delay_ms / 1000.0
        self._clock = clock
        self._threaded = thread
        used = [f"{k.removesuffix('_line')}={v}" for k, v in self.lines.items() if v]
        self.name = f"genicam {' '.join(used)}"
        self._decision_lines = sorted({v for k, v in self.lines.items() if v and k != "ready_line"})
        # the station's error / alarm holds the error line high only when it is the error's own
        # line: held high, a line shared with NG would swallow the next reject pulse's edge
        error = self.lines["error_line"]
        self._error_holds = bool(error) and error not in [self.lines[k] for k in ("ok_line", "ng_line", "review_line")]
        self._lock = threading.Lock()  # guards what status() reads
        self._link = LinkState()
        self._camera: Any = None  # the camera the lines were last initialised on
        self._written: dict[str, bool] = {}  # line -> what was last written to it
        self._want: dict[str, bool] = {}  # line -> what the results / forces ask for
        self._owner: dict[str, int] = {}  # line -> the pulse now holding it high
        self._pulses = 0
        self._ready = False
        self._state_error = False  # held on the error line while the station reports an error
        self._readback: dict[str, object] = {}
        self._failed = self._late = 0
        self._late_max_ms = 0.0
        self._error = ""
        self.scheduler = PulseScheduler(clock, name="lineio-genicam-pulses", on_error=self._write_failed,
                                        after_batch=self._read_back)

    # --- Transport (the runner's thread; never blocks) ---------------------------------------
    def start(self, commands: CommandSink) -> None:
        self._link.set("connecting", "waiting for the camera to open")
        self.scheduler.at(self._clock(), self._bind)
        if self._threaded:
            self.scheduler.start()

    def publish_result(self, result: LineResult) -> None:
        line = self.lines[DECISION_LINES[result.decision]]
        now = self._clock()
        when = now
        if self.delay_s > 0:
            t0 = result.t_trigger or result.t_ready or now
            when = t0 + self.delay_s
            if when < now:
                late_ms = (now - when) * 1000.0
                with self._lock:
                    self._late += 1
                    self._late_max_ms = max(self._late_max_ms, late_ms)
                _log.warning("%s: result seq %s came %.1f ms after its output instant; fired at once",
                             self.name, result.seq, late_ms)
                when = now
        with self._lock:
            self._pulses += 1
            pulse = self._pulses
        self.scheduler.at(when, lambda: self._fire(line, pulse))
        if self.pulse_s > 0 and line:
            self.scheduler.at(when + self.pulse_s, lambda: self._release(line, pulse))

    def publish_state(self, state: StationState) -> None:
        def apply() -> None:
            self._ready = bool(state.ready)
            self._state_error = bool(state.error or state.alarm)
            self._sync()
        self.scheduler.at(self._clock(), apply)

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        key = FORCED.get(LineOutput(output))
        line = self.lines.get(key or "", "")
        if not line:
            raise NotImplementedError(f"{self.name}: {output} has no camera line"
                                      + (f" (set {key})" if key else ""))

        def apply() -> None:
            if key == "ready_line":
                self._ready = bool(value)
            else:
                self._owner.pop(line, None)  # a pending pulse end must not undo the force
                self._want[line] = bool(value)
            self._sync()
        self.scheduler.at(self._clock(), apply)

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        with self._lock:
            inputs = dict(self._readback)
            failed, late, late_max = self._failed, self._late, self._late_max_ms
        if late:
            note = f"{late} output{'s' if late != 1 else ''} late (max {late_max:.0f} ms)"
            detail = f"{detail}; {note}" if detail else note
        return LinkStatus(self.name, state, detail, sent=sent, failed=failed,
                          queued=self.scheduler.pending(), inputs=inputs)

    def stop(self) -> None:
        if not self.scheduler.stop(5.0, final=self._all_low):
            _log.warning("%s: the camera did not answer within 5 s; its lines may stay set", self.name)
        self._link.stopped()

    # --- the scheduler's thread --------------------------------------------------------------
    def _fire(self, line: str, pulse: int) -> None:
        """A result's output instant: its line high, the other decision lines low."""
        if self._bind() is None:
            with self._lock:
                self._failed += 1  # no camera open: this part's output is lost (and counted)
            return
        if self.pulse_s > 0:
            if line:
                if self._written.get(line):
                    self._drive(line, False)  # still high (the last part, a force): a fresh edge
                self._owner[line] = pulse
                self._want[line] = True
        else:
            for other in self._decision_lines:
                self._want[other] = other == line
        self._sync()
        self._link.count_sent()

    def _release(self, line: str, pulse: int) -> None:
        if self._owner.get(line) == pulse:  # else a later pulse holds the line (or a force)
            del self._owner[line]
            self._want[line] = False
            self._sync()

    def _targets(self) -> dict[str, bool]:
        out = {line: self._want.get(line, False) for line in self._decision_lines}
        if self._error_holds and self._state_error:
            out[self.lines["error_line"]] = True
        if self.lines["ready_line"]:
            out[self.lines["ready_line"]] = self._ready
        return out

    def _sync(self) -> None:
        """Write every line whose wanted value differs from what it last got."""
        if self._bind() is None:
            return
        for line, value in self._targets().items():
            if self._written.get(line) is not value:
                self._drive(line, value)

    def _drive(self, line: str, value: bool) -> None:
        camera = self._camera
        try:
            camera.set_digital_output(line, value)
        except Exception:
            self._written.pop(line, None)  # unknown now: written again on the next sync
            raise
        self._written[line] = value
        self._healthy(camera)

    def _bind(self) -> Any:
        """The camera to write to; a new one gets every line driven to its wanted value."""
        camera = self._camera_of()
        if camera is None:
            self._camera = None
            self._link.set("connecting", "waiting for the camera to open")
            return None
        if camera is not self._camera:
            self._camera, self._written = camera, {}
            for line, value in self._targets().items():
                self._drive(line, value)
            _log.info("%s: driving the lines of %s", self.name, getattr(camera, "source_id", camera))
        return camera

    def _healthy(self, camera: Any) -> None:
        state, _detail, _ = self._link.get()
        if state != "connected":
            if self._error:
                _log.info("%s: camera outputs work again", self.name)
            self._error = ""
            self._link.set("connected", f"outputs of {getattr(camera, 'source_id', 'the camera')}")

    def _write_failed(self, exc: Exception) -> None:
        camera = self._camera
        sid = str(getattr(camera, "source_id", "") or "")
        text = str(exc) or type(exc).__name__
        text = text if not sid or sid in text else f"{sid}: {text}"
        with self._lock:
            self._failed += 1
        if text != self._error:
            self._error = text
            _log.warning("%s: %s", self.name, text)
        self._link.set("down", text)

    def _read_back(self) -> None:
        camera = self._camera
        got: dict[str, object] = {}
        if camera is not None:
            for line in sorted({v for v in self.lines.values() if v}):
                try:
                    value = camera.line_status(line)
                except Exception:  # read-back is a display aid; a failure hides that line only
                    value = None
                if value is not None:
                    got[line] = bool(value)
        with self._lock:
            self._readback = got

    def _all_low(self) -> None:
        """On stop: no line left high (a reject gate held open, READY with nobody inspecting)."""
        camera = self._camera
        if camera is None:
            return
        for line in sorted({v for v in self.lines.values() if v}):
            try:
                camera.set_digital_output(line, False)
            except Exception as exc:
                _log.warning("%s: could not drive %s low on stop: %s", self.name, line, exc)
                return
