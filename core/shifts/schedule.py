"""The daily shift schedule in the station's time zone.

A shift runs from its start time to the next shift's start (across midnight for the last
one). Start times are local wall-clock times, so on DST days a shift is longer or shorter
(a 22:00-06:00 night shift lasts 7 h in spring, 9 h in autumn in Europe/Berlin). Two edge
cases are defined here:

- a start time that does not exist that day (inside the spring-forward gap, e.g. 02:30 in
  Europe/Berlin on the last Sunday of March) begins at the instant the clocks jump
  (03:00 local);
- a start time that occurs twice (autumn fall-back) begins at its first occurrence.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: object, where: str) -> _dt.time:
    """``"06:00"`` -> time(6, 0); ValueError naming ``where`` otherwise."""
    m = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{where} must be a time HH:MM (00:00 to 23:59), got {str(text)[:40]!r}")
    return _dt.time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class ShiftDef:
    name: str
    start: _dt.time  # local wall-clock time


@dataclass(frozen=True)
class ShiftSpan:
    """One occurrence of a shift: UTC epoch seconds, ``end`` exclusive; ``date`` is the local
    calendar date the shift starts on (a night shift belongs to the evening it starts)."""

    name: str
    start: float
    end: float
    date: _dt.date

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600.0


def local_start(day: _dt.date, at: _dt.time, tz: _dt.tzinfo) -> float:
    """UTC epoch of wall time ``day at`` in ``tz`` (gap: the jump; repeated: the first)."""
    naive = _dt.datetime.combine(day, at)
    early = naive.replace(tzinfo=tz, fold=0).timestamp()
    back = _dt.datetime.fromtimestamp(early, tz).replace(tzinfo=None)
    if back == naive:
        return early
    # in a gap: fold=0 read it with the offset before the jump, fold=1 with the one after;
    # the jump lies between the two, found to the second
    lo = naive.replace(tzinfo=tz, fold=1).timestamp()
    lo, hi = min(lo, early), max(lo, early)
    after = _dt.datetime.fromtimestamp(hi, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _dt.datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return float(hi)


class ShiftSchedule:
    """Named shifts on a daily schedule; immutable, so safe to share between threads."""

    def __init__(self, shifts: list[ShiftDef] | tuple[ShiftDef, ...], tz: _dt.tzinfo | str) -> None:
        if not shifts:
            raise ValueError("a shift schedule needs at least one shift")
        names = [s.name for s in shifts]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise ValueError(f"shift name {dup!r} is used twice")
        starts = [s.start for s in shifts]
        dup_t = next((t for t in starts if starts.count(t) > 1), None)
        if dup_t is not None:
            raise ValueError(f"two shifts start at {dup_t:%H:%M}")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.shifts = tuple(sorted(shifts, key=lambda s: s.start))

    @classmethod
    def daily(cls, starts: dict[str, str], tz: _dt.tzinfo | str) -> ShiftSchedule:
        """``ShiftSchedule.daily({"early": "06:00", "late": "14:00"}, "Europe/Berlin")``."""
        return cls([ShiftDef(n, parse_hhmm(s, f"shift {n!r} start")) for n, s in starts.items()], tz)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.shifts)

    def _starts(self, first: _dt.date, days: int) -> list[tuple[float, int, ShiftDef, _dt.date]]:
        out = []
        for k in range(days):
            day = first + _dt.timedelta(days=k)
            for i, s in enumerate(self.shifts):
                out.append((local_start(day, s.start, self.tz), k * len(self.shifts) + i, s, day))
        out.sort(key=lambda x: (x[0], x[1]))
        return out

    def shift_at(self, t: float) -> ShiftSpan:
        """The shift occurrence that contains UTC epoch ``t``."""
        today = _dt.datetime.fromtimestamp(t, self.tz).date()
        starts = self._starts(today - _dt.timedelta(days=2), 4)
        idx = max(i for i, (s, *_rest) in enumerate(starts) if s <= t)
        start, _, sdef, day = starts[idx]
        end = next(s for s, *_rest in starts[idx + 1:] if s > start)
        return ShiftSpan(sdef.name, start, end, day)

    def span_on(self, day: _dt.date, name: str) -> ShiftSpan:
        """The occurrence of shift ``name`` that starts on local date ``day``."""
        if name not in self.names:
            raise ValueError(f"no shift named {name!r} (shifts: {', '.join(self.names)})")
        starts = self._starts(day - _dt.timedelta(days=1), 3)
        for i, (start, _, sdef, d) in enumerate(starts):
            if sdef.name == name and d == day:
                end = next(s for s, *_rest in starts[i + 1:] if s > start)
                return ShiftSpan(name, start, end, day)
        raise AssertionError("unreachable: every shift occurs every day")

    def previous(self, span: ShiftSpan) -> ShiftSpan:
        """The shift occurrence before ``span`` (e.g. the one just ended)."""
        return self.shift_at(span.start - 1e-3)
