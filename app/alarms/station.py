"""The GUI station's alarms: a core.alarms StationAlarms on the controller's line, recorded
in the results database and audited, ticked by a timer whose work runs in a thread of its
own (a tick asks the file system: never on the GUI or the inspection thread)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.workers.background import Background
from core.alarms.station_alarms import StationAlarms
from core.store import paths

_log = logging.getLogger(__name__)
TICK_MS = 1000


class _AlarmLine:
    """What StationAlarms needs of a line: the alarm output (the controller's line slot,
    which outlives sessions and a Line I/O restart) and the links' states."""

    def __init__(self, control) -> None:
        self.control = control

    def update_state(self, **fields) -> None:
        self.control.slot.update_state(**fields)

    def statuses(self):
        return self.control.statuses()


def make_station_alarms(data_dir, line_control, audit, clock) -> StationAlarms:
    """Alarms for the results database of ``data_dir``, watching its results and archive
    disks; each acknowledgement submitted to ``audit`` (never waits)."""
    root = paths.data_dir(data_dir)
    db = paths.results_db_path(root)
    disks = {"results": db.parent, "archive": paths.archive_dir(root)}
    return StationAlarms(line=_AlarmLine(line_control), db_path=db, disks=disks, clock=clock,
                         audit=audit)


class AlarmTicker(QObject):
    """Status ticks for ``alarms`` every ``interval_ms``: the GUI timer only hands the tick to
    a background thread, and skips it while the previous one still runs (a slow disk)."""

    def __init__(self, alarms: StationAlarms, session: Callable[[], object],
                 interval_ms: int = TICK_MS, parent=None) -> None:
        super().__init__(parent)
        self.alarms, self._session = alarms, session
        self._work = Background("alarm-tick", self)
        self.error = ""  # the last tick's failure, "" once one works again (said once)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.timer.start()

    def tick(self) -> None:
        if not self._work.busy:
            self._work.submit(self._tick, self._session(), done=self._done)

    def _tick(self, session) -> str:
        """The tick in the worker; its failure as a message (said once, not each second)."""
        try:
            self.alarms.tick(session)
        except Exception as exc:  # e.g. a session closing under it: the next tick is fresh
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _done(self, error: str, _failed: str | None) -> None:
        if error and error != self.error:
            _log.error("alarm status tick failed: %s (said again only when it changes)", error)
        elif not error and self.error:
            _log.info("alarm status ticks work again")
        self.error = error or ""

    def stop(self) -> None:
        self.timer.stop()
        self._work.shutdown(wait=True)


def install_alarms(controller, clock: Callable[[], float]) -> None:
    """Give ``controller`` its audit trail (unless it has one), its StationAlarms and their
    ticker (started now: disks and line links are watched even while stopped)."""
    from core.audit import AuditTrail

    if getattr(controller, "audit", None) is None:
        controller.audit = AuditTrail.for_data_dir(controller.data_dir, clock=clock)
    controller.alarms = make_station_alarms(controller.data_dir, controller.line, controller.audit,
                                            clock)
    controller.alarm_ticker = AlarmTicker(controller.alarms, lambda: controller.session,
                                          parent=controller)
    controller.alarm_ticker.start()


def close_alarms(controller, timeout: float = 5.0) -> bool:
    """Stop ticking, record the last alarm events, write the submitted audit entries."""
    controller.alarm_ticker.stop()
    ok = controller.alarms.close(timeout)
    try:
        controller.audit.close()
    except Exception as exc:  # said; the window still closes
        _log.error("closing the audit trail: %s", exc)
        ok = False
    return ok
