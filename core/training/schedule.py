"""Learning-rate schedules over the fraction of the run done: the official MultiStepLR
(x0.2 at 80% and 90%) or a cosine decay, either after an optional linear warm-up.

Without a budget the fraction is of the steps. With a wall-clock budget it is of the
budget's time, so the decays land at 80% and 90% of it even when the machine slows down
mid-run (another job on the same cores); the ``BudgetPlanner`` estimates the total step
count from the measured step time for progress and ETA.
"""

from __future__ import annotations

import math
import time
from typing import Callable

COSINE_FLOOR = 0.02  # the cosine schedule ends at 2 % of the base learning rate


def lr_factor(fraction: float, schedule: str = "step", warmup: float = 0.0,
              milestones=(0.8, 0.9), gamma: float = 0.2) -> float:
    """Multiplier of the base learning rate at ``fraction`` (0..1) of the run: a linear
    warm-up over the first ``warmup`` of it, then the paper's steps or a cosine decay."""
    f = min(max(float(fraction), 0.0), 1.0)
    if warmup > 0 and f < warmup:
        return max(f / warmup, 1e-3)
    if schedule == "cosine":
        q = (f - warmup) / max(1e-9, 1.0 - warmup)
        return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * q))
    return gamma ** sum(1 for m in milestones if f >= m)


class BudgetPlanner:
    """Turns a time budget into a step count, refined as step times are measured.

    ``clock`` is the time source (``time.monotonic``; tests pass a fake one).
    """

    def __init__(self, seconds: float, start_step: int = 0, warmup: int = 3, max_steps: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.seconds = float(seconds)
        self.start_step = start_step
        self.warmup = warmup
        self.max_steps = max_steps
        self.clock = clock
        self._t0: float | None = None
        self._s0 = start_step
        self.begin = clock()

    def elapsed(self) -> float:
        return self.clock() - self.begin

    def total(self, step: int, current_total: int | None) -> int | None:
        """Estimated total steps given that ``step`` steps are done now (``current_total``,
        None at first, until the step time is measured)."""
        now = self.clock()
        if step - self.start_step == self.warmup:
            self._t0, self._s0 = now, step
        if self._t0 is None or step <= self._s0:
            return current_total
        per_step = (now - self._t0) / (step - self._s0)
        remaining = self.seconds - (now - self.begin)
        total = step + max(0, int(remaining / per_step))
        if self.max_steps is not None:
            total = min(total, self.max_steps)
        return max(total, step + 1) if remaining > 0 else step

    def expired(self) -> bool:
        return self.clock() - self.begin >= self.seconds
