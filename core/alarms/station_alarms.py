"""The alarm engine hooked up to a station: rules from the running recipe, results from the
session's worker, status ticks from the camera, disks and line, every event recorded in the
results database and the open alarms on the line's alarm output. Used by the headless
station and (next) the GUI's session controller, the same way."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from core.alarms.engine import Alarm, AlarmEngine
from core.alarms.line import LineAlarm
from core.alarms.log import AlarmLog
from core.alarms.status import free_mb, sample_status
from core.recipe.alarm_rules import DEFAULT

log = logging.getLogger(__name__)


class StationAlarms:
    def __init__(self, *, line=None, db_path: str | os.PathLike | None = None,
                 disks: dict[str, str | os.PathLike] | None = None,
                 clock: Callable[[], float] = time.time, free=free_mb, audit=None) -> None:
        """``line``: a LineInterface (None: no stack light); ``db_path``: the results
        database the alarms are recorded in (None: not recorded); ``disks``: folders whose
        free space the min_free_mb rule watches; ``audit``: a core.audit AuditTrail, each
        acknowledgement made through :meth:`acknowledge` is submitted to it (never waits)."""
        self.engine = AlarmEngine(clock=clock)
        self.line, self.disks, self._free = line, dict(disks or {}), free
        self.log = None if db_path is None else AlarmLog(Path(db_path))
        if self.log is not None:
            self.engine.add_listener(self.log)
        self._line = None if line is None else LineAlarm(line, self.engine)
        self._worker = None
        self.audit = audit

    def attach(self, session) -> None:
        """Judge ``session``'s recipe by its [alarms] rules and its results from now on."""
        self.detach()
        self.use_rules(session.recipe)
        worker = getattr(session, "worker", None)
        if worker is not None:
            worker.add_consumer(self.engine)
            self._worker = worker

    def use_rules(self, recipe) -> None:
        """Judge by ``recipe``'s [alarms] rules from now on (its session attached, or the
        recipe edited while it is inspected: no restart needed)."""
        self.engine.set_rules(getattr(recipe, "alarms", None) or DEFAULT, recipe.name)

    def detach(self) -> None:
        if self._worker is not None:
            self._worker.remove_consumer(self.engine)
            self._worker = None

    def tick(self, session=None) -> None:
        """A status tick (never in the inspection thread: it asks the file system)."""
        self.engine.on_status(sample_status(session, self.line, self.disks, free=self._free))

    def acknowledge(self, alarm_id: str, user: str, role: str = "operator") -> Alarm:
        """Acknowledge one alarm (the banner's button); AlarmError if it is not open."""
        alarm = self.engine.acknowledge(alarm_id, user)
        self._audit(alarm, role)
        return alarm

    def acknowledge_all(self, user: str, role: str = "operator") -> list[Alarm]:
        done = self.engine.acknowledge_all(user)
        for alarm in done:
            self._audit(alarm, role)
        return done

    def _audit(self, alarm: Alarm, role: str) -> None:
        if self.audit is None:
            return
        try:
            self.audit.submit(alarm.acknowledged_by or "", role, "alarm_ack", target=alarm.rule,
                              new={"id": alarm.id, "text": alarm.text, "recipe": alarm.recipe},
                              time=alarm.acknowledged_at)
        except Exception as exc:  # acknowledged all the same; the audit's own error is said
            log.error("alarm acknowledgement not audited: %s", exc)

    def close(self, timeout: float = 10.0) -> bool:
        self.detach()
        if self._line is not None:
            self._line.close()
        return True if self.log is None else self.log.close(timeout)
