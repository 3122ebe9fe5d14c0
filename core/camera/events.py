"""Events that sources and grabbers report instead of crashing."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_log = logging.getLogger(__name__)


class EventKind(StrEnum):
    STARTED = "started"              # grabber thread runs and the source streams
    STOPPED = "stopped"              # grabber stopped and released the source
    TIMEOUT = "timeout"              # no frame within the read timeout (free-running source)
    INCOMPLETE = "incomplete"        # an incomplete buffer was received (and not delivered)
    OVERRUN = "overrun"              # triggered mode: queue full, this frame was not kept
    STALLED = "stalled"              # watchdog: no frame for longer than the stall timeout
    LOST = "lost"                    # the device went away (or read failed)
    RECONNECTING = "reconnecting"    # a reconnect attempt is about to be made
    RECONNECT_FAILED = "reconnect_failed"
    RECONNECTED = "reconnected"
    WARNING = "warning"              # a non-fatal problem reported by the source
    ERROR = "error"                  # an unexpected failure (still not a crash)


@dataclass(frozen=True, slots=True)
class CameraEvent:
    kind: EventKind
    source_id: str
    message: str = ""
    timestamp: float = field(default_factory=time.monotonic)
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.source_id}] {self.kind.value}: {self.message}"


EventListener = Callable[[CameraEvent], None]


class EventLog:
    """Thread-safe bounded log of events with optional listeners.

    Consumers either poll with :meth:`drain` (returns and forgets pending events) or
    register a listener (called in the emitting thread; exceptions are logged).
    ``history`` keeps the last ``maxlen`` events regardless of draining.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._lock = threading.Lock()
        self._pending: deque[CameraEvent] = deque(maxlen=maxlen)
        self._history: deque[CameraEvent] = deque(maxlen=maxlen)
        self._listeners: list[EventListener] = []
        self.lost_to_overflow = 0

    def emit(self, event: CameraEvent) -> None:
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                self.lost_to_overflow += 1
            self._pending.append(event)
            self._history.append(event)
            listeners = list(self._listeners)
        level = logging.WARNING if event.kind in _NOTEWORTHY else logging.DEBUG
        _log.log(level, "%s", event)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a consumer bug must not kill the grabber
                _log.exception("camera event listener failed on %s", event)

    def drain(self) -> list[CameraEvent]:
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
        return out

    def history(self) -> list[CameraEvent]:
        with self._lock:
            return list(self._history)

    def add_listener(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


_NOTEWORTHY = {
    EventKind.LOST, EventKind.STALLED, EventKind.RECONNECT_FAILED, EventKind.RECONNECTED,
    EventKind.OVERRUN, EventKind.ERROR, EventKind.WARNING, EventKind.INCOMPLETE,
}
