"""Schema step 2 of the results database: ``shift`` and ``lot`` columns on every result
(issue 17, shifts and lots) and the ``alarms`` table. Idempotent: it checks before it alters,
so it composes with other steps whatever order they were added in."""

from __future__ import annotations

import sqlite3

SHIFT_COLUMNS = ("shift", "lot")  # appended to the results columns

ALARMS_TABLE = """
CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY,            -- the alarm's id (unique per station)
    rule TEXT NOT NULL,
    recipe TEXT,
    text TEXT NOT NULL,
    raised_at REAL NOT NULL,        -- seconds since the Unix epoch (UTC)
    cleared_at REAL,
    acknowledged_by TEXT,
    acknowledged_at REAL
);
CREATE INDEX IF NOT EXISTS alarms_raised ON alarms(raised_at);
"""


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def add_shifts_and_alarms(conn: sqlite3.Connection) -> None:
    """Called inside a transaction by :func:`core.store.records.migrate`."""
    have = columns(conn, "results")
    for col in SHIFT_COLUMNS:
        if col not in have:
            conn.execute(f"ALTER TABLE results ADD COLUMN {col} TEXT")
    conn.execute("CREATE INDEX IF NOT EXISTS results_shift_time ON results(shift, time)")
    conn.execute("CREATE INDEX IF NOT EXISTS results_lot ON results(lot) WHERE lot IS NOT NULL")
    for stmt in ALARMS_TABLE.split(";"):
        if stmt.strip():
            conn.execute(stmt)
