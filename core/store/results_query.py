"""Read side of the results database: summaries, score distribution, last N, CSV export.

Each query opens its own short-lived read-only connection, so it can run from any thread
(the GUI, the CLI) while the writer thread commits. Time ranges are ``since`` inclusive,
``until`` exclusive, as Unix seconds or ``datetime`` (naive = local time); None = open.

Queries write nothing and never create or migrate the schema: the file is opened with
``mode=ro``; where even that fails (a full disk cannot take the WAL index of a plain open)
it is read as ``immutable`` (the main file only). A 0-byte file, or one without the results
table, is an empty database; a file that is not a database is a ResultsError.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import logging
import math
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.atomic import atomic_open
from core.store.errors import ResultsError
from core.store.records import COLUMNS, SCHEMA_VERSION, NewerSchemaError, ResultRecord, migrate

log = logging.getLogger(__name__)

TimeLike = float | int | _dt.datetime | None
CSV_HEADER = ("id", "time_utc", *COLUMNS)


class _Yield:
    ok: int
    total: int

    @property
    def yield_ratio(self) -> float:
        """First-pass yield: OK / total (REVIEW counts as not passed); NaN when total is 0."""
        return self.ok / self.total if self.total else math.nan


@dataclass(frozen=True)
class RecipeSummary(_Yield):
    recipe: str
    total: int
    ok: int
    review: int
    ng: int
    first_time: float | None
    last_time: float | None


GROUPS = ("recipe", "shift", "lot")  # what summary_by groups on


@dataclass(frozen=True)
class GroupSummary(_Yield):
    """Counts of one shift, lot or recipe; ``key`` None: results recorded without one."""

    by: str
    key: str | None
    total: int
    ok: int
    review: int
    ng: int
    first_time: float | None
    last_time: float | None


@dataclass(frozen=True)
class ScoreHistogram:
    edges: list[float]  # bins + 1 edges; scores outside [edges[0], edges[-1]] are clamped
    counts: list[int]
    total: int
    nan_count: int  # frames whose score was NaN (not in counts)


def _csv_value(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    return v


def to_epoch(t: TimeLike) -> float | None:
    if t is None:
        return None
    if isinstance(t, _dt.datetime):
        return t.timestamp()
    return float(t)


class _Conn(sqlite3.Connection):
    info: tuple[int, bool]
    cols: frozenset[str] = frozenset(COLUMNS)  # the results columns this file has


def _probe(uri: str) -> _Conn:
    """Open ``uri`` read-only and read the header (so that a failure shows here)."""
    conn = sqlite3.connect(uri, uri=True, timeout=10.0, check_same_thread=False,
                           factory=_Conn)
    try:
        conn.execute("PRAGMA query_only = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'results'").fetchone() is not None
        cols = frozenset(r[1] for r in conn.execute("PRAGMA table_info(results)"))
    except BaseException:
        conn.close()
        raise
    conn.info = (version, has)
    conn.cols = cols
    return conn


def _empty() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    migrate(conn)
    return conn


def column(conn: sqlite3.Connection, name: str) -> str:
    """``name`` for SQL, or ``NULL`` where an older (read-only) file lacks the column."""
    return name if name in getattr(conn, "cols", COLUMNS) else "NULL"


def select_list(conn: sqlite3.Connection) -> str:
    return ", ".join(c if column(conn, c) == c else f"NULL AS {c}" for c in COLUMNS)


def _where(recipe: str | None, since: TimeLike, until: TimeLike) -> tuple[str, list]:
    clauses, params = [], []
    if recipe is not None:
        clauses.append("recipe = ?")
        params.append(recipe)
    if since is not None:
        clauses.append("time >= ?")
        params.append(to_epoch(since))
    if until is not None:
        clauses.append("time < ?")
        params.append(to_epoch(until))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class ResultsQuery:
    """Queries over ``db_path``; raises ResultsError if the database does not exist."""

    def __init__(self, db_path: str | os.PathLike) -> None:
        self.db_path = Path(db_path)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        try:
            yield conn
        except sqlite3.Error as exc:
            raise ResultsError(f"{self.db_path}: cannot read results ({exc})") from None
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        path = self.db_path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ResultsError(f"no results database at {path} (nothing recorded yet)") from None
        except OSError as exc:
            raise ResultsError(f"{path}: cannot open results database ({exc})") from None
        if size == 0:  # created but never initialised (e.g. the disk filled up at once)
            return _empty()
        uri = path.resolve().as_uri()
        try:
            conn = _probe(f"{uri}?mode=ro")
        except sqlite3.OperationalError as exc:
            log.warning("%s: read-only open failed (%s); reading the main file only", path, exc)
            try:
                conn = _probe(f"{uri}?mode=ro&immutable=1")
            except sqlite3.Error as exc2:
                raise ResultsError(f"{path}: cannot open results database ({exc2})") from None
        except sqlite3.Error as exc:
            raise ResultsError(f"{path}: cannot open results database ({exc})") from None
        version, has_table = conn.info
        if version > SCHEMA_VERSION:
            conn.close()
            raise NewerSchemaError(f"{path}: results schema {version} is newer than this "
                                   f"software supports ({SCHEMA_VERSION}); update LineInspector")
        if not has_table:  # not initialised yet: nothing recorded
            conn.close()
            return _empty()
        return conn

    def summary(self, recipe: str | None = None, since: TimeLike = None,
                until: TimeLike = None) -> list[RecipeSummary]:
        """Counts per verdict and yield, one entry per recipe, sorted by recipe name."""
        where, params = _where(recipe, since, until)
        sql = ("SELECT recipe, COUNT(*), SUM(verdict = 'OK'), SUM(verdict = 'REVIEW'), "
               f"SUM(verdict = 'NG'), MIN(time), MAX(time) FROM results{where} "
               "GROUP BY recipe ORDER BY recipe")
        with self._conn() as conn:
            return [RecipeSummary(*row) for row in conn.execute(sql, params)]

    def summary_by(self, by: str, recipe: str | None = None, since: TimeLike = None,
                   until: TimeLike = None) -> list[GroupSummary]:
        """Like :meth:`summary`, grouped by ``by`` (one of GROUPS) from the stored columns;
        shifts in order of their first result, lots and recipes by name, None last."""
        if by not in GROUPS:
            raise ValueError(f"summary_by: by must be one of {', '.join(GROUPS)}, got {by!r}")
        where, params = _where(recipe, since, until)
        with self._conn() as conn:
            col = column(conn, by)
            order = "MIN(time)" if by == "shift" else "k"
            sql = (f"SELECT {col} AS k, COUNT(*), SUM(verdict = 'OK'), SUM(verdict = 'REVIEW'), "
                   f"SUM(verdict = 'NG'), MIN(time), MAX(time) FROM results{where} "
                   f"GROUP BY k ORDER BY k IS NULL, {order}")
            return [GroupSummary(by, *row) for row in conn.execute(sql, params)]

    def alarm_rows(self, since: TimeLike = None, until: TimeLike = None) -> list[tuple]:
        """Rows of the alarms table (id, rule, recipe, text, raised_at, cleared_at,
        acknowledged_by, acknowledged_at) open at some time in [since, until), oldest first."""
        clauses, params = [], []
        if until is not None:
            clauses.append("raised_at < ?")
            params.append(to_epoch(until))
        if since is not None:
            clauses.append("(cleared_at IS NULL OR cleared_at >= ?)")
            params.append(to_epoch(since))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._conn() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alarms'"
                            ).fetchone() is None:
                return []  # an older database: no alarm recorded
            return conn.execute("SELECT id, rule, recipe, text, raised_at, cleared_at, "
                                f"acknowledged_by, acknowledged_at FROM alarms{where} "
                                "ORDER BY raised_at, id", params).fetchall()

    def score_distribution(self, recipe: str | None = None, since: TimeLike = None,
                           until: TimeLike = None, *, bins: int = 50, lo: float | None = None,
                           hi: float | None = None) -> ScoreHistogram:
        """Histogram of scores, computed in SQL; the range defaults to the observed min/max."""
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        where, params = _where(recipe, since, until)
        with self._conn() as conn:
            n, nans, smin, smax = conn.execute(
                f"SELECT COUNT(*), SUM(score IS NULL), MIN(score), MAX(score) FROM results{where}",
                params).fetchone()
            lo = (smin if smin is not None else 0.0) if lo is None else float(lo)
            hi = (smax if smax is not None else 1.0) if hi is None else float(hi)
            if not hi > lo:
                hi = lo + 1e-6 * max(1.0, abs(lo))
            width = (hi - lo) / bins
            counts = [0] * bins
            score_where = where + (" AND " if where else " WHERE ") + "score IS NOT NULL"
            sql = (f"SELECT MAX(0, MIN(?, CAST((score - ?) / ? AS INTEGER))) AS b, COUNT(*) "
                   f"FROM results{score_where} GROUP BY b")
            for b, c in conn.execute(sql, [bins - 1, lo, width, *params]):
                counts[int(b)] += c
        edges = [lo + i * width for i in range(bins)] + [hi]
        return ScoreHistogram(edges, counts, int(n), int(nans or 0))

    def last(self, n: int = 100, recipe: str | None = None) -> list[ResultRecord]:
        """The ``n`` most recent results, newest first."""
        where, params = _where(recipe, None, None)
        with self._conn() as conn:
            sql = (f"SELECT id, {select_list(conn)} FROM results{where} "
                   "ORDER BY time DESC, id DESC LIMIT ?")
            return [ResultRecord.from_row(r) for r in conn.execute(sql, [*params, int(n)])]

    def iter_records(self, recipe: str | None = None, since: TimeLike = None,
                     until: TimeLike = None) -> Iterator[ResultRecord]:
        """All matching results, oldest first (streamed)."""
        where, params = _where(recipe, since, until)
        with self._conn() as conn:
            sql = f"SELECT id, {select_list(conn)} FROM results{where} ORDER BY time, id"
            for row in conn.execute(sql, params):
                yield ResultRecord.from_row(row)

    def export_csv(self, out: str | os.PathLike, recipe: str | None = None,
                   since: TimeLike = None, until: TimeLike = None) -> int:
        """Write matching results to ``out`` (atomically); returns the number of rows."""
        n = 0
        with atomic_open(out, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_HEADER)
            for r in self.iter_records(recipe, since, until):
                iso = _dt.datetime.fromtimestamp(r.time, _dt.timezone.utc).isoformat(
                    timespec="milliseconds")
                w.writerow([r.id, iso, *(_csv_value(getattr(r, c)) for c in COLUMNS)])
                n += 1
        return n
