"""The line mapping's fields and their checks, on the recipe floor so that a recipe's
``[line_io]`` table and the station's ``line_io.toml`` refuse the same values with the same
words (core.lineio builds on these; core/recipe imports nothing above it)."""

from __future__ import annotations

REVIEW_AS = ("ok", "ng", "review")  # what the line is told for a REVIEW verdict
FAIL_SAFES = ("reject", "error")  # a late result becomes NG (reject) or ERROR
MAX_DEADLINE_MS = 600_000
HEARTBEAT_RANGE = (100, 60_000)
DEFAULTS = {"review_as": "ng", "deadline_ms": 0, "fail_safe": "reject", "heartbeat_ms": 1000}
RECIPE_KEYS = ("review_as", "deadline_ms", "fail_safe")  # what a recipe may override


def _int_in(key: str, value: object, lo: int, hi: int, extra: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{key} must be an integer {lo}-{hi}{extra}, got {str(value)[:40]!r}")
    return value


def check_field(key: str, value: object) -> object:
    """``value`` if it is a valid ``key`` of the mapping, else ValueError naming ``key``."""
    if key == "review_as":
        if value not in REVIEW_AS:
            raise ValueError(f"review_as must be one of {', '.join(REVIEW_AS)}, got {str(value)[:40]!r}")
        return value
    if key == "fail_safe":
        if value not in FAIL_SAFES:
            raise ValueError(f"fail_safe must be one of {', '.join(FAIL_SAFES)}, got {str(value)[:40]!r}")
        return value
    if key == "deadline_ms":
        return _int_in(key, value, 0, MAX_DEADLINE_MS, " (0: no deadline)")
    if key == "heartbeat_ms":
        return _int_in(key, value, *HEARTBEAT_RANGE)
    raise ValueError(f"unknown key {str(key)[:40]!r} (expected one of: {', '.join(DEFAULTS)})")


def check_overrides(table: object, allowed: tuple[str, ...] = RECIPE_KEYS) -> dict:
    """A validated copy of a recipe's ``[line_io]`` table (ValueError naming the key)."""
    if not isinstance(table, dict):
        raise ValueError(f"must be a table, got {str(table)[:40]!r}")
    for key in table:
        if key not in allowed:
            raise ValueError(f"unknown key {str(key)[:40]!r} (expected one of: {', '.join(allowed)})")
    return {k: check_field(k, v) for k, v in table.items()}
