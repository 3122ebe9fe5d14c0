"""`lineinspect audit ...`: check, list and export the audit trail."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

from core.cli.main import CliError
from core.cli.recipe_cmd import _common
from core.cli.results_cmd import TIME_HELP, _time


def _filters() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--since", metavar="TIME", help=f"from (inclusive): {TIME_HELP}")
    p.add_argument("--until", metavar="TIME", help=f"to (exclusive): {TIME_HELP}")
    p.add_argument("--user", help="only this user")
    p.add_argument("--action", help="only this action (deploy, thresholds, user_add...)")
    p.add_argument("--target", help="only this target (e.g. a recipe name)")
    return p


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="audit trail: verify, list, export",
                                   description="Who changed what, when and why.")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    p = sub.add_parser("verify", parents=[_common()],
                       help="check the hash chain (exit 0 intact, 1 broken)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("list", parents=[_common(), _filters()], help="show entries")
    p.add_argument("-n", type=int, default=None, help="only the newest N")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("export", parents=[_common(), _filters()], help="export to CSV")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.set_defaults(func=cmd_export)


def _db(args: argparse.Namespace) -> Path:
    from core.store import paths

    return paths.results_db_path(paths.data_dir(args.data_dir))


def _filter_args(args: argparse.Namespace) -> dict:
    return {"since": _time(args.since, "--since"), "until": _time(args.until, "--until"),
            "user": args.user, "action": args.action, "target": args.target}


def cmd_verify(args: argparse.Namespace) -> int:
    from core.audit import AuditError, verify

    try:
        report = verify(_db(args))
    except AuditError as exc:
        raise CliError(str(exc)) from None
    print(report.message)
    return 0 if report.ok else 1


def _local(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def cmd_list(args: argparse.Namespace) -> int:
    from core.audit import AuditError, query

    if args.n is not None and not 1 <= args.n <= 1_000_000:
        raise CliError(f"-n must be a whole number from 1 to 1000000, got {args.n}")
    try:
        entries = query(_db(args), **_filter_args(args), limit=args.n, newest_first=True)
    except AuditError as exc:
        raise CliError(str(exc)) from None
    for e in reversed(entries):
        change = "" if e.old_value is None and e.new_value is None else \
            f" {e.old_value or '-'} -> {e.new_value or '-'}"
        why = f" (reason: {e.reason})" if e.reason else ""
        print(f"{e.id:>6} {_local(e.time)} {e.user} [{e.role}] {e.action} "
              f"{e.target or '-'}{change}{why}")
    if not entries:
        print("no audit entries")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.audit import AuditError, export_csv

    filters = _filter_args(args)
    try:
        n = export_csv(_db(args), args.out, **filters)
    except AuditError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        from core.cli.main import os_error_line

        raise CliError(f"cannot write {args.out}: {os_error_line(exc)}") from None
    print(f"wrote {n} audit entr{'y' if n == 1 else 'ies'} to {args.out}")
    return 0
