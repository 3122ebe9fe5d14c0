"""The hash chain over the audit table, and its verification.

Each entry's hash is sha256(prev_hash + canonical JSON of its fields); the first entry
chains to :data:`GENESIS`. The id is not hashed, so rows swapped by id keep valid hashes
and show as *reordered* (their links point at the wrong neighbour) rather than *edited*.
An entry removed at the end is seen through sqlite's AUTOINCREMENT counter (ids are never
reused); someone who also rewrites that counter and every later hash can only be caught
by comparing with an exported copy.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.audit.entry import HASHED, AuditEntry, AuditError, canonical
from core.store.audit_schema import AUDIT_SINCE_VERSION
from core.store.errors import ResultsError

GENESIS = hashlib.sha256(b"LineInspector audit trail").hexdigest()
SELECT = f"SELECT id, {', '.join(HASHED)}, prev_hash, hash FROM audit"


def entry_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    rows_checked: int
    bad_id: int | None = None
    problem: str = ""  # "edited", "deleted", "reordered" ("" when ok)
    message: str = ""  # one line for the user

    def __str__(self) -> str:
        return self.message


def has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'"
                        ).fetchone() is not None


def _bad(n: int, rid: int, problem: str, why: str) -> VerifyReport:
    return VerifyReport(False, n, rid, problem, f"audit trail broken at entry {rid}: {why}")


def verify_connection(conn: sqlite3.Connection) -> VerifyReport:
    """Check every entry of an open database, oldest first; stops at the first fault."""
    if not has_table(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] >= AUDIT_SINCE_VERSION:
            # the migration to this version created the table: it was dropped since
            return VerifyReport(False, 0, None, "deleted", "audit trail broken: the audit "
                                "table is missing from a database that had one (deleted)")
        return VerifyReport(True, 0, message="audit trail intact (no entries yet)")
    rows = [AuditEntry(*r) for r in conn.execute(SELECT + " ORDER BY id")]
    where = {r.hash: r.id for r in rows}
    expected, prev_id = GENESIS, 0
    for n, r in enumerate(rows, 1):
        if entry_hash(r.prev_hash, r.fields()) != r.hash:
            return _bad(n, r.id, "edited", "its content does not match its hash (edited)")
        if r.id != prev_id + 1:
            missing = (f"entry {prev_id + 1}" if r.id == prev_id + 2
                       else f"entries {prev_id + 1}..{r.id - 1}")
            return _bad(n, r.id, "deleted", f"{missing} missing (deleted)")
        if r.prev_hash != expected:
            if r.prev_hash in where:
                return _bad(n, r.id, "reordered", f"it belongs after entry "
                            f"{where[r.prev_hash]}, not after {prev_id or 'the start'} "
                            f"(reordered)")
            return _bad(n, r.id, "deleted", f"the entry before it was deleted or replaced "
                        f"(its link to entry {prev_id or 'the start'} is broken)")
        expected, prev_id = r.hash, r.id
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    if seq is not None and seq[0] > prev_id:
        missing = f"entry {prev_id + 1}" if seq[0] == prev_id + 1 else \
            f"entries {prev_id + 1}..{seq[0]}"
        return _bad(len(rows), prev_id + 1, "deleted", f"{missing} missing at the end (deleted)")
    return VerifyReport(True, len(rows), message=f"audit trail intact ({len(rows)} entries)")


def verify(db_path: str | os.PathLike) -> VerifyReport:
    """Verify the audit trail of the results database at ``db_path`` (read-only)."""
    from core.store.results_query import ResultsQuery

    if not Path(db_path).exists():
        return VerifyReport(True, 0, message="audit trail intact (no results database yet)")
    try:
        with ResultsQuery(db_path)._conn() as conn:  # read-only, as the results queries open it
            return verify_connection(conn)
    except AuditError:
        raise
    except (ResultsError, sqlite3.Error) as exc:
        raise AuditError(f"cannot read the audit trail: {exc}") from None
