"""`lineinspect results ...`: summary, last results, CSV export, archive retention."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
from pathlib import Path

from core.cli.main import CliError

TIME_HELP = "ISO date/time (2024-05-01, 2024-05-01T08:30), 'today', or ago: 30m, 24h, 7d"


def _common(with_range: bool = True, with_recipe: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data folder (default: $LINEINSPECTOR_DATA or the platform's user "
                        "data folder)")
    if with_recipe:
        p.add_argument("--recipe", metavar="NAME", help="only this recipe")
    if with_range:
        p.add_argument("--since", metavar="TIME", help=f"from (inclusive): {TIME_HELP}")
        p.add_argument("--until", metavar="TIME", help=f"to (exclusive): {TIME_HELP}")
    return p


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("results", help="inspection results: summary, export",
                                   description="Query and export recorded inspection results.")
    sub = parser.add_subparsers(dest="results_command", metavar="ACTION", required=True)

    p = sub.add_parser("summary", parents=[_common()],
                       help="counts and yield per recipe, shift or lot")
    p.add_argument("--by", default="recipe", metavar="recipe|shift|lot",
                   help="group by recipe (default), shift name or lot number")
    p.set_defaults(func=cmd_summary)

    from core.cli.shift_report_cmd import register_report

    register_report(sub, _common)

    p = sub.add_parser("last", parents=[_common(False)], help="the most recent results")
    p.add_argument("-n", type=int, default=20, help="how many (default 20)")
    p.set_defaults(func=cmd_last)

    p = sub.add_parser("export", parents=[_common()], help="export results to CSV")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.add_argument("--no-audit", action="store_true",
                   help="do not write the audit trail beside it (FILE.audit.csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("prune", parents=[_common(False, False)],
                       help="delete old archived images (database rows are kept)")
    p.add_argument("--max-age-days", type=float, help="remove images older than this")
    p.add_argument("--max-size-mb", type=float, help="keep the archive under this size")
    p.set_defaults(func=cmd_prune)


def _time(text: str | None, option: str) -> float | None:
    from core.cli.timespec import parse_time

    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _query(args: argparse.Namespace):
    from core.store import ResultsQuery, paths

    return ResultsQuery(paths.results_db_path(paths.data_dir(args.data_dir)))


def _local(t: float | None) -> str:
    return "-" if t is None else _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def cmd_summary(args: argparse.Namespace) -> int:
    from core.store import ResultsError

    from core.store.results_query import GROUPS

    if args.by not in GROUPS:
        raise CliError(f"--by must be one of {', '.join(GROUPS)}, got {args.by[:40]!r}")
    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    query = _query(args)
    if not query.db_path.exists():
        print(f"no results recorded yet ({query.db_path})")
        return 0
    if args.by != "recipe":
        return _summary_by(query, args.by, args.recipe, since, until)
    try:
        rows = query.summary(args.recipe, since, until)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    if not rows:
        print("no results in this range")
        return 0
    print(f"{'recipe':<24} {'total':>8} {'OK':>8} {'REVIEW':>8} {'NG':>8} {'yield':>7}  "
          f"first / last")
    for r in rows:
        print(f"{r.recipe:<24} {r.total:>8} {r.ok:>8} {r.review:>8} {r.ng:>8} "
              f"{_pct(r.yield_ratio):>7}  {_local(r.first_time)} / {_local(r.last_time)}")
    if len(rows) > 1:
        tot = [sum(getattr(r, k) for r in rows) for k in ("total", "ok", "review", "ng")]
        print(f"{'(all)':<24} {tot[0]:>8} {tot[1]:>8} {tot[2]:>8} {tot[3]:>8} "
              f"{_pct(tot[1] / tot[0]):>7}")
    return 0


def _summary_by(query, by: str, recipe: str | None, since, until) -> int:
    from core.store import ResultsError

    try:
        rows = query.summary_by(by, recipe, since, until)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    if not rows:
        print("no results in this range")
        return 0
    print(f"{by:<24} {'total':>8} {'OK':>8} {'REVIEW':>8} {'NG':>8} {'yield':>7}  first / last")
    for r in rows:
        key = r.key if r.key is not None else f"(no {by})"
        print(f"{key[:24]:<24} {r.total:>8} {r.ok:>8} {r.review:>8} {r.ng:>8} "
              f"{_pct(r.yield_ratio):>7}  {_local(r.first_time)} / {_local(r.last_time)}")
    return 0


def _pct(ratio: float) -> str:
    return "-" if math.isnan(ratio) else f"{100 * ratio:.1f}%"


MAX_LAST = 1_000_000  # rows `results last` prints (use `results export` for more)


def cmd_last(args: argparse.Namespace) -> int:
    from core.store import ResultsError

    if not 1 <= args.n <= MAX_LAST:
        raise CliError(f"-n must be a whole number from 1 to {MAX_LAST}, got {args.n}")
    query = _query(args)
    if not query.db_path.exists():
        print(f"no results recorded yet ({query.db_path})")
        return 0
    try:
        records = query.last(args.n, args.recipe)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    for r in records:
        print(f"{r.id:>8} {_local(r.time)} {r.recipe:<20} v{r.model_version or '-':<4} "
              f"{r.verdict:<6} score {r.score:.4g} "
              f"[{r.ok_limit:g}, {r.ng_limit:g}] {r.latency_ms or 0:.1f} ms "
              f"frame {r.frame_id if r.frame_id is not None else '-'}"
              f"{'  ' + r.image_path if r.image_path else ''}"
              f"{' (pruned)' if r.archive_pruned else ''}")
    if not records:
        print("no results")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.store import ResultsError

    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    try:
        n = _query(args).export_csv(args.out, args.recipe, since, until)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        from core.cli.main import os_error_line

        raise CliError(f"cannot write {args.out}: {os_error_line(exc)}") from None
    print(f"wrote {n} result(s) to {args.out}")
    if not args.no_audit:
        _export_audit(args, since, until)
    return 0


def _export_audit(args: argparse.Namespace, since: float | None, until: float | None) -> None:
    from core.audit import AuditError, audit_path_for, export_beside

    out = audit_path_for(args.out)
    try:
        out, n = export_beside(_query(args).db_path, args.out, since, until)
    except AuditError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        from core.cli.main import os_error_line

        raise CliError(f"cannot write {out}: {os_error_line(exc)}") from None
    print(f"wrote {n} audit entr{'y' if n == 1 else 'ies'} to {out}")


def cmd_prune(args: argparse.Namespace) -> int:
    from core.store import ResultsStore, StoreError
    from core.store.retention import RetentionPolicy, check_number

    if args.max_age_days is None and args.max_size_mb is None:
        raise CliError("give --max-age-days and/or --max-size-mb")
    try:  # 0, negative, NaN or infinite limits would wipe the archive: refused
        age = None if args.max_age_days is None else \
            check_number("max_age_days", args.max_age_days, label="--max-age-days")
        size = None if args.max_size_mb is None else \
            check_number("max_size_mb", args.max_size_mb, label="--max-size-mb")
        # explicit limits only: the station's automatic retention does not run here
        with ResultsStore(args.data_dir, retention=RetentionPolicy()) as store:
            report = store.apply_retention(max_age_days=age, max_total_mb=size)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(f"removed {len(report.removed)} archived file(s), freed "
          f"{report.bytes_freed / 1e6:.1f} MB, {report.bytes_left / 1e6:.1f} MB left")
    if report.removed:
        from core.cli.cli_actor import record

        record(args, "results_prune", "archive", None,
               {"max_age_days": age, "max_size_mb": size, "files_removed": len(report.removed),
                "bytes_freed": report.bytes_freed})
    return 0
