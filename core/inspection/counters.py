"""Shift counters: how many parts were inspected since the shift began, by verdict."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from core.recipe import VERDICTS, Verdict


@dataclass(frozen=True)
class CounterSnapshot:
    """Counts at one instant; ``yield_pct`` is OK / inspected in percent (None before the first part)."""

    inspected: int
    ok: int
    review: int
    ng: int
    started_at: float  # wall-clock time (time.time()) of the last reset

    @property
    def yield_pct(self) -> float | None:
        return None if self.inspected == 0 else 100.0 * self.ok / self.inspected


class ShiftCounters:
    """Thread-safe verdict counters with a reset (the start of a shift)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {v: 0 for v in VERDICTS}
        self._started_at = time.time()

    def add(self, verdict: Verdict | str) -> None:
        """Count one inspected part; ``verdict`` must be OK, REVIEW or NG."""
        verdict = str(verdict)
        if verdict not in self._counts:
            raise ValueError(f"ShiftCounters.add: unknown verdict {verdict!r}; expected one of {VERDICTS}")
        with self._lock:
            self._counts[verdict] += 1

    def reset(self) -> None:
        """Zero every counter and restart the shift clock."""
        with self._lock:
            self._counts = {v: 0 for v in VERDICTS}
            self._started_at = time.time()

    def snapshot(self) -> CounterSnapshot:
        with self._lock:
            c = dict(self._counts)
            started = self._started_at
        return CounterSnapshot(inspected=sum(c.values()), ok=c["OK"], review=c["REVIEW"], ng=c["NG"],
                               started_at=started)
