"""A bounded first-in first-out queue of messages on disk (one sqlite3 file, WAL), for the MQTT
link: a result is put here before it is sent and removed only once the broker confirmed it,
so results outlive a broker outage and a restart of the station.

Bound: at most ``max_messages``; when full the OLDEST message is dropped and counted (the
count is kept in the file too). Dropping the oldest keeps the newest parts, which is what a
consumer catching up after an outage needs most; the drop count says how many went.

Durability: WAL with synchronous=NORMAL survives the process being killed at any point (a
committed put is on disk); after a power cut the last few puts may be lost. A file that is
not a readable queue (corrupt, truncated, another program's) is renamed aside
(``<name>.corrupt-<time>``) with an error in the log, and a fresh queue is started.

Thread-safe: one connection behind a lock; ``len()`` and ``dropped`` never wait for it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never come back after a drain
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
MAX_MESSAGES = 1_000_000


def _cannot_open(exc: sqlite3.DatabaseError) -> bool:
    """sqlite's "unable to open", "readonly", "locked", "disk I/O error" (an OperationalError)
    as opposed to a file that is not a queue (not a database, malformed, other tables)."""
    return isinstance(exc, sqlite3.OperationalError) and "no such" not in str(exc)


@dataclass(frozen=True)
class QueuedMessage:
    id: int  # increases with every put; the order messages go out in
    topic: str
    payload: bytes


class DiskQueue:
    def __init__(self, path: str | Path, max_messages: int = 100_000) -> None:
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) \
                or not 1 <= max_messages <= MAX_MESSAGES:
            raise ValueError(f"max_messages must be an integer 1-{MAX_MESSAGES}, got {max_messages!r}")
        self.path = Path(path)
        self.max_messages = max_messages
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db, self._count, self._dropped = self._open()
        except sqlite3.DatabaseError as exc:
            if _cannot_open(exc):  # not the file's fault: permissions, a lock, a full disk
                raise OSError(f"{exc}") from None
            aside = self._move_aside()
            _log.error("MQTT queue %s is unreadable (%s): renamed to %s, starting an empty queue",
                       self.path, exc, aside.name)
            self._db, self._count, self._dropped = self._open()
        if self._count:
            _log.info("MQTT queue %s: %d message(s) waiting from before", self.path, self._count)

    def _open(self) -> tuple[sqlite3.Connection, int, int]:
        db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        try:
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
                raise sqlite3.DatabaseError("cannot switch to WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            db.executescript(SCHEMA)
            db.execute("SELECT id, topic, payload FROM messages LIMIT 0")  # another program's table?
            db.execute("SELECT key, value FROM meta LIMIT 0")
            count = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            row = db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
            dropped = int(row[0]) if row else 0
        except BaseException:
            db.close()
            raise
        return db, int(count), dropped

    def _move_aside(self) -> Path:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            n += 1
            aside = aside.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):  # the old file's journal must not be applied to the new one
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.replace(aside.with_name(aside.name + suffix))
        return aside

    # --- the queue ---------------------------------------------------------------------------
    def put(self, topic: str, payload: bytes | str) -> int:
        """Append one message (dropping the oldest when full); its id."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                new_id = db.execute("INSERT INTO messages (topic, payload) VALUES (?, ?)", (topic, data)).lastrowid
                over = self._count + 1 - self.max_messages
                if over > 0:
                    db.execute("DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?)",
                               (over,))
                    db.execute("INSERT INTO meta (key, value) VALUES ('dropped', ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (self._dropped + over,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if over > 0:
                self._dropped += over
                if self._dropped == over or self._dropped % 1000 < over:
                    _log.warning("MQTT queue %s full (%d): oldest message(s) dropped, %d so far",
                                 self.path, self.max_messages, self._dropped)
            self._count = min(self._count + 1, self.max_messages)
            return int(new_id)

    def peek(self, after: int = 0, limit: int = 100) -> list[QueuedMessage]:
        """Up to ``limit`` messages with an id above ``after``, oldest first (not removed)."""
        with self._lock:
            rows = self._db.execute("SELECT id, topic, payload FROM messages WHERE id > ? ORDER BY id LIMIT ?",
                                    (int(after), int(limit))).fetchall()
        return [QueuedMessage(int(i), str(t), bytes(p)) for i, t, p in rows]

    def ack(self, message_id: int) -> bool:
        """Remove a message the broker confirmed; False when it was not there (dropped)."""
        with self._lock:
            gone = self._db.execute("DELETE FROM messages WHERE id = ?", (int(message_id),)).rowcount
            self._count -= gone
        return gone > 0

    def __len__(self) -> int:
        return self._count

    @property
    def dropped(self) -> int:
        """Messages dropped because the queue was full, since the file was created."""
        return self._dropped

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:  # closing must not fail a stop
                _log.exception("MQTT queue %s: close failed", self.path)
