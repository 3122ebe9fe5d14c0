"""The "Audit trail…" dialog (offscreen Qt): entries listed newest first, filtered, the chain
verified (intact, then broken after the database is edited behind the app's back), CSV export;
in the window it needs the engineer role and closes with the session."""

import csv
import sqlite3

import pytest

pytest.importorskip("pytestqt")

from app.audit.dialog import COLUMNS, AuditDialog  # noqa: E402
from core.audit import AuditTrail  # noqa: E402
from core.store import paths  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    clock = iter(range(1_800_000_000, 1_800_000_100, 10))
    with AuditTrail.for_data_dir(data, clock=lambda: float(next(clock))) as trail:
        trail.record("anna", "engineer", "thresholds", "cap", {"ng_limit": 0.6}, {"ng_limit": 0.7},
                     "too many false rejects")
        trail.record("operator", "operator", "alarm_ack", "consecutive_ng", None,
                     {"text": "5 NG parts in a row"})
        trail.record("boss", "administrator", "user_add", "anna", None, {"role": "engineer"})
        trail.record("anna", "engineer", "rollback", "cap", {"version": 3}, {"version": 2})
    return data


@pytest.fixture
def dialog(qtbot, data_dir):
    d = AuditDialog(data_dir)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.table.rowCount() == 4, timeout=5000)
    yield d
    d.shutdown()


def _column(d, name):
    c = COLUMNS.index(name)
    return [d.table.item(r, c).text() for r in range(d.table.rowCount())]


def test_lists_entries_newest_first_with_every_column(dialog):
    assert _column(dialog, "Action") == ["rollback", "user_add", "alarm_ack", "thresholds"]
    assert _column(dialog, "User")[-1] == "anna" and _column(dialog, "Role")[-1] == "engineer"
    assert _column(dialog, "Target")[-1] == "cap"
    assert _column(dialog, "Old → New")[-1] == '{"ng_limit":0.6} → {"ng_limit":0.7}'
    assert _column(dialog, "Reason")[-1] == "too many false rejects"
    assert _column(dialog, "Time")[-1].startswith("2027-01-")  # local time of 1_800_000_000
    assert dialog.count_label.text() == "4 entries"


def test_filters(qtbot, dialog):
    f = dialog.filters
    f.user.setText("anna")
    f.apply_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=5000)
    f.action.setCurrentText("rollback")
    f.apply_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5000)
    assert _column(dialog, "Action") == ["rollback"]
    f.user.setText("")
    f.action.setCurrentText("(any action)")
    f.target.setText("anna")
    f.apply_button.click()
    qtbot.waitUntil(lambda: _column(dialog, "Action") == ["user_add"], timeout=5000)
    f.target.setText("")
    f.since_box.setChecked(True)  # the last week: all four are from 2027, far ahead or behind
    f.since.setDateTime(f.since.dateTime().fromSecsSinceEpoch(1_800_000_015))
    f.apply_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=5000)
    f.until_box.setChecked(True)
    f.until.setDateTime(f.until.dateTime().fromSecsSinceEpoch(1_800_000_000))
    f.apply_button.click()  # a range ending before it starts: said, the table stays
    assert "'From' must be before 'To'" in dialog.message.text()
    assert dialog.table.rowCount() == 2
    f.action.setCurrentText("Not An Action")
    f.until_box.setChecked(False)
    f.apply_button.click()
    assert "lower-case name" in dialog.message.text()


def test_verify_intact_then_broken_after_an_edit(qtbot, dialog, data_dir):
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: "intact" in dialog.verify_label.text(), timeout=5000)
    assert dialog.verify_label.text() == "audit trail intact (4 entries)"
    db = paths.results_db_path(data_dir)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")  # whatever the app set up: a tool can
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE audit SET reason = 'nothing to see' WHERE id = 1")
    conn.commit()
    conn.close()
    dialog.filters.apply_button.click()
    qtbot.waitUntil(lambda: _column(dialog, "Reason")[-1] == "nothing to see", timeout=5000)
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: "broken" in dialog.verify_label.text(), timeout=5000)
    assert "entry 1" in dialog.verify_label.text() and "edited" in dialog.verify_label.text()
    assert "#c5221f" in dialog.verify_label.styleSheet()
    row = dialog.table.rowCount() - 1  # entry 1, the oldest, is the last row
    assert dialog.table.item(row, 0).background().color().name() == "#f6c7c5"
    assert dialog.table.item(0, 0).background().color().alpha() == 0


def test_export_writes_the_filtered_entries(qtbot, dialog, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "audit.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV files (*.csv)"))
    dialog.filters.user.setText("anna")
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "written" in dialog.message.text(), timeout=5000)
    assert dialog.message.text() == f"2 entries written to {out}"
    rows = list(csv.DictReader(out.open()))
    assert [r["action"] for r in rows] == ["thresholds", "rollback"]
    assert rows[0]["reason"] == "too many false rejects" and len(rows[0]["hash"]) == 64


def test_window_action_needs_an_engineer_and_closes_on_sign_out(qtbot, tmp_path):
    from tests.gui_helpers import make_data_dir, open_window, sign_in

    w = open_window(qtbot, make_data_dir(tmp_path), "--no-start")
    try:
        action = w.toolbar.audit_action
        assert action.isVisible() and not action.isEnabled()  # an operator: shown, disabled
        assert "Needs the engineer role: sign in first" in action.toolTip()
        assert w.audit_actions.open_dialog() is None  # reached anyway (a script): refused, said
        assert w.audit_actions.dialog is None and "audit view needs the engineer role" in w.error_label.text()
        sign_in(qtbot, w)
        assert action.isEnabled() and "Needs the" not in action.toolTip()
        action.trigger()
        d = w.audit_actions.dialog
        assert d is not None and d.isVisible()
        qtbot.waitUntil(lambda: d.count_label.text() == "0 entries", timeout=5000)
        w.toolbar.sign_in_action.trigger()  # sign out: the dialog closes with the session
        assert not d.isVisible() and not action.isEnabled()
        sign_in(qtbot, w, "root", "12345678", role="administrator")
        assert w.audit_actions.open_dialog() is d and d.isVisible()
        w.set_operator_mode(True)  # the operator kiosk offers no audit trail
        assert not action.isVisible() and not d.isVisible()
    finally:
        w.close()
