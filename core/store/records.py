"""ResultRecord (one inspected frame) and the SQLite schema of the results database."""

from __future__ import annotations

import math
import sqlite3
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.recipe import VERDICTS, verdict_for
from core.store.audit_schema import AUDIT_SCHEMA, AUDIT_SINCE_VERSION
from core.store.errors import ResultsError
from core.store.marks_schema import MARKS_SCHEMA, MARKS_SINCE_VERSION
from core.store.shift_schema import SHIFT_COLUMNS, add_shifts_and_alarms

if TYPE_CHECKING:
    from core.recipe import Recipe

# What each version adds to the one before, applied in order when an older database is
# opened for writing, each in its own transaction and idempotent (two processes may migrate
# at once), so steps added by different features compose. A step is an SQL script or a
# function of the connection (called inside the transaction).
# 1: results (_SCHEMA); 2: audit trail; 3: shift and lot columns, alarms table; 4: marks.
SCHEMA_VERSION = 4
_MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], None]] = {
    AUDIT_SINCE_VERSION: AUDIT_SCHEMA, 3: add_shifts_and_alarms,
    MARKS_SINCE_VERSION: MARKS_SCHEMA}


class NewerSchemaError(ResultsError):
    """The database was written by a newer LineInspector (never retried)."""

COLUMNS_V1 = ("time", "recipe", "model_version", "ok_limit", "ng_limit", "pixel_threshold",
              "score", "verdict", "latency_ms", "frame_id", "source", "image_path",
              "heatmap_path", "archive_pruned")
COLUMNS = (*COLUMNS_V1, *SHIFT_COLUMNS)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,              -- seconds since the Unix epoch (UTC)
    recipe TEXT NOT NULL,
    model_version INTEGER,
    ok_limit REAL NOT NULL,
    ng_limit REAL NOT NULL,
    pixel_threshold REAL,
    score REAL,                      -- NULL when the score was NaN
    verdict TEXT NOT NULL CHECK (verdict IN {VERDICTS!r}),
    latency_ms REAL,
    frame_id INTEGER,
    source TEXT,
    image_path TEXT,                 -- relative to the archive folder
    heatmap_path TEXT,
    archive_pruned INTEGER NOT NULL DEFAULT 0  -- 1: files removed by retention, row kept
);
CREATE INDEX IF NOT EXISTS results_recipe_time ON results(recipe, time);
CREATE INDEX IF NOT EXISTS results_time ON results(time);
CREATE INDEX IF NOT EXISTS results_image ON results(image_path) WHERE image_path IS NOT NULL;
CREATE INDEX IF NOT EXISTS results_heatmap ON results(heatmap_path)
    WHERE heatmap_path IS NOT NULL;
"""


@dataclass(frozen=True)
class ResultRecord:
    """One inspected frame. ``id`` is None until the row is committed."""

    time: float
    recipe: str
    model_version: int | None
    ok_limit: float
    ng_limit: float
    pixel_threshold: float | None
    score: float
    verdict: str
    latency_ms: float | None = None
    frame_id: int | None = None
    source: str | None = None
    image_path: str | None = None
    heatmap_path: str | None = None
    archive_pruned: bool = False
    shift: str | None = None  # the shift's name when it was inspected (None: no schedule)
    lot: str | None = None
    id: int | None = None

    @classmethod
    def for_recipe(cls, recipe: Recipe, score: float, *, latency_ms: float | None = None,
                   frame_id: int | None = None, source: str | None = None,
                   time: float | None = None) -> ResultRecord:
        """Record a score under the recipe's thresholds and active version (verdict computed)."""
        t = recipe.thresholds
        if t is None:
            raise ResultsError(f"recipe '{recipe.name}' has no thresholds; cannot judge a score")
        return cls(time=_time.time() if time is None else time, recipe=recipe.name,
                   model_version=recipe.active_version, ok_limit=t.ok_limit,
                   ng_limit=t.ng_limit, pixel_threshold=t.pixel, score=float(score),
                   verdict=verdict_for(score, t.ok_limit, t.ng_limit).value,
                   latency_ms=latency_ms, frame_id=frame_id, source=source)

    def check(self) -> None:
        """Raise ResultsError naming the bad field; called before a record is queued."""
        def bad(field: str, why: str) -> ResultsError:
            return ResultsError(f"result record: {field} {why}, got {getattr(self, field)!r}")

        for name in ("time", "ok_limit", "ng_limit"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad(name, "must be a finite number")
        for name in ("score", "pixel_threshold", "latency_ms"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise bad(name, "must be a number")
        if self.score is None:
            raise bad("score", "must be a number")
        if not isinstance(self.recipe, str) or not self.recipe:
            raise bad("recipe", "must be a non-empty string")
        if self.verdict not in VERDICTS:
            raise bad("verdict", f"must be one of {', '.join(VERDICTS)}")
        for name in ("shift", "lot"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                raise bad(name, "must be text or None")
        for name in ("model_version", "frame_id"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise bad(name, "must be an integer or None")

    def values(self) -> tuple[Any, ...]:
        """Row values in COLUMNS order (a NaN score becomes NULL)."""
        score = None if math.isnan(self.score) else float(self.score)
        v = str(getattr(self.verdict, "value", self.verdict))
        return (float(self.time), self.recipe, self.model_version, float(self.ok_limit),
                float(self.ng_limit), self.pixel_threshold, score, v, self.latency_ms,
                self.frame_id, self.source, self.image_path, self.heatmap_path,
                int(self.archive_pruned), self.shift, self.lot)

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple) -> ResultRecord:
        """Inverse of values(), for a row selected as ``id, *COLUMNS``."""
        rid, *vals = tuple(row)
        d = dict.fromkeys(COLUMNS)
        d.update(zip(COLUMNS, vals))  # rows of an older schema lack the newest columns
        d["score"] = math.nan if d["score"] is None else d["score"]
        d["archive_pruned"] = bool(d["archive_pruned"])
        return cls(id=rid, **d)


def connect(db_path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open the results database in autocommit mode (explicit BEGIN/COMMIT), WAL, FULL sync.

    With ``create`` the folder, file and schema are created as needed; otherwise a missing
    database raises ResultsError. A database from a newer schema is refused.
    """
    db_path = Path(db_path)
    if not create and not db_path.is_file():
        raise ResultsError(f"no results database at {db_path} (nothing recorded yet)")
    try:
        if create:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=10.0, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        if create:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise NewerSchemaError(f"{db_path}: results schema {version} is newer than this "
                               f"software supports ({SCHEMA_VERSION}); update LineInspector")
        if version < SCHEMA_VERSION and (create or version >= 1):
            migrate(conn)
        return conn
    except sqlite3.DatabaseError as exc:
        raise ResultsError(f"{db_path}: cannot open results database ({exc})") from None


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to SCHEMA_VERSION: _SCHEMA on a new one, then each missing step."""
    if conn.execute("PRAGMA user_version").fetchone()[0] < 1:
        conn.executescript(_SCHEMA + "PRAGMA user_version = 1;")
    for step in range(2, SCHEMA_VERSION + 1):
        todo = _MIGRATIONS[step]
        if isinstance(todo, str):  # a script (idempotent: run again if another process did)
            if conn.execute("PRAGMA user_version").fetchone()[0] < step:
                conn.executescript(f"BEGIN IMMEDIATE;{todo}PRAGMA user_version = {step}; COMMIT;")
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:  # read again under the lock: another process may have migrated meanwhile
            if conn.execute("PRAGMA user_version").fetchone()[0] < step:
                todo(conn)
                conn.execute(f"PRAGMA user_version = {step}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
