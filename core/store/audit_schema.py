"""The ``audit`` table of the results database (schema version 2).

Kept in the store because the store owns the database file and its migrations;
:mod:`core.audit` writes and reads it. Triggers refuse UPDATE and DELETE so the app (or a
careless SQL tool) cannot rewrite history; someone who drops them is caught by the hash
chain (:mod:`core.audit.chain`). AUTOINCREMENT keeps a deleted last row's id from being
reused, so its removal shows as a gap.
"""

AUDIT_SINCE_VERSION = 2  # the results schema version whose migration adds the table

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,              -- seconds since the Unix epoch (UTC)
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    old_value TEXT,                  -- JSON text (NULL: none)
    new_value TEXT,                  -- JSON text (NULL: none)
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
