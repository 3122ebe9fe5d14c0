"""Learning-rate schedule, faithful to the official MultiStepLR (x0.2 at 80% and 90%).

Without a budget it is expressed in steps. With a wall-clock budget the decays land at
80% and 90% of the budget's time, so they happen even when the machine slows down
mid-run (another job on the same cores); the ``BudgetPlanner`` estimates the total step
count from the measured step time for progress and ETA.
"""

from __future__ import annotations

import time


def lr_at(step: int, total: int, base_lr: float, milestones=(0.8, 0.9), gamma: float = 0.2) -> float:
    passed = sum(1 for m in milestones if step >= int(m * total))
    return base_lr * gamma**passed


def lr_at_fraction(fraction: float, base_lr: float, milestones=(0.8, 0.9), gamma: float = 0.2) -> float:
    """The same schedule over the fraction of a time budget that has elapsed."""
    passed = sum(1 for m in milestones if fraction >= m)
    return base_lr * gamma**passed


class BudgetPlanner:
    """Turns a time budget into a step count, refined as step times are measured."""

    def __init__(self, seconds: float, start_step: int = 0, warmup: int = 3, max_steps: int | None = None):
        self.seconds = float(seconds)
        self.start_step = start_step
        self.warmup = warmup
        self.max_steps = max_steps
        self._t0: float | None = None
        self._s0 = start_step
        self.begin = time.monotonic()

    def total(self, step: int, current_total: int) -> int:
        """Estimated total steps given that ``step`` steps are done now."""
        now = time.monotonic()
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
        return time.monotonic() - self.begin >= self.seconds
