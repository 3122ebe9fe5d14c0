"""Shifts and lots: the daily shift schedule, per-shift / per-recipe / per-lot counters with
automatic roll-over, and the shift report."""

from core.shifts.schedule import ShiftDef, ShiftSchedule, ShiftSpan

__all__ = ["ShiftDef", "ShiftSchedule", "ShiftSpan"]
