"""Thresholds, the image-level verdict rule and their validation.

``score < ok_limit`` is OK, ``score >= ng_limit`` is NG, anything between is REVIEW
(the band an operator looks at). ``ok_limit == ng_limit`` means no REVIEW band.
:meth:`Thresholds.from_mapping` is the one way to build thresholds from a dict (a recipe
file, a bundle's calibration, the wizard's proposal, the CLI's options).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

KEYS = ("ok_limit", "ng_limit", "pixel")


def _shown(value: object) -> str:
    """``repr(value)``, cut to 60 characters (a message stays one readable line)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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


@dataclass
class Thresholds:
    """Image-level limits (REVIEW band between them) and the pixel threshold for heat maps."""

    ok_limit: float
    ng_limit: float
    pixel: float

    @classmethod
    def from_mapping(cls, m: object, where: str = "thresholds") -> Thresholds:
        """Thresholds from a mapping with ``ok_limit``, ``ng_limit`` and ``pixel`` (other keys,
        e.g. a calibration's ``false_reject_target``, are ignored). Each must be a finite
        number in [0, 1] (image scores and the anomaly map are) and ok_limit <= ng_limit;
        ValueError naming ``where`` and the key otherwise."""
        if not isinstance(m, Mapping):
            raise ValueError(f"{where} must be a table of ok_limit, ng_limit and pixel, "
                             f"got {_shown(m)}")
        for k in KEYS:
            if k not in m:
                raise ValueError(f"missing key {where}.{k}")
        for k in KEYS:
            v = m[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{where}.{k} must be a number, got {_shown(v)}")
            if not math.isfinite(v):
                raise ValueError(f"{where}.{k} must be a finite number, got {v!r}")
        ok, ng, px = (float(m[k]) for k in KEYS)
        for k, v in zip(KEYS, (ok, ng, px)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{where}.{k} must be in [0, 1] (scores are), got {v:g}")
        check_limits(ok, ng, where)
        return cls(ok, ng, px)

    def to_dict(self) -> dict[str, float]:
        """The plain mapping :meth:`from_mapping` reads (as written to TOML and JSON)."""
        return {"ok_limit": self.ok_limit, "ng_limit": self.ng_limit, "pixel": self.pixel}

    def verdict(self, score: float) -> Verdict:
        """Verdict for an image score under these limits."""
        return verdict_for(score, self.ok_limit, self.ng_limit)
