"""The spill file of the results writer: rows (and prune flags) not yet in the database.

When the writer cannot commit (disk full, database locked) and its in-memory queue is full,
new items are appended here, one JSON line each, fsynced; on :meth:`ResultsWriter.close`
with the database still unwritable, the in-memory queue is saved here too. The writer
drains the file (oldest first) when it can write again, also after a restart.

Draining renames ``NAME.pending.jsonl`` to ``NAME.pending.draining.jsonl`` first, so that
items appended meanwhile go to a fresh file and the order stays oldest first. A line torn
by a crash is skipped with a warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from core.atomic import atomic_open
from core.store.records import COLUMNS, COLUMNS_V1, ResultRecord

log = logging.getLogger(__name__)

Item = tuple[str, object]  # ("row", ResultRecord) or ("prune", [path, ...])


def encode(item: Item) -> str:
    kind, payload = item
    if kind == "row":
        return json.dumps({"row": list(payload.values())}) + "\n"
    return json.dumps({"prune": list(payload)}) + "\n"


def decode(line: str) -> Item | None:
    try:
        obj = json.loads(line)
        if "row" in obj:
            vals = obj["row"]
            if not len(COLUMNS_V1) <= len(vals) <= len(COLUMNS):  # older rows lack shift, lot
                raise ValueError(f"{len(vals)} values, expected {len(COLUMNS)}")
            return "row", ResultRecord.from_row((None, *vals))
        return "prune", [str(p) for p in obj["prune"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("results journal: skipping an unreadable line (%s)", exc)
        return None


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


class PendingJournal:
    """``capacity`` bounds the items in the file (beyond it appends fail with OSError)."""

    def __init__(self, path: str | os.PathLike, capacity: int) -> None:
        self.path = Path(path)
        self.draining_path = self.path.with_name(self.path.stem + ".draining.jsonl")
        self.capacity = capacity
        self.count = _count_lines(self.path)
        self.draining_count = _count_lines(self.draining_path)
        self.last_seq = 0  # highest writer sequence number appended (this run)
        self.draining_last_seq = 0
        self._pos = 0  # bytes of the draining file already committed

    @property
    def total(self) -> int:
        return self.count + self.draining_count

    def append(self, item: Item, seq: int) -> None:
        """Append one item durably; raises OSError (disk full, capacity reached)."""
        if self.count >= self.capacity:
            raise OSError(f"{self.path}: journal full ({self.capacity} items)")
        line = encode(item).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            start = fh.tell()
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError:
                with contextlib.suppress(OSError):  # do not leave half a line behind
                    fh.truncate(start)
                raise
        self.count += 1
        self.last_seq = max(self.last_seq, seq)

    def save_before(self, items: list[Item]) -> None:
        """Write ``items`` at the head of the journal (they are older than its lines)."""
        if not items:
            return
        with atomic_open(self.path, "wb") as out:
            for item in items:
                out.write(encode(item).encode())
            with contextlib.suppress(FileNotFoundError), self.path.open("rb") as old:
                while chunk := old.read(1 << 20):
                    out.write(chunk)
        self.count += len(items)

    def start_drain(self) -> bool:
        """Make the journal the draining file (if none is being drained); True if any."""
        if self.draining_count == 0 and self.count:
            os.replace(self.path, self.draining_path)
            self.draining_count, self.count = self.count, 0
            self.draining_last_seq, self.last_seq = self.last_seq, 0
            self._pos = 0
        return self.draining_count > 0

    def read_draining(self, limit: int) -> tuple[list[Item], int, int]:
        """Up to ``limit`` items from the draining file: (items, lines read, end offset)."""
        items, lines = [], 0
        with self.draining_path.open("rb") as fh:
            fh.seek(self._pos)
            while lines < limit:
                raw = fh.readline()
                if not raw:
                    break
                lines += 1
                item = decode(raw.decode("utf-8", "replace"))
                if item is not None:
                    items.append(item)
            end = fh.tell()
            if not fh.readline():  # nothing after: this chunk ends the file
                lines = self.draining_count
        return items, lines, end

    def drained(self, lines: int, end: int) -> None:
        """The items read up to ``end`` are committed; the file goes once all are."""
        self._pos = end
        self.draining_count = max(0, self.draining_count - lines)
        if self.draining_count == 0:
            with contextlib.suppress(FileNotFoundError):
                self.draining_path.unlink()
            self._pos = 0
