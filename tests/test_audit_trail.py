"""core.audit: entries in the results database, the hash chain catching edits, deletions
and reordering (the sqlite file edited directly), old databases, queries and CSV."""

import csv
import sqlite3

import pytest

from core.audit import GENESIS, AuditError, AuditTrail, export_csv, query, verify
from core.store import ResultRecord, ResultsQuery, ResultsStore
from core.store.records import _SCHEMA, SCHEMA_VERSION

T0 = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        self.t += 60
        return self.t


def trail_with(tmp_path, n=5):
    trail = AuditTrail(tmp_path / "results.sqlite", clock=Clock())
    for i in range(n):
        trail.record("anna", "engineer", "recipe_edit", f"r{i}", {"limit": i},
                     {"limit": i + 1})
    trail.close()
    return trail


def tamper(db, *statements):
    """Edit the file as someone with a SQL tool would: the triggers go first."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def test_entries_are_chained_from_the_genesis_value(tmp_path):
    trail = AuditTrail(tmp_path / "results.sqlite", clock=Clock())
    a = trail.record("anna", "engineer", "thresholds", "cap", {"ok": 0.2}, {"ok": 0.3},
                     "too many false rejects")
    b = trail.record("boss", "administrator", "counter_reset", "cap")
    assert a.prev_hash == GENESIS and b.prev_hash == a.hash and a.hash != b.hash
    got = query(trail.db_path)
    assert [(e.id, e.user, e.action, e.old, e.new, e.reason) for e in got] == [
        (1, "anna", "thresholds", {"ok": 0.2}, {"ok": 0.3}, "too many false rejects"),
        (2, "boss", "counter_reset", None, None, None)]
    report = verify(trail.db_path)
    assert (report.ok, report.rows_checked, report.bad_id) == (True, 2, None)


@pytest.mark.parametrize("kw, words", [
    ({"action": "thresholds"}, "thresholds needs a reason"),
    ({"action": "deploy", "reason": "  "}, "deploy needs a reason"),
    ({"action": "Drop Table"}, "lower-case name"),
    ({"action": "alarm_ack", "user": ""}, "audit user must be non-empty"),
    ({"action": "alarm_ack", "new": {1, 2}}, "not plain data"),
    ({"action": "alarm_ack", "new": float("nan")}, "not plain data"),
    ({"action": "alarm_ack", "target": "x" * 500}, "target too long"),
])
def test_entries_that_break_a_rule_are_refused(tmp_path, kw, words):
    trail = AuditTrail(tmp_path / "results.sqlite")
    args = {"user": "anna", "role": "engineer", **kw}
    with pytest.raises(AuditError, match=words):
        trail.record(**args)
    assert query(trail.db_path) == []


def test_the_app_cannot_update_or_delete(tmp_path):
    trail = trail_with(tmp_path, 2)
    conn = sqlite3.connect(trail.db_path)
    for sql in ("UPDATE audit SET user = 'x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert not hasattr(trail, "delete") and not hasattr(trail, "update")


SWAP_2_3 = ("UPDATE audit SET id = -1 WHERE id = 2", "UPDATE audit SET id = 2 WHERE id = 3",
            "UPDATE audit SET id = 3 WHERE id = -1")


@pytest.mark.parametrize("statements, bad_id, problem, words", [
    (("UPDATE audit SET new_value = '{\"limit\":99}' WHERE id = 3",), 3, "edited",
     "entry 3: its content does not match its hash"),
    (("DELETE FROM audit WHERE id = 2",), 3, "deleted", "entry 2 missing"),
    (("DELETE FROM audit WHERE id = 2", "UPDATE audit SET id = id - 1 WHERE id > 2"), 2,
     "deleted", "link to entry 1 is broken"),
    (("DELETE FROM audit WHERE id = 5",), 5, "deleted", "missing at the end"),
    (("DELETE FROM audit WHERE id = 1",), 2, "deleted", "entry 1 missing"),
    (SWAP_2_3, 2, "reordered", "belongs after entry 3"),
], ids=["edited", "deleted", "deleted-renumbered", "deleted-last", "deleted-first",
        "reordered"])
def test_tampering_is_found(tmp_path, statements, bad_id, problem, words):
    trail = trail_with(tmp_path)
    assert verify(trail.db_path).ok
    tamper(trail.db_path, *statements)
    r = verify(trail.db_path)
    assert (r.ok, r.bad_id, r.problem) == (False, bad_id, problem)
    assert words in r.message and r.message.startswith(f"audit trail broken at entry {bad_id}")


def test_a_dropped_audit_table_is_found(tmp_path):
    trail = trail_with(tmp_path, 2)
    tamper(trail.db_path, "DROP TABLE audit")
    r = verify(trail.db_path)
    assert (r.ok, r.problem) == (False, "deleted") and "table is missing" in r.message


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(tmp_path):
    from core.audit.chain import entry_hash

    trail = trail_with(tmp_path)
    e = query(trail.db_path)[1]
    fields = {**e.fields(), "reason": "forged"}
    tamper(trail.db_path, f"UPDATE audit SET reason = 'forged', "
                          f"hash = '{entry_hash(e.prev_hash, fields)}' WHERE id = 2")
    r = verify(trail.db_path)
    assert (r.ok, r.bad_id, r.problem) == (False, 3, "deleted")
    assert "deleted or replaced" in r.message


def _v1_database(path):
    """A results database as LineInspector wrote it before the audit trail (schema 1)."""
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO results (time, recipe, ok_limit, ng_limit, score, verdict) "
                 "VALUES (?, 'cap', 0.2, 0.4, 0.1, 'OK')", (T0,))
    conn.commit()
    conn.close()
    assert "audit" not in path.read_bytes().decode("latin-1")


def test_an_old_database_still_opens_and_gets_the_audit_table(tmp_path):
    db = tmp_path / "results" / "results.sqlite"
    db.parent.mkdir()
    _v1_database(db)
    assert query(db) == [] and verify(db).ok  # read-only: nothing migrated yet
    assert ResultsQuery(db).summary()[0].total == 1
    with ResultsStore(tmp_path) as store:  # the writer migrates it
        store.append(ResultRecord(T0 + 1, "cap", None, 0.2, 0.4, None, 0.5, "REVIEW"))
        AuditTrail(db).record("anna", "engineer", "alarm_ack", "cap")  # beside the writer
        store.flush()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert ResultsQuery(db).summary()[0].total == 2
    assert [e.action for e in query(db)] == ["alarm_ack"] and verify(db).rows_checked == 1


def test_query_filters(tmp_path):
    trail = AuditTrail(tmp_path / "results.sqlite", clock=Clock())
    trail.record("anna", "engineer", "thresholds", "cap", 1, 2, "drift")      # T0+60
    trail.record("boss", "administrator", "deploy", "cap", 1, 2, "new model")  # T0+120
    trail.record("anna", "engineer", "recipe_switch", "bottle")                # T0+180
    ids = lambda **kw: [e.id for e in trail.entries(**kw)]  # noqa: E731
    assert ids(user="anna") == [1, 3]
    assert ids(action="deploy") == [2]
    assert ids(target="cap") == [1, 2]
    assert ids(since=T0 + 120) == [2, 3] and ids(until=T0 + 120) == [1]
    assert ids(user="anna", target="cap") == [1]
    assert ids(limit=2, newest_first=True) == [3, 2]
    assert query(tmp_path / "none.sqlite") == []


def test_csv_export(tmp_path):
    trail = AuditTrail(tmp_path / "results.sqlite", clock=Clock())
    trail.record("anna", "engineer", "thresholds", "cap", {"ok": 0.2}, {"ok": 0.3}, "drift, again")
    trail.record("boss", "administrator", "user_add", "carl", None, {"role": "engineer"})
    out = tmp_path / "out" / "audit.csv"
    assert export_csv(trail.db_path, out, user="anna") == 1
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == 1 and rows[0]["reason"] == "drift, again"
    assert rows[0]["new_value"] == '{"ok":0.3}' and rows[0]["time_utc"].startswith("2027-01-15")
    assert rows[0]["prev_hash"] == GENESIS and len(rows[0]["hash"]) == 64


def test_submit_writes_in_order_from_the_trails_thread(tmp_path):
    trail = AuditTrail(tmp_path / "results.sqlite", clock=Clock())
    with pytest.raises(AuditError, match="deploy needs a reason"):  # checked in the caller
        trail.submit("anna", "engineer", "deploy", "cap")
    futures = [trail.submit("anna", "engineer", "alarm_ack", f"a{i}") for i in range(5)]
    assert [f.result(timeout=30).id for f in futures] == [1, 2, 3, 4, 5]
    trail.close()
    assert [e.target for e in query(trail.db_path)] == [f"a{i}" for i in range(5)]
    assert verify(trail.db_path).ok


def test_audit_writes_beside_the_results_writer_and_a_second_process(tmp_path):
    """The writer thread commits results while two trails (the GUI's and a CLI's) append:
    every result and entry goes in, and the chain stays one line."""
    import threading

    db = tmp_path / "results" / "results.sqlite"
    gui, cli = AuditTrail(db), AuditTrail(db)
    with ResultsStore(tmp_path, batch_size=5, max_delay_s=0) as store:
        def audit(trail, who):
            for i in range(20):
                trail.record(who, "engineer", "alarm_ack", f"{who}{i}")

        threads = [threading.Thread(target=audit, args=(t, w))
                   for t, w in ((gui, "gui"), (cli, "cli"))]
        for t in threads:
            t.start()
        for i in range(200):
            store.append(ResultRecord(T0 + i, "cap", None, 0.2, 0.4, None, 0.1, "OK"))
        for t in threads:
            t.join()
        store.flush()
    gui.close()
    cli.close()
    assert ResultsQuery(db).summary()[0].total == 200
    report = verify(db)
    assert report.ok and report.rows_checked == 40, report.message
