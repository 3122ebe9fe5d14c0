"""Marks on archived results (core, no Qt): stored and read back, the migration of an older
database, the newest rejects for the gallery."""

import sqlite3
from types import SimpleNamespace

import numpy as np
import pytest

from core.evaluation.marked import check_marked
from core.recipe import Thresholds
from core.store.audit_schema import AUDIT_SCHEMA
from core.store.errors import ResultsError
from core.store.marks import MarkStore, last_rejects
from core.store.records import _SCHEMA, SCHEMA_VERSION, connect
from core.store.results_query import ResultsQuery
from core.store.shift_schema import add_shifts_and_alarms
from tests.gallery_fakes import T0, fill


def test_marks_stored_read_back_replaced_and_cleared(tmp_path):
    rows = fill(tmp_path, ["NG", "OK", "REVIEW", "NG"])
    ng, _, review, ng2 = rows
    marks = MarkStore.for_data_dir(tmp_path, clock=lambda: T0 + 999)
    old, new = marks.set(ng.id, "confirmed_defect", "anna", "engineer")
    assert old is None and (new.recipe, new.kind, new.user, new.time) == (
        "demo", "confirmed_defect", "anna", T0 + 999)
    marks.set(review.id, "false_reject", "ben", "administrator", time=T0 + 5)
    old, new = marks.set(ng.id, "false_reject", "ben", "engineer", time=T0 + 6)
    assert old.kind == "confirmed_defect" and new.kind == "false_reject"
    assert marks.get(ng.id).user == "ben"
    assert set(marks.for_results([ng.id, review.id, ng2.id])) == {ng.id, review.id}
    assert marks.counts("demo") == {"false_reject": 2, "confirmed_defect": 0}
    parts = marks.marked("demo", "false_reject")
    assert [p.record.id for p in parts] == [ng.id, review.id]  # newest mark first
    assert parts[0].record.image_path == ng.image_path and parts[0].record.score == pytest.approx(0.8)
    assert parts[0].record.time == ng.time  # the result's time, not the mark's
    assert marks.marked("other") == []
    assert marks.clear(review.id).kind == "false_reject"
    assert marks.clear(review.id) is None
    assert marks.get(review.id) is None
    # a second store (another process) sees the same marks
    assert MarkStore.for_data_dir(tmp_path).get(ng.id).kind == "false_reject"
    marks.close()


def test_bad_marks_are_refused_with_a_message(tmp_path):
    (ng,) = fill(tmp_path, ["NG"])
    marks = MarkStore.for_data_dir(tmp_path)
    with pytest.raises(ResultsError, match="mark must be one of"):
        marks.set(ng.id, "maybe", "anna", "engineer")
    with pytest.raises(ResultsError, match="no result 999"):
        marks.set(999, "false_reject", "anna", "engineer")
    with pytest.raises(ResultsError, match="user and role"):
        marks.set(ng.id, "false_reject", " ", "engineer")
    assert marks.get(ng.id) is None


def _old_database(path, version):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(_SCHEMA)
    if version >= 2:
        conn.executescript(AUDIT_SCHEMA)
    if version >= 3:
        add_shifts_and_alarms(conn)
    conn.execute(f"PRAGMA user_version = {version}")
    cols = "time, recipe, ok_limit, ng_limit, score, verdict, image_path"
    conn.execute(f"INSERT INTO results ({cols}) VALUES (?, 'demo', 0.3, 0.6, 0.9, 'NG', "
                 "'2026-01-01/demo/000000-000_NG.png')", (T0,))
    conn.close()


@pytest.mark.parametrize("version", [1, 3])
def test_an_older_database_reads_without_marks_and_is_migrated_by_the_first_mark(tmp_path, version):
    db = tmp_path / "results" / "results.sqlite"
    _old_database(db, version)
    marks = MarkStore(db)
    assert marks.marked("demo") == [] and marks.for_results([1]) == {}  # read-only: no table yet
    assert marks.counts("demo") == {"false_reject": 0, "confirmed_defect": 0}
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == version
    marks.set(1, "confirmed_defect", "anna", "engineer", time=T0 + 1)
    marks.close()
    conn = connect(db)  # migrating again changes nothing (idempotent)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT result_id, kind FROM marks").fetchall() == [(1, "confirmed_defect")]
    conn.close()
    (part,) = marks.marked("demo")
    assert part.record.verdict == "NG" and part.record.shift is None


def test_last_rejects_newest_first_only_archived_ng_and_review(tmp_path):
    rows = fill(tmp_path, ["NG", "OK", "REVIEW", "NG", "OK", "REVIEW"])
    fill(tmp_path, ["NG"], recipe="other")
    q = ResultsQuery(tmp_path / "results" / "results.sqlite")
    got = last_rejects(q, 3, "demo")
    assert [r.id for r in got] == [rows[5].id, rows[3].id, rows[2].id]
    assert all(r.heatmap_path for r in got)
    assert [r.recipe for r in last_rejects(q, 10)].count("other") == 1
    conn = connect(q.db_path)
    conn.execute("UPDATE results SET archive_pruned = 1 WHERE id = ?", (rows[5].id,))
    conn.close()
    assert [r.id for r in last_rejects(q, 2, "demo")] == [rows[3].id, rows[2].id]


class BrightnessModel:
    """Scores an image by its brightest pixel (the fake parts' square is 230): fixed numbers."""

    def predict_batch(self, images):
        return [SimpleNamespace(score=float(img.max()) / 255.0,
                                anomaly_map=np.zeros(img.shape[:2], np.float32)) for img in images]


def test_marked_parts_checked_against_the_proposed_limits(tmp_path):
    ng, review, ng2, other = fill(tmp_path, ["NG", "REVIEW", "NG", "NG"])
    marks = MarkStore.for_data_dir(tmp_path)
    for r, kind in ((ng, "confirmed_defect"), (ng2, "confirmed_defect"), (review, "false_reject"),
                    (other, "false_reject")):
        marks.set(r.id, kind, "anna", "engineer")
    (tmp_path / "archive" / other.image_path).unlink()  # pruned by hand: counted, not scored
    model = BrightnessModel()  # every part scores 230 / 255 = 0.902
    catches = check_marked(model, tmp_path, "demo", Thresholds(0.5, 0.95, 0.5))
    assert catches.summary() == {"confirmed_defects": 2, "confirmed_caught": 2, "confirmed_ng": 0,
                                 "false_rejects": 1, "false_rejects_passed": 0, "missing": 1}
    assert catches.text() == ("Marked parts: 2 of 2 confirmed defects still caught (0 NG), 0 of 1 "
                              "false rejects now pass as OK; 1 without an image (archive pruned)")
    lax = check_marked(model, tmp_path, "demo", Thresholds(0.95, 0.99, 0.5))
    assert (lax.defects_caught, lax.false_rejects_passed) == (0, 1)
    assert "none for this recipe" in check_marked(model, tmp_path, "other", lax.thresholds).text()
