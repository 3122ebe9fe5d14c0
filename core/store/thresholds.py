"""Image-level verdict rule and threshold validation.

``score < ok_limit`` is OK, ``score >= ng_limit`` is NG, anything between is REVIEW
(the band an operator looks at). ``ok_limit == ng_limit`` means no REVIEW band.
"""

from __future__ import annotations

import enum
import math


class Verdict(str, enum.Enum):
    OK = "OK"
    REVIEW = "REVIEW"
    NG = "NG"

    def __str__(self) -> str:
        return self.value


VERDICTS = tuple(v.value for v in Verdict)


def verdict_for(score: float, ok_limit: float, ng_limit: float) -> Verdict:
    """Classify an image score; a NaN score is NG (never let an unscoreable part pass)."""
    if math.isnan(score) or score >= ng_limit:
        return Verdict.NG
    if score < ok_limit:
        return Verdict.OK
    return Verdict.REVIEW


def check_limits(ok_limit: float, ng_limit: float, where: str = "thresholds") -> None:
    """Raise ValueError naming ``where`` unless both limits are finite and ok_limit <= ng_limit."""
    for name, value in (("ok_limit", ok_limit), ("ng_limit", ng_limit)):
        if not math.isfinite(value):
            raise ValueError(f"{where}.{name} must be a finite number, got {value!r}")
    if ok_limit > ng_limit:
        raise ValueError(f"{where}: ok_limit ({ok_limit}) must not exceed ng_limit ({ng_limit})")
