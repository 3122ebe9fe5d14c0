"""Fault injection for the simulated sources, so that GUI and grabber tests can show
a lost camera, a stalled stream and incomplete buffers without real hardware."""

from __future__ import annotations

import math
import threading
import time
from numbers import Integral

FAULT_KINDS = ("disconnect", "stall", "incomplete")


MAX_FAULT_SECONDS = 3600.0
MAX_FAULT_COUNT = 1_000_000


def _check_seconds(kind: str, seconds: object) -> float:
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(seconds, bool) or not (math.isfinite(value) and 0.0 <= value <= MAX_FAULT_SECONDS):
        raise ValueError(f"fault {kind!r}: seconds must be a number from 0 to {MAX_FAULT_SECONDS:g}, "
                         f"got {seconds!r}")
    return value


def _check_count(kind: str, count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, Integral) or not 0 <= count <= MAX_FAULT_COUNT:
        raise ValueError(f"fault {kind!r}: count must be a whole number from 0 to {MAX_FAULT_COUNT}, "
                         f"got {count!r}")
    return int(count)


class FaultInjector:
    """Thread-safe fault state of one source.

    * ``disconnect``: reads raise SourceLostError and re-opening fails for ``seconds``.
    * ``stall``: the stream delivers nothing (reads time out) for ``seconds``.
    * ``incomplete``: the next ``count`` frames arrive truncated with ``complete=False``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._disconnected_until = 0.0
        self._stalled_until = 0.0
        self._incomplete_left = 0

    def inject(self, kind: str, seconds: float = 2.0, count: int = 1) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
        seconds, count = _check_seconds(kind, seconds), _check_count(kind, count)
        now = time.monotonic()
        with self._lock:
            if kind == "disconnect":
                self._disconnected_until = now + seconds
            elif kind == "stall":
                self._stalled_until = now + seconds
            else:
                self._incomplete_left += int(count)

    def clear(self) -> None:
        with self._lock:
            self._disconnected_until = self._stalled_until = 0.0
            self._incomplete_left = 0

    def disconnected_for(self) -> float:
        """Seconds of simulated disconnect left (0 when connected)."""
        return max(0.0, self._disconnected_until - time.monotonic())

    def stalled_for(self) -> float:
        return max(0.0, self._stalled_until - time.monotonic())

    def take_incomplete(self) -> bool:
        with self._lock:
            if self._incomplete_left > 0:
                self._incomplete_left -= 1
                return True
            return False
