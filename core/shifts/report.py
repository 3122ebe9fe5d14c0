"""The shift report's figures, from the results database: counts and yield (overall, per
recipe, per lot), NG by score band, the top NG parts (with their archived images) and the
alarms open during the shift. Rendered as HTML by :mod:`core.shifts.report_html`."""

from __future__ import annotations

import datetime as _dt
import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.alarms.engine import Alarm
from core.alarms.log import read_alarms
from core.shifts.schedule import ShiftSpan
from core.store.records import ResultRecord
from core.store.results_query import GroupSummary, ResultsQuery


@dataclass(frozen=True)
class ScoreBand:
    lo: float
    hi: float
    count: int


@dataclass
class ShiftReport:
    title: str
    start: float
    end: float
    tz: _dt.tzinfo
    generated_at: float
    shift: str | None = None
    total: GroupSummary | None = None
    by_recipe: list[GroupSummary] = field(default_factory=list)
    by_lot: list[GroupSummary] = field(default_factory=list)
    ng_bands: list[ScoreBand] = field(default_factory=list)
    top_ng: list[ResultRecord] = field(default_factory=list)
    images: dict[int, Path] = field(default_factory=dict)  # record id -> archived image file
    alarms: list[Alarm] = field(default_factory=list)

    def local(self, t: float | None) -> str:
        return "-" if t is None else _dt.datetime.fromtimestamp(t, self.tz).strftime("%Y-%m-%d %H:%M:%S")


def score_bands(scores: list[float], n: int = 5) -> list[ScoreBand]:
    """``n`` equal-width bands from the lowest to the highest NG score (one if all equal)."""
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if not hi > lo:
        return [ScoreBand(lo, hi, len(scores))]
    width = (hi - lo) / n
    counts = [0] * n
    for s in scores:
        counts[min(n - 1, int((s - lo) / width))] += 1
    return [ScoreBand(lo + i * width, lo + (i + 1) * width if i < n - 1 else hi, c)
            for i, c in enumerate(counts)]


def build_report(query: ResultsQuery, start: float, end: float, *, tz: _dt.tzinfo,
                 shift: str | None = None, title: str = "", top: int = 12, bands: int = 5,
                 image_file: Callable[[str], Path | None] | None = None,
                 clock: Callable[[], float] = time.time) -> ShiftReport:
    """The figures of results in [start, end); ``image_file`` maps a stored image path to its
    file (e.g. ResultsStore.image_file); images that are gone (pruned) are left out."""
    total = query.summary_by("shift", since=start, until=end)
    overall = GroupSummary("all", shift, *(sum(getattr(g, k) for g in total)
                                          for k in ("total", "ok", "review", "ng")),
                           min((g.first_time for g in total), default=None),
                           max((g.last_time for g in total), default=None))
    ng_scores: list[float] = []
    best: list[tuple[float, int, ResultRecord]] = []
    for r in query.iter_records(since=start, until=end):
        if r.verdict != "NG" or math.isnan(r.score):
            continue
        ng_scores.append(r.score)
        item = (r.score, r.id or 0, r)
        if len(best) < top:
            heapq.heappush(best, item)
        elif item[:2] > best[0][:2]:
            heapq.heapreplace(best, item)
    top_ng = [r for _, _, r in sorted(best, key=lambda x: x[:2], reverse=True)]
    images = {}
    if image_file is not None:
        for r in top_ng:
            path = None if r.image_path is None or r.archive_pruned else image_file(r.image_path)
            if path is not None and path.is_file() and r.id is not None:
                images[r.id] = path
    name = shift or "results"
    return ShiftReport(
        title=title or f"Shift report: {name}, {_dt.datetime.fromtimestamp(start, tz):%Y-%m-%d %H:%M}",
        start=start, end=end, tz=tz, generated_at=clock(), shift=shift, total=overall,
        by_recipe=query.summary_by("recipe", since=start, until=end),
        by_lot=query.summary_by("lot", since=start, until=end),
        ng_bands=score_bands(ng_scores, bands), top_ng=top_ng, images=images,
        alarms=read_alarms(query, start, end))


def report_for_span(query: ResultsQuery, span: ShiftSpan, tz: _dt.tzinfo, **kw) -> ShiftReport:
    return build_report(query, span.start, span.end, tz=tz, shift=span.name,
                        title=f"Shift report: {span.name}, {span.date:%Y-%m-%d}", **kw)


def report_file_name(span: ShiftSpan) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in span.name)
    return f"shift-{span.date:%Y-%m-%d}-{safe}.html"
