"""Events per second over a sliding time window."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateMeter:
    """Counts ticks; ``rate()`` is ticks per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = float(window_s)
        self._ticks: deque[float] = deque()
        self._lock = threading.Lock()

    def tick(self, t: float | None = None) -> None:
        t = time.monotonic() if t is None else t
        with self._lock:
            self._ticks.append(t)
            self._trim(t)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            if len(self._ticks) < 2:
                return 0.0
            span = max(now - self._ticks[0], 1e-9)
            return (len(self._ticks) - 1) / span if span < self.window_s else len(self._ticks) / self.window_s

    def _trim(self, now: float) -> None:
        while self._ticks and self._ticks[0] < now - self.window_s:
            self._ticks.popleft()
