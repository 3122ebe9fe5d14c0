"""Fault injection for the simulated sources, so that GUI and grabber tests can show
a lost camera, a stalled stream and incomplete buffers without real hardware."""

from __future__ import annotations

import threading
import time

FAULT_KINDS = ("disconnect", "stall", "incomplete")


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
        if seconds < 0 or count < 0:
            raise ValueError(f"fault {kind!r}: seconds and count must be >= 0 (got {seconds}, {count})")
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
