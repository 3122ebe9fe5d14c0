"""Counters per shift, per recipe and per lot, with automatic roll-over at the shift's end.

A :class:`ShiftContext` is shared by the station: the schedule, the clock and the current
lot. Each recipe gets its own :class:`ShiftCounters` (see :class:`StationCounters`), so a
recipe change never carries one recipe's figures into another. Roll-over is checked on each
counted part and by :meth:`ShiftCounters.tick` (call it periodically, e.g. from the GUI's
refresh timer): when the clock has passed the shift's end the figures are handed to the
roll-over listeners (the shift report) and start again from zero. No thread, no sleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.recipe import VERDICTS, Verdict
from core.shifts.schedule import ShiftSchedule, ShiftSpan

log = logging.getLogger(__name__)
MAX_LOT = 64  # characters


def check_lot(lot: object) -> str | None:
    """A lot number as typed in or set over the line: printable text, 1-64 characters after
    stripping; "" or None means no lot."""
    if lot is None:
        return None
    if not isinstance(lot, (str, int)) or isinstance(lot, bool):
        raise ValueError(f"lot must be text, got {str(lot)[:40]!r}")
    text = str(lot).strip()
    if not text:
        return None
    if len(text) > MAX_LOT or not text.isprintable():
        raise ValueError(f"lot must be 1-{MAX_LOT} printable characters, got {text[:40]!r}")
    return text


class ShiftContext:
    """Schedule, clock and current lot, shared by all recipes' counters (thread-safe)."""

    def __init__(self, schedule: ShiftSchedule | None = None, *,
                 clock: Callable[[], float] = time.time, lot: str | None = None) -> None:
        self.schedule = schedule
        self.clock = clock
        self._lot = check_lot(lot)
        self._lock = threading.Lock()

    @property
    def lot(self) -> str | None:
        return self._lot

    def set_lot(self, lot: str | None) -> str | None:
        """Make ``lot`` the current lot (ValueError if not valid); returns it as stored."""
        lot = check_lot(lot)
        with self._lock:
            old, self._lot = self._lot, lot
        if old != lot:
            log.info("lot %s -> %s", old or "(none)", lot or "(none)")
        return lot

    def span_at(self, t: float) -> ShiftSpan | None:
        return None if self.schedule is None else self.schedule.shift_at(t)

    def labels_at(self, t: float | None = None) -> tuple[str | None, str | None]:
        """(shift name, lot) to record with a result taken at ``t``."""
        span = self.span_at(self.clock() if t is None else t)
        return (None if span is None else span.name), self._lot


@dataclass(frozen=True)
class LotCount:
    lot: str | None
    inspected: int
    ok: int
    review: int
    ng: int


@dataclass(frozen=True)
class CounterSnapshot:
    """Counts at one instant; ``yield_pct`` is OK / inspected in percent (None before the first part)."""

    inspected: int
    ok: int
    review: int
    ng: int
    started_at: float  # when counting began: the shift's start, or the last reset if later
    recipe: str = ""
    shift: str | None = None  # None: no schedule
    shift_start: float | None = None
    shift_end: float | None = None
    lot: str | None = None  # the current lot
    lots: tuple[LotCount, ...] = ()  # this shift's counts per lot, in order of first part

    @property
    def yield_pct(self) -> float | None:
        return None if self.inspected == 0 else 100.0 * self.ok / self.inspected

    def lot_count(self, lot: str | None) -> LotCount | None:
        return next((c for c in self.lots if c.lot == lot), None)


RolloverListener = Callable[["CounterSnapshot", ShiftSpan], None]


