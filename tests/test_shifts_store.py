"""shift / lot columns in the results database (new and migrated), `results summary --by`,
the shift report (HTML with the figures, alarms, thumbnails) and its CLI."""

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from core.alarms.engine import Alarm
from core.alarms.log import AlarmLog
from core.cli.main import main
from core.shifts.report import report_for_span
from core.shifts.report_html import render_html
from core.shifts.schedule import ShiftSchedule
from core.store import ResultRecord, ResultsStore
from core.store.records import COLUMNS_V1, SCHEMA_VERSION, connect
from core.store.results_query import ResultsQuery

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = ShiftSchedule.daily({"early": "06:00", "late": "14:00", "night": "22:00"}, BERLIN)


def at(hh, mm=0, day=10) -> float:
    return dt.datetime(2026, 6, day, hh, mm, tzinfo=BERLIN).timestamp()


def rec(t, verdict, shift=None, lot=None, score=None, recipe="a"):
    s = {"OK": 0.1, "REVIEW": 0.5, "NG": 0.9}[verdict] if score is None else score
    return ResultRecord(time=t, recipe=recipe, model_version=1, ok_limit=0.3, ng_limit=0.6,
                        pixel_threshold=None, score=s, verdict=verdict, shift=shift, lot=lot)


def fill(data):
    with ResultsStore(data, max_delay_s=0.0) as store:
        for r in [rec(at(7), "OK", "early", "L1"), rec(at(8), "NG", "early", "L1", 0.95),
                  rec(at(9), "OK", "early", "L2"), rec(at(15), "NG", "late", "L2", 0.7, "b"),
                  rec(at(16), "REVIEW", "late", None), rec(at(23), "OK", "night", "L3")]:
            store.append(r)
        store.flush()
    return ResultsQuery(data / "results" / "results.sqlite")


def test_summary_by_shift_lot_and_recipe_from_a_real_database(tmp_path):
    q = fill(tmp_path)
    by_shift = [(g.key, g.total, g.ok, g.review, g.ng) for g in q.summary_by("shift")]
    assert by_shift == [("early", 3, 2, 0, 1), ("late", 2, 0, 1, 1), ("night", 1, 1, 0, 0)]
    by_lot = [(g.key, g.total) for g in q.summary_by("lot")]
    assert by_lot == [("L1", 2), ("L2", 2), ("L3", 1), (None, 1)]
    assert [(g.key, g.total) for g in q.summary_by("recipe", since=at(8), until=at(16))] == [
        ("a", 2), ("b", 1)]
    assert [r.lot for r in q.iter_records()][:2] == ["L1", "L1"]
    with pytest.raises(ValueError, match="by must be one of"):
        q.summary_by("operator")


def _v1_database(path):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    from core.store.records import _SCHEMA

    conn.executescript(_SCHEMA + "PRAGMA user_version = 1;")
    conn.execute(f"INSERT INTO results ({', '.join(COLUMNS_V1)}) VALUES "
                 f"({at(7)}, 'a', 1, 0.3, 0.6, NULL, 0.1, 'OK', NULL, 1, NULL, NULL, NULL, 0)")
    conn.commit()
    conn.close()


def test_an_old_database_is_read_as_is_and_migrated_by_the_writer(tmp_path):
    db = tmp_path / "results" / "results.sqlite"
    _v1_database(db)
    q = ResultsQuery(db)
    assert [(r.shift, r.lot) for r in q.iter_records()] == [(None, None)]  # read-only: no migration
    assert [(g.key, g.total) for g in q.summary_by("shift")] == [(None, 1)]
    assert q.alarm_rows() == []
    with ResultsStore(tmp_path, max_delay_s=0.0) as store:  # the writer migrates it
        store.append(rec(at(8), "NG", "early", "L9"))
        store.flush()
    conn = connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert [(r.shift, r.lot) for r in q.iter_records()] == [(None, None), ("early", "L9")]
    assert [row[0] for row in sqlite3.connect(db).execute(
        "SELECT name FROM sqlite_master WHERE name = 'alarms'")] == ["alarms"]


