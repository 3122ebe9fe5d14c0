"""A recipe's ``[alarms]`` table: which alarm rules the engineer set for this part, with
their numbers. Validated here (the recipe floor); evaluated by :mod:`core.alarms`.

    [alarms]
    consecutive_ng = 5          # N NG parts in a row
    yield_window = 200          # yield over the last M parts ...
    yield_below_pct = 90.0      # ... below X %
    camera_fault = true         # the camera stalls, disconnects or errors
    skip_above_pct = 20.0       # live mode: more than Y % of frames not inspected ...
    skip_window = 1000          # ... over the last this many frames (default 1000)
    min_free_mb = 500           # results / archive disk with less free space
    line_down = true            # a line I/O link is not connected

A recipe without the table gets :data:`DEFAULT` (camera fault and line link down only).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

KEYS = ("consecutive_ng", "yield_window", "yield_below_pct", "camera_fault",
        "skip_above_pct", "skip_window", "min_free_mb", "line_down")
MAX_PARTS = 1_000_000
#: each number's valid range (lowest, highest, whether the lowest itself is allowed): checked
#: here, and the window's recipe settings offer only these (one table, no second copy)
RANGES = {"consecutive_ng": (1, MAX_PARTS, True), "yield_window": (1, MAX_PARTS, True),
          "yield_below_pct": (0, 100, False), "skip_above_pct": (0, 100, True),
          "skip_window": (10, 100 * MAX_PARTS, True), "min_free_mb": (0, 10_000_000, False)}


@dataclass(frozen=True)
class AlarmRules:
    consecutive_ng: int | None = None
    yield_window: int | None = None
    yield_below_pct: float | None = None
    camera_fault: bool = True
    skip_above_pct: float | None = None
    skip_window: int = 1000
    min_free_mb: float | None = None
    line_down: bool = True

    def to_dict(self) -> dict:
        """TOML-ready (None left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


DEFAULT = AlarmRules()


def _int(d: dict, key: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    lo, hi, _ = RANGES[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"alarms.{key} must be a whole number from {lo} to {hi}, got {str(v)[:40]!r}")
    return v


def _number(v: object, key: str) -> bool:
    """``v`` is a number in ``RANGES[key]``."""
    lo, hi, lo_ok = RANGES[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return False
    return (lo <= v if lo_ok else lo < v) and v <= hi


def _pct(d: dict, key: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if not _number(v, key):
        lo = "0" if RANGES[key][2] else "above 0"
        raise ValueError(f"alarms.{key} must be a percentage from {lo} to 100, got {str(v)[:40]!r}")
    return float(v)


def _bool(d: dict, key: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise ValueError(f"alarms.{key} must be true or false, got {str(v)[:40]!r}")
    return v


def check_alarm_rules(data: object) -> AlarmRules:
    """The rules of an ``[alarms]`` table; ValueError naming the field otherwise."""
    if not isinstance(data, dict):
        raise ValueError(f"alarms must be a table, got {str(data)[:40]!r}")
    for k in data:
        if k not in KEYS:
            raise ValueError(f"unknown key alarms.{str(k)[:30]} (expected one of: {', '.join(KEYS)})")
    window, below = _int(data, "yield_window"), _pct(data, "yield_below_pct")
    if (window is None) != (below is None):
        raise ValueError("alarms.yield_window and alarms.yield_below_pct go together: set both or neither")
    free = data.get("min_free_mb")
    if free is not None and not _number(free, "min_free_mb"):
        raise ValueError(f"alarms.min_free_mb must be a number of MB above 0, got {str(free)[:40]!r}")
    skip_window = _int(data, "skip_window")
    return AlarmRules(
        consecutive_ng=_int(data, "consecutive_ng"), yield_window=window,
        yield_below_pct=below, camera_fault=_bool(data, "camera_fault", True),
        skip_above_pct=_pct(data, "skip_above_pct"),
        skip_window=1000 if skip_window is None else skip_window,
        min_free_mb=None if free is None else float(free), line_down=_bool(data, "line_down", True))
