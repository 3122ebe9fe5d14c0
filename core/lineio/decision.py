"""What the line is told for one inspected part: the verdict through the mapping, then the
deadline (a result ready after it is never sent as OK; it becomes the fail-safe). Pure
functions of the result, the mapping and the time now."""

from __future__ import annotations

import dataclasses
import math

from core.lineio.config import Mapping
from core.lineio.contract import LineResult

REVIEW_DECISION = {"ok": "OK", "ng": "NG", "review": "REVIEW"}
FAIL_SAFE_DECISION = {"reject": "NG", "error": "ERROR"}


def mapped(verdict: str, mapping: Mapping) -> str:
    """The decision for a verdict on time."""
    verdict = str(verdict)
    if verdict == "REVIEW":
        return REVIEW_DECISION[mapping.review_as]
    if verdict in ("OK", "NG"):
        return verdict
    return FAIL_SAFE_DECISION[mapping.fail_safe]  # a verdict the line cannot use: never OK


def late_by_ms(t_trigger: float, now: float, mapping: Mapping) -> float | None:
    """How far past the deadline ``now`` is (None: on time, or no deadline)."""
    if mapping.deadline_ms <= 0:
        return None
    age_ms = (now - t_trigger) * 1000.0
    return age_ms if age_ms > mapping.deadline_ms else None


def decide(result, mapping: Mapping, now: float) -> LineResult:
    """The LineResult of an InspectionResult at time ``now`` (the hub's clock)."""
    frame = result.frame
    t_trigger = float(frame.metadata.get("t_trigger", frame.timestamp))
    verdict = str(result.verdict)
    score = float(result.score) if result.score is not None else math.nan
    line = LineResult(seq=int(frame.frame_id), verdict=verdict, decision=mapped(verdict, mapping),
                      score=score, recipe=result.recipe, model_version=result.model_version,
                      t_trigger=t_trigger, t_ready=result.t_done or now,
                      wall_time=float(frame.wall_time))
    return overdue(line, mapping, now) or line


def overdue(line: LineResult, mapping: Mapping, now: float) -> LineResult | None:
    """``line`` as the fail-safe when the deadline has passed by ``now`` (None: still on
    time, already the fail-safe, or a commissioning test)."""
    if line.late or line.test:
        return None
    age = late_by_ms(line.t_trigger, now, mapping)
    if age is None:
        return None
    return dataclasses.replace(line, decision=FAIL_SAFE_DECISION[mapping.fail_safe], late=True,
                               error=f"late: {age:.0f} ms after the trigger (deadline {mapping.deadline_ms} ms)")
