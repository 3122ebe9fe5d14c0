"""CSV export of the audit trail (written atomically), with the hashes so a copy can be
checked against the database later."""

from __future__ import annotations

import csv
import datetime as _dt
import os
from pathlib import Path
from typing import Any

from core.atomic import atomic_open
from core.audit.trail import query

CSV_HEADER = ("id", "time_utc", "time", "user", "role", "action", "target", "old_value",
              "new_value", "reason", "prev_hash", "hash")


def export_csv(db_path: str | os.PathLike, out: str | os.PathLike, **filters: Any) -> int:
    """Write the entries matching ``filters`` (see :func:`core.audit.trail.query`) to
    ``out``; returns how many."""
    entries = query(db_path, **filters)
    with atomic_open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for e in entries:
            iso = _dt.datetime.fromtimestamp(e.time, _dt.timezone.utc).isoformat(
                timespec="milliseconds")
            w.writerow([e.id, iso, repr(e.time), e.user, e.role, e.action, e.target or "",
                        e.old_value or "", e.new_value or "", e.reason or "", e.prev_hash,
                        e.hash])
    return len(entries)


def audit_path_for(results_csv: str | os.PathLike) -> Path:
    """Where the audit trail goes beside a results export: results.csv -> results.audit.csv."""
    out = Path(results_csv)
    return out.with_name(f"{out.stem}.audit{out.suffix or '.csv'}")


def export_beside(db_path: str | os.PathLike, results_csv: str | os.PathLike,
                  since: Any = None, until: Any = None) -> tuple[Path, int]:
    """The audit entries of a results export's time range, beside it (every target: user
    management belongs to no recipe), so the results travel with the record of who changed
    what. Returns the file written and how many entries."""
    out = audit_path_for(results_csv)
    return out, export_csv(db_path, out, since=since, until=until)
