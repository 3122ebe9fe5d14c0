"""Schema step 4 of the results database: the ``marks`` table (issue 17, reject gallery).

An engineer's verdict on an archived NG / REVIEW part: a false reject (the part was good) or
a confirmed defect. One row per result (the current mark; its history is in the audit
trail). Kept in the store because the store owns the database file and its migrations;
:mod:`core.store.marks` writes and reads it. ``IF NOT EXISTS``: idempotent.
"""

MARKS_SINCE_VERSION = 4
MARK_KINDS = ("false_reject", "confirmed_defect")

MARKS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS marks (
    result_id INTEGER PRIMARY KEY,   -- results.id of the part marked
    recipe TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {MARK_KINDS!r}),
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    time REAL NOT NULL               -- seconds since the Unix epoch (UTC)
);
CREATE INDEX IF NOT EXISTS marks_recipe ON marks(recipe, kind);
"""
