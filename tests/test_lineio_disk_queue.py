"""The MQTT link's on-disk queue: order, ack, the bound (oldest dropped and counted), a
restart of the process (a new DiskQueue on the same file) and unreadable files."""

from __future__ import annotations

import logging
import threading

import pytest

from core.lineio.disk_queue import DiskQueue


def test_fifo_peek_ack_and_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "q.sqlite"
    q = DiskQueue(path, 100)
    ids = [q.put("t/a", f"m{i}") for i in range(5)]
    assert ids == sorted(ids) and len(q) == 5
    assert [m.payload for m in q.peek()] == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    assert [m.payload for m in q.peek(after=ids[1], limit=2)] == [b"m2", b"m3"]
    assert q.ack(ids[0]) and q.ack(ids[1]) and not q.ack(ids[1])
    assert len(q) == 3
    q.close()
    again = DiskQueue(path, 100)  # a restart of the station
    assert len(again) == 3 and [(m.topic, m.payload) for m in again.peek()] == [("t/a", b"m2"), ("t/a", b"m3"),
                                                                                ("t/a", b"m4")]
    for m in again.peek():
        again.ack(m.id)
    new = again.put("t/b", b"\x00bin")
    assert new > ids[-1]  # ids never come back, even after the queue was empty
    again.close()


def test_full_queue_drops_the_oldest_and_counts_it(tmp_path, caplog):
    q = DiskQueue(tmp_path / "q.sqlite", 3)
    with caplog.at_level(logging.WARNING):
        for i in range(8):
            q.put("t", str(i))
    assert len(q) == 3 and q.dropped == 5
    assert [m.payload for m in q.peek()] == [b"5", b"6", b"7"]
    assert "full" in caplog.text
    q.close()
    reopened = DiskQueue(tmp_path / "q.sqlite", 3)
    assert reopened.dropped == 5 and len(reopened) == 3
    reopened.close()


def test_puts_and_acks_from_two_threads(tmp_path):
    q = DiskQueue(tmp_path / "q.sqlite", 10_000)
    seen: list[bytes] = []
    done = threading.Event()

    def consume():
        while not done.is_set() or len(q):
            for m in q.peek(limit=50):
                seen.append(m.payload)
                q.ack(m.id)

    t = threading.Thread(target=consume, name="test-consumer", daemon=True)
    t.start()
    for i in range(300):
        q.put("t", str(i))
    done.set()
    t.join(20)
    assert not t.is_alive() and seen == [str(i).encode() for i in range(300)] and len(q) == 0
    q.close()


@pytest.mark.parametrize("content", [b"this is not sqlite at all" * 100, b"SQLite format 3\x00" + b"\xff" * 2000])
def test_unreadable_file_is_moved_aside(tmp_path, caplog, content):
    path = tmp_path / "q.sqlite"
    path.write_bytes(content)
    with caplog.at_level(logging.ERROR):
        q = DiskQueue(path, 10)
    assert len(q) == 0 and "unreadable" in caplog.text and "renamed" in caplog.text
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    q.put("t", "fresh")
    assert [m.payload for m in q.peek()] == [b"fresh"]
    q.close()


def test_a_foreign_database_is_moved_aside(tmp_path):
    import sqlite3

    path = tmp_path / "q.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE messages (x)")  # same table name, other columns
    q = DiskQueue(path, 10)
    q.put("t", "ok")
    assert len(q) == 1
    q.close()
    assert any(".corrupt-" in p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("bad", [0, -1, 1_000_001, "10", True, 2.5])
def test_bound_is_checked(tmp_path, bad):
    with pytest.raises(ValueError, match="max_messages"):
        DiskQueue(tmp_path / "q.sqlite", bad)


def test_a_queue_that_cannot_be_created_is_an_oserror_not_moved_aside(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        DiskQueue(blocker / "q.sqlite", 10)
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(OSError, match="unable to open"):  # sqlite cannot open it: not corrupt, left alone
        DiskQueue(tmp_path / "dir.sqlite", 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.sqlite", "file"]
