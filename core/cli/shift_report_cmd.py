"""`lineinspect results shift-report`: a shift's report as one HTML file."""

from __future__ import annotations

import argparse
import datetime as _dt
import time
from pathlib import Path

from core.cli.main import CliError


def register_report(sub, common) -> None:
    p = sub.add_parser("shift-report", parents=[common(False, False)],
                       help="a shift's report (counts, yield, NG, alarms) as HTML",
                       description="Write the report of one shift. Without --shift and --date: "
                                   "the last shift that has ended.")
    p.add_argument("--shift", metavar="NAME", help="the shift (a name from station.toml)")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="the day the shift starts on (default: its latest start)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    p.set_defaults(func=cmd_shift_report)


def pick_span(schedule, name: str | None, date: str | None, now: float):
    """The shift occurrence the flags name; CliError in words otherwise."""
    if date is not None and name is None:
        raise CliError("--date needs --shift (which shift of that day)")
    if name is not None and name not in schedule.names:
        raise CliError(f"--shift: no shift named {name[:40]!r} (shifts: {', '.join(schedule.names)})")
    current = schedule.shift_at(now)
    if name is None:
        return schedule.previous(current)
    if date is not None:
        try:
            day = _dt.date.fromisoformat(date)
        except ValueError:
            raise CliError(f"--date must be a date YYYY-MM-DD, got {date[:40]!r}") from None
        return schedule.span_on(day, name)
    span = schedule.span_on(current.date, name)
    return span if span.start <= now else schedule.span_on(current.date - _dt.timedelta(days=1), name)


def cmd_shift_report(args: argparse.Namespace, clock=time.time) -> int:
    from core.shifts.config import ShiftConfigError, load_schedule
    from core.shifts.report import report_for_span
    from core.shifts.report_html import write_html
    from core.store import ResultsError, paths
    from core.store.archive import ImageArchive
    from core.store.results_query import ResultsQuery

    data = paths.data_dir(args.data_dir)
    try:
        schedule = load_schedule(data)
    except ShiftConfigError as exc:
        raise CliError(str(exc)) from None
    if schedule is None:
        raise CliError(f"no shifts configured: add [[shift]] tables to {data / 'station.toml'}")
    span = pick_span(schedule, args.shift, args.date, clock())
    query = ResultsQuery(paths.results_db_path(data))
    if not query.db_path.exists():
        raise CliError(f"no results recorded yet ({query.db_path})")
    archive = ImageArchive(paths.archive_dir(data))
    try:
        report = report_for_span(query, span, schedule.tz, image_file=archive.resolve, clock=clock)
        write_html(report, args.out)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        from core.cli.main import os_error_line

        raise CliError(f"cannot write {args.out}: {os_error_line(exc)}") from None
    t = report.total
    print(f"wrote the report of shift '{span.name}' {span.date:%Y-%m-%d} "
          f"({t.total if t else 0} inspected, {t.ng if t else 0} NG, {len(report.alarms)} "
          f"alarm(s)) to {args.out}")
    return 0
