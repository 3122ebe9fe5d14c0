"""Per-source acquisition statistics."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GrabberStats:
    """A snapshot; every counter counts since the grabber started.

    ``received``: frames the source delivered (complete or not); ``delivered``: put
    where consumers take them; ``skipped``: live mode, frames replaced by a newer one
    before a consumer took them; ``overruns``: triggered mode, frames not kept because
    the queue was full; ``incomplete``: incomplete buffers (not delivered unless
    ``deliver_incomplete``); ``timeouts``: periods of ``frame_timeout`` without a frame
    on a free-running source.
    """

    source_id: str
    state: str
    received: int = 0
    delivered: int = 0
    skipped: int = 0
    incomplete: int = 0
    timeouts: int = 0
    overruns: int = 0
    reconnects: int = 0
    errors: int = 0
    fps: float = 0.0
    queued: int = 0
    last_frame_time: float | None = None


class StatsCounter:
    """Thread-safe counters plus a frame-rate estimate over a sliding window."""

    COUNTERS = ("received", "delivered", "skipped", "incomplete", "timeouts", "overruns", "reconnects", "errors")

    def __init__(self, window: int = 30) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.COUNTERS, 0)
        self._arrivals: deque[float] = deque(maxlen=window)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def frame(self, when: float) -> None:
        with self._lock:
            self._counts["received"] += 1
            self._arrivals.append(when)

    def fps(self, now: float | None = None) -> float:
        """Frames per second over the window; decays to 0 when frames stop coming."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = list(self._arrivals)
        if len(times) < 2:
            return 0.0
        span = times[-1] - times[0]
        if span <= 0:
            return 0.0
        interval = span / (len(times) - 1)
        silence = now - times[-1]
        if silence > max(2.0, 3.0 * interval):
            return 0.0
        return (len(times) - 1) / max(span, 1e-9)

    def snapshot(self, source_id: str, state: str, queued: int) -> GrabberStats:
        fps = self.fps()
        with self._lock:
            last = self._arrivals[-1] if self._arrivals else None
            return GrabberStats(source_id=source_id, state=state, fps=fps, queued=queued,
                                last_frame_time=last, **self._counts)