class ShiftCounters:
    """Thread-safe verdict counters of one recipe in the current shift (and per lot)."""

    def __init__(self, context: ShiftContext | None = None, recipe: str = "") -> None:
        self.context = context if context is not None else ShiftContext()
        self.recipe = recipe
        self._lock = threading.Lock()
        self._listeners: list[RolloverListener] = []
        now = self.context.clock()
        self._span = self.context.span_at(now)
        self._started_at = now if self._span is None else self._span.start
        self._lots: dict[str | None, list[int]] = {}

    def add_rollover_listener(self, fn: RolloverListener) -> None:
        """``fn(final_snapshot, ended_span)`` after a shift ended (in the caller's thread)."""
        self._listeners.append(fn)

    def labels_at(self, t: float | None = None) -> tuple[str | None, str | None]:
        """(shift, lot) for a result; the current span answers without a schedule lookup."""
        span = self._span
        now = self.context.clock() if t is None else t
        if span is not None and span.contains(now):
            return span.name, self.context.lot
        return self.context.labels_at(now)

    def add(self, verdict: Verdict | str, t: float | None = None) -> None:
        """Count one inspected part (OK, REVIEW or NG) under the current lot; rolls over first
        if the shift has ended."""
        verdict = str(verdict)
        if verdict not in VERDICTS:
            raise ValueError(f"ShiftCounters.add: unknown verdict {verdict!r}; expected one of {VERDICTS}")
        self.tick(t)
        lot = self.context.lot
        with self._lock:
            counts = self._lots.setdefault(lot, [0, 0, 0])
            counts[VERDICTS.index(verdict)] += 1

    def tick(self, now: float | None = None) -> CounterSnapshot | None:
        """Roll over when the shift has ended; returns the ended shift's final figures then."""
        span = self._span
        if span is None:
            return None
        now = self.context.clock() if now is None else now
        if span.contains(now) or now < span.start:
            return None
        with self._lock:
            if self._span is not span:  # another thread rolled over meanwhile
                return None
            final = self._snapshot_locked()
            self._span = self.context.span_at(now)
            self._started_at = self._span.start
            self._lots = {}
        log.info("shift '%s' ended for recipe '%s': %d inspected, %d NG", span.name,
                 self.recipe or "-", final.inspected, final.ng)
        for fn in list(self._listeners):
            try:
                fn(final, span)
            except Exception:  # a faulty listener must not stop counting
                log.exception("shift roll-over listener failed")
        return final

    def reset(self) -> None:
        """Zero every counter (the shift goes on; counting restarts now)."""
        with self._lock:
            self._lots = {}
            self._started_at = self.context.clock()

    def snapshot(self) -> CounterSnapshot:
        self.tick()
        with self._lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> CounterSnapshot:
        lots = tuple(LotCount(lot, sum(c), *c) for lot, c in self._lots.items())
        ok, review, ng = (sum(c[i] for c in self._lots.values()) for i in range(3))
        span = self._span
        return CounterSnapshot(
            inspected=ok + review + ng, ok=ok, review=review, ng=ng, started_at=self._started_at,
            recipe=self.recipe, shift=None if span is None else span.name,
            shift_start=None if span is None else span.start,
            shift_end=None if span is None else span.end, lot=self.context.lot, lots=lots)


class StationCounters:
    """One ShiftCounters per recipe on a shared context (what the station and the GUI hold)."""

    def __init__(self, context: ShiftContext | None = None) -> None:
        self.context = context if context is not None else ShiftContext()
        self._by_recipe: dict[str, ShiftCounters] = {}
        self._listeners: list[RolloverListener] = []
        self._lock = threading.Lock()

    def for_recipe(self, name: str) -> ShiftCounters:
        with self._lock:
            c = self._by_recipe.get(name)
            if c is None:
                c = self._by_recipe[name] = ShiftCounters(self.context, name)
                for fn in self._listeners:
                    c.add_rollover_listener(fn)
            return c

    def add_rollover_listener(self, fn: RolloverListener) -> None:
        with self._lock:
            self._listeners.append(fn)
            for c in self._by_recipe.values():
                c.add_rollover_listener(fn)

    def tick(self, now: float | None = None) -> list[CounterSnapshot]:
        """Roll every recipe's counters over if the shift has ended (a periodic call)."""
        with self._lock:
            counters = list(self._by_recipe.values())
        return [s for s in (c.tick(now) for c in counters) if s is not None]

    def recipes(self) -> list[str]:
        with self._lock:
            return sorted(self._by_recipe)
