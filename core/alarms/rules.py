"""The alarm rules: each is fed results and/or status samples and says whether its
condition holds now (and in what words). One object per rule and recipe; not thread-safe on
its own (the engine holds the lock)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from core.recipe.alarm_rules import AlarmRules

Condition = tuple[bool, str] | None  # (holds, text for the operator); None: not known yet


@dataclass(frozen=True)
class StatusSample:
    """The station's state at one tick (see :func:`core.alarms.status.sample_status`)."""

    camera_fault: str = ""  # "" when the camera is fine
    live: bool = False  # live mode: frames may be skipped by design, counted below
    received: int | None = None  # frames received from the camera so far (cumulative)
    skipped: int | None = None  # of those, not inspected (cumulative)
    free_mb: dict[str, float] = field(default_factory=dict)  # {"results": MB, "archive": MB}
    line_down: str = ""  # the line links not connected, "" when all are (or none configured)


class Rule:
    name = "rule"

    def on_result(self, verdict: str) -> None:
        pass

    def on_status(self, sample: StatusSample) -> None:
        pass

    def condition(self) -> Condition:
        raise NotImplementedError


class ConsecutiveNg(Rule):
    name = "consecutive_ng"

    def __init__(self, n: int) -> None:
        self.n, self.run = n, 0

    def on_result(self, verdict: str) -> None:
        self.run = self.run + 1 if verdict == "NG" else 0

    def condition(self) -> Condition:
        return self.run >= self.n, f"{self.run} NG parts in a row (alarm at {self.n})"


class LowYield(Rule):
    name = "low_yield"

    def __init__(self, window: int, below_pct: float) -> None:
        self.below = below_pct
        self.last: collections.deque[bool] = collections.deque(maxlen=window)
        self.ok = 0

    def on_result(self, verdict: str) -> None:
        if len(self.last) == self.last.maxlen:
            self.ok -= self.last[0]
        self.last.append(verdict == "OK")
        self.ok += verdict == "OK"

    def condition(self) -> Condition:
        n = len(self.last)
        if n < (self.last.maxlen or 0):
            return False, ""  # not enough parts yet to judge
        pct = 100.0 * self.ok / n
        return pct < self.below, f"yield {pct:.1f}% over the last {n} parts (below {self.below:g}%)"


class CameraFault(Rule):
    name = "camera_fault"

    def __init__(self) -> None:
        self.fault = ""

    def on_status(self, sample: StatusSample) -> None:
        self.fault = sample.camera_fault

    def condition(self) -> Condition:
        return bool(self.fault), f"camera: {self.fault}"


class Skipping(Rule):
    """Frames skipped over the last ``window`` frames received, from cumulative counters."""

    name = "skipping"

    def __init__(self, above_pct: float, window: int) -> None:
        self.above, self.window = above_pct, window
        self.samples: collections.deque[tuple[int, int]] = collections.deque()
        self.live = False

    def on_status(self, sample: StatusSample) -> None:
        self.live = sample.live
        if sample.received is None or sample.skipped is None:
            return
        if self.samples and sample.received < self.samples[-1][0]:
            self.samples.clear()  # a new camera session: counters started again
        self.samples.append((sample.received, sample.skipped))

    def condition(self) -> Condition:
        if not self.live:
            return False, ""
        if not self.samples:
            return None
        received, skipped = self.samples[-1]
        while len(self.samples) > 1 and self.samples[1][0] <= received - self.window:
            self.samples.popleft()  # keep one baseline at least `window` frames back
        base_r, base_s = self.samples[0]
        if received - base_r < self.window:
            return None  # not enough frames seen yet: no change
        pct = 100.0 * (skipped - base_s) / (received - base_r)
        return pct > self.above, (f"inspection skipping {pct:.1f}% of frames over the last "
                                  f"{received - base_r} (alarm above {self.above:g}%)")


class DiskSpace(Rule):
    name = "disk_space"

    def __init__(self, min_mb: float) -> None:
        self.min_mb, self.low = min_mb, {}

    def on_status(self, sample: StatusSample) -> None:
        self.low = {k: v for k, v in sample.free_mb.items() if v < self.min_mb}

    def condition(self) -> Condition:
        words = ", ".join(f"{k} disk {v:.0f} MB free" for k, v in sorted(self.low.items()))
        return bool(self.low), f"{words} (below {self.min_mb:g} MB)"


class LineDown(Rule):
    name = "line_down"

    def __init__(self) -> None:
        self.down = ""

    def on_status(self, sample: StatusSample) -> None:
        self.down = sample.line_down

    def condition(self) -> Condition:
        return bool(self.down), f"line I/O: {self.down}"


def build_rules(rules: AlarmRules) -> list[Rule]:
    """The rule objects a recipe's [alarms] table asks for."""
    out: list[Rule] = []
    if rules.consecutive_ng is not None:
        out.append(ConsecutiveNg(rules.consecutive_ng))
    if rules.yield_window is not None and rules.yield_below_pct is not None:
        out.append(LowYield(rules.yield_window, rules.yield_below_pct))
    if rules.camera_fault:
        out.append(CameraFault())
    if rules.skip_above_pct is not None:
        out.append(Skipping(rules.skip_above_pct, rules.skip_window))
    if rules.min_free_mb is not None:
        out.append(DiskSpace(rules.min_free_mb))
    if rules.line_down:
        out.append(LineDown())
    return out
