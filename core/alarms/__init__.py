"""Alarm rules per recipe, the alarm engine (raise, clear, acknowledge), their record in the
results database and their way out to the line (stack light)."""

from core.alarms.engine import Alarm, AlarmEngine, AlarmError
from core.alarms.rules import StatusSample

__all__ = ["Alarm", "AlarmEngine", "AlarmError", "StatusSample"]
