"""Shift counters (kept here for the inspection pipeline's imports; the implementation,
with shifts, lots and roll-over, is :mod:`core.shifts.counters`)."""

from core.shifts.counters import CounterSnapshot, LotCount, ShiftContext, ShiftCounters, StationCounters

__all__ = ["CounterSnapshot", "LotCount", "ShiftContext", "ShiftCounters", "StationCounters"]
