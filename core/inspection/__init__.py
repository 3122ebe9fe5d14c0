"""Qt-free live inspection pipeline: inspector, worker thread, counters, score history."""

from core.inspection.counters import CounterSnapshot, ShiftCounters
from core.inspection.history import ScoreHistory, WhatIfCounts
from core.inspection.inspector import Inspector
from core.inspection.result import InspectionResult
from core.inspection.worker import InspectionWorker, WorkerStats

__all__ = [
    "CounterSnapshot", "InspectionResult", "InspectionWorker",
    "Inspector", "ScoreHistory", "ShiftCounters", "WhatIfCounts", "WorkerStats",
]
