"""Parse user-given times for --since/--until: ISO dates, 'today', or durations ago."""

from __future__ import annotations

import datetime as _dt
import re
import time as _time

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds for ``2024-05-01``, ``2024-05-01T08:30`` (local unless an offset is
    given), ``now``, ``today``, ``yesterday`` or a duration ago such as ``30m``, ``24h``, ``7d``.
    """
    now = _time.time() if now is None else now
    s = text.strip().lower()
    if s == "now":
        return now
    if s in ("today", "yesterday"):
        midnight = _dt.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
        if s == "yesterday":
            midnight -= _dt.timedelta(days=1)
        return midnight.timestamp()
    m = _AGO.match(s)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        return _dt.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise ValueError(f"cannot read time {text!r}: use an ISO date or time (2024-05-01, "
                         f"2024-05-01T08:30), 'today', 'yesterday' or a duration ago "
                         f"(30m, 24h, 7d)") from None
