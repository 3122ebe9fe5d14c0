"""Ring buffer of recent image scores that can replay them under other thresholds."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from core.recipe import check_limits


@dataclass(frozen=True)
class WhatIfCounts:
    """How the last ``total`` frames would have been judged under some thresholds."""

    total: int
    ok: int
    review: int
    ng: int


class ScoreHistory:
    """The last ``capacity`` image scores, oldest first; safe to share between threads."""

    def __init__(self, capacity: int = 500) -> None:
        if int(capacity) < 1:
            raise ValueError(f"ScoreHistory: capacity must be >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self._buf = np.zeros(self.capacity, dtype=np.float64)
        self._count = 0  # scores ever added (the write position is _count % capacity)
        self._version = 0  # changes on every add and clear
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    @property
    def total_added(self) -> int:
        """Scores added since creation or the last clear (also those already overwritten)."""
        return self._count

    @property
    def version(self) -> int:
        """Changes whenever the content changes (cheap test for 'redraw needed')."""
        return self._version

    def add(self, score: float) -> None:
        score = float(score)  # NaN is kept: it counts as NG, like the live verdict
        with self._lock:
            self._buf[self._count % self.capacity] = score
            self._count += 1
            self._version += 1

    def clear(self) -> None:
        with self._lock:
            self._count = 0
            self._version += 1

    def scores(self, last_n: int | None = None) -> np.ndarray:
        """Copy of the most recent ``last_n`` scores (all kept ones when None), oldest first."""
        with self._lock:
            n = len(self)
            if last_n is not None:
                n = max(0, min(n, int(last_n)))
            end = self._count % self.capacity
            idx = (np.arange(end - n, end)) % self.capacity
            return self._buf[idx].copy()

    def what_if(self, ok_limit: float, ng_limit: float, last_n: int | None = None) -> WhatIfCounts:
        """Count the verdicts the last ``last_n`` scores would get under the rule of
        :func:`core.recipe.verdict_for` (score < ok_limit OK, >= ng_limit or NaN NG)."""
        check_limits(ok_limit, ng_limit, "what-if thresholds")
        s = self.scores(last_n)
        ok = int(np.count_nonzero(s < ok_limit))
        ng = int(np.count_nonzero((s >= ng_limit) | np.isnan(s)))
        return WhatIfCounts(total=int(s.size), ok=ok, review=int(s.size) - ok - ng, ng=ng)
