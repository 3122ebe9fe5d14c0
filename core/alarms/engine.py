"""The alarm engine: fed with results (a worker consumer) and status ticks, it raises an
alarm when a rule's condition starts to hold and clears it when it stops. A raised alarm
stays open (the operator's banner) until it is acknowledged, even if its cause has cleared;
a cause that comes back after clearing raises a new alarm.

Listeners get ``(event, alarm)`` with event "raised", "cleared" or "acknowledged", in the
thread that fed the engine (keep them quick: queue, never write to disk there). Thread-safe.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.alarms.rules import Rule, StatusSample, build_rules
from core.recipe.alarm_rules import DEFAULT, AlarmRules

log = logging.getLogger(__name__)
EVENTS = ("raised", "cleared", "acknowledged")
MAX_USER = 64


class AlarmError(ValueError):
    """An alarm operation refused (unknown id, bad user name); one line."""


@dataclass(frozen=True)
class Alarm:
    id: str
    rule: str  # the rule's name, e.g. "consecutive_ng"
    text: str  # for the operator, as it was when raised
    raised_at: float  # UTC epoch seconds
    recipe: str = ""
    cleared_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None

    @property
    def active(self) -> bool:
        """Its cause still holds."""
        return self.cleared_at is None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def open(self) -> bool:
        """Still shown: active, or cleared but not yet acknowledged."""
        return self.active or not self.acknowledged


Listener = Callable[[str, Alarm], None]


class AlarmEngine:
    def __init__(self, rules: AlarmRules | None = None, *, recipe: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._alarms: dict[str, Alarm] = {}  # open ones, by id, oldest first
        self._current: dict[str, str] = {}  # rule name -> id of its active alarm
        self._rules: list[Rule] = []
        self.recipe = recipe
        self.set_rules(DEFAULT if rules is None else rules, recipe)

    # --- configuration -----------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def set_rules(self, rules: AlarmRules, recipe: str = "") -> None:
        """Judge from now on by ``rules`` (a recipe change): result windows start again;
        active alarms of rules no longer set are cleared (still shown until acknowledged)."""
        new = build_rules(rules)
        names = {r.name for r in new}
        with self._lock:
            self._rules, self.recipe = new, recipe
            gone = [n for n in self._current if n not in names]
            events = [self._clear(n) for n in gone]
        self._emit(events)

    # --- feeding -----------------------------------------------------------------------
    def __call__(self, result) -> None:
        """An InspectionWorker consumer: ``result.verdict``."""
        self.on_result(str(result.verdict))

    def on_result(self, verdict: str) -> None:
        with self._lock:
            for r in self._rules:
                r.on_result(verdict)
            events = self._evaluate()
        self._emit(events)

    def on_status(self, sample: StatusSample) -> None:
        """A status tick (camera, skipped frames, disk, line links)."""
        with self._lock:
            for r in self._rules:
                r.on_status(sample)
            events = self._evaluate()
        self._emit(events)

    def _evaluate(self) -> list[tuple[str, Alarm]]:
        events = []
        for r in self._rules:
            cond = r.condition()
            if cond is None:
                continue
            holds, text = cond
            if holds and r.name not in self._current:
                now = self.clock()
                alarm = Alarm(f"{int(now * 1000):x}-{secrets.token_hex(3)}", r.name, text, now,
                              self.recipe)
                self._alarms[alarm.id] = alarm
                self._current[r.name] = alarm.id
                events.append(("raised", alarm))
            elif not holds and r.name in self._current:
                events.append(self._clear(r.name))
        return events

    def _clear(self, rule: str) -> tuple[str, Alarm]:
        aid = self._current.pop(rule)
        alarm = dataclasses.replace(self._alarms[aid], cleared_at=self.clock())
        if alarm.open:
            self._alarms[aid] = alarm
        else:  # acknowledged before, now cleared: done
            del self._alarms[aid]
        return "cleared", alarm

    # --- operator ------------------------------------------------------------------------
    def acknowledge(self, alarm_id: str, user: str) -> Alarm:
        """Acknowledge one open alarm as ``user``; AlarmError if there is none with that id."""
        user = _check_user(user)
        with self._lock:
            alarm = self._alarms.get(alarm_id)
            if alarm is None:
                raise AlarmError(f"no open alarm with id {str(alarm_id)[:40]!r}")
            if alarm.acknowledged:
                return alarm
            alarm = dataclasses.replace(alarm, acknowledged_by=user, acknowledged_at=self.clock())
            if alarm.open:
                self._alarms[alarm_id] = alarm
            else:
                del self._alarms[alarm_id]
        self._emit([("acknowledged", alarm)])
        return alarm

    def acknowledge_all(self, user: str) -> list[Alarm]:
        """Acknowledge every open alarm not acknowledged yet (ACK_ALARM from the line)."""
        user = _check_user(user)
        done = []
        for a in self.open_alarms():
            if not a.acknowledged:
                try:
                    done.append(self.acknowledge(a.id, user))
                except AlarmError:  # cleared and gone meanwhile
                    pass
        return done

    # --- queries (any thread) ----------------------------------------------------------------
    def open_alarms(self) -> list[Alarm]:
        """What the banner shows: active or not yet acknowledged, oldest first."""
        with self._lock:
            return list(self._alarms.values())

    def unacknowledged(self) -> list[Alarm]:
        return [a for a in self.open_alarms() if not a.acknowledged]

    def text(self) -> str:
        """One line for the line interface's alarm output; "" when nothing is open."""
        return "; ".join(a.text for a in self.open_alarms())

    def _emit(self, events: list[tuple[str, Alarm]]) -> None:
        if not events:
            return
        with self._lock:
            listeners = list(self._listeners)
        for event, alarm in events:
            if event == "raised":
                log.warning("alarm raised: %s", alarm.text)
            else:
                log.info("alarm %s: %s", event, alarm.text)
            for fn in listeners:
                try:
                    fn(event, alarm)
                except Exception:  # a faulty listener must not stop the others
                    log.exception("alarm listener failed")


def _check_user(user: object) -> str:
    if not isinstance(user, str) or not user.strip() or len(user) > MAX_USER or not user.isprintable():
        raise AlarmError(f"acknowledging user must be 1-{MAX_USER} printable characters, "
                         f"got {str(user)[:40]!r}")
    return user.strip()