def test_shift_report_html_has_the_figures_alarms_and_thumbnails(tmp_path):
    import cv2

    q = fill(tmp_path)
    log = AlarmLog(q.db_path)
    log("raised", Alarm("x1", "consecutive_ng", "3 NG parts in a row (alarm at 3)", at(8), "a"))
    log("acknowledged", Alarm("x1", "consecutive_ng", "3 NG parts in a row (alarm at 3)",
                              at(8), "a", acknowledged_by="anna", acknowledged_at=at(8, 5)))
    log("raised", Alarm("x2", "line_down", "line I/O: modbus down", at(12, day=9), "a"))
    log("cleared", Alarm("x2", "line_down", "line I/O: modbus down", at(12, day=9), "a",
                         cleared_at=at(13, day=9)))  # over the day before: not in the report
    log("raised", Alarm("x3", "camera_fault", "camera: stalled", at(5), "a"))  # still open

    assert log.flush() and log.close()
    img = tmp_path / "ng.png"
    cv2.imwrite(str(img), np.full((300, 400, 3), 200, np.uint8))
    span = SCHEDULE.span_on(dt.date(2026, 6, 10), "early")
    report = report_for_span(q, span, BERLIN, image_file=lambda rel: img, clock=lambda: at(14))
    assert (report.total.total, report.total.ok, report.total.ng) == (3, 2, 1)
    assert [a.id for a in report.alarms] == ["x3", "x1"] and report.alarms[1].acknowledged_by == "anna"
    html = render_html(report)
    assert "<b id=inspected>3</b>" in html and "<b id=ng class=ng>1</b>" in html
    assert "<b id=yield>66.7%</b>" in html
    assert "3 NG parts in a row" in html and "by anna" in html and "modbus" not in html
    assert "L1" in html and "L2" in html and "0.95" in html
    assert "2026-06-10 06:00:00 to 2026-06-10 14:00:00" in html
    # the NG record has no image path: none shown; with one, a base64 thumbnail
    assert "data:image/png;base64," not in html
    report.images = {report.top_ng[0].id: img}
    assert "data:image/png;base64," in render_html(report)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_summary_by_and_shift_report(tmp_path, capsys):
    fill(tmp_path)
    d = str(tmp_path)
    code, out, _ = run(capsys, "results", "summary", "--data-dir", d, "--by", "lot")
    assert code == 0 and "L1" in out and "(no lot)" in out
    code, out, _ = run(capsys, "results", "summary", "--data-dir", d, "--by", "shift")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["early", "3"]
    code, _, err = run(capsys, "results", "summary", "--data-dir", d, "--by", "weather")
    assert code == 2 and "--by must be one of recipe, shift, lot" in err
    out_file = tmp_path / "r.html"
    code, _, err = run(capsys, "results", "shift-report", "--data-dir", d, "--out", str(out_file))
    assert code == 2 and "no shifts configured" in err
    (tmp_path / "station.toml").write_text(
        'timezone = "Europe/Berlin"\n' + "".join(
            f'[[shift]]\nname = "{n}"\nstart = "{s}"\n'
            for n, s in (("early", "06:00"), ("late", "14:00"), ("night", "22:00"))))
    code, out, err = run(capsys, "results", "shift-report", "--data-dir", d, "--shift", "late",
                         "--date", "2026-06-10", "--out", str(out_file))
    assert code == 0, err
    assert "2 inspected, 1 NG" in out and "<b id=inspected>2</b>" in out_file.read_text()
    for argv, msg in ((["--date", "2026-06-10"], "--date needs --shift"),
                      (["--shift", "noon"], "no shift named 'noon'"),
                      (["--shift", "late", "--date", "10.6.2026"], "--date must be a date")):
        code, _, err = run(capsys, "results", "shift-report", "--data-dir", d, *argv,
                           "--out", str(out_file))
        assert code == 2 and msg in err and "Traceback" not in err


def test_the_report_is_written_once_at_the_end_of_a_shift(tmp_path):
    from core.shifts.auto_report import ShiftReportWriter

    fill(tmp_path)
    span = SCHEDULE.span_on(dt.date(2026, 6, 10), "late")
    with ResultsStore(tmp_path, max_delay_s=0.0) as store:
        w = ShiftReportWriter(store, tmp_path / "reports", BERLIN)
        w(None, span)  # every recipe's counters roll over: one report
        w(None, span)
        assert w.wait(10.0)
    assert [p.name for p in w.written] == ["shift-2026-06-10-late.html"] and w.error == ""
    assert "<b id=inspected>2</b>" in w.written[0].read_text()
