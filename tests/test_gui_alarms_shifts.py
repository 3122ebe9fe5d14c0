"""Shifts and lots in the live window (offscreen Qt, fake clock): the counters panel names the
shift and its hours, rolls over at the shift's end (the line's counters too, and the shift's
report is written) and sets the lot."""

import datetime as dt

import pytest

pytest.importorskip("pytestqt")

from app.widgets.lot_dialog import LotDialog  # noqa: E402
from tests.gui_helpers import make_data_dir  # noqa: E402

pytestmark = pytest.mark.gui

SHIFTS = ('timezone = "UTC"\n[[shift]]\nname = "early"\nstart = "06:00"\n'
          '[[shift]]\nname = "late"\nstart = "14:00"\n[[shift]]\nname = "night"\nstart = "22:00"\n')


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return FakeClock(dt.datetime(2026, 3, 2, 13, 58, tzinfo=dt.timezone.utc).timestamp())


@pytest.fixture
def window(qtbot, tmp_path, clock):
    from app.window import MainWindow
    from app.workers.session_controller import SessionController

    data = make_data_dir(tmp_path)
    (data / "station.toml").write_text(SHIFTS)
    w = MainWindow(SessionController(data, clock=clock))  # not started: counters fed by hand
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def _text(w, key):
    return w.counters.values[key].text()


def test_counters_show_the_shift_and_roll_over_at_its_end(qtbot, window, clock):
    c = window.controller
    counters = c.select_counters("demo")
    window.counters.set_recipe("demo")
    for v in ("OK", "OK", "NG"):
        counters.add(v)
    qtbot.waitUntil(lambda: _text(window, "inspected") == "3", timeout=3000)
    assert window.counters.since_label.text() == "shift early 06:00–14:00"
    assert _text(window, "ng") == "1" and _text(window, "yield") == "66.7 %"
    assert window.counters.title() == "demo: this shift"
    c.line.slot.update_state(ok=2, review=0, ng=1)
    clock.t += 180  # 14:01: the late shift; no part needed, the presenter's refresh rolls over
    qtbot.waitUntil(lambda: _text(window, "inspected") == "0", timeout=3000)
    assert window.counters.since_label.text() == "shift late 14:00–22:00"
    assert _text(window, "yield") == "—"
    assert c.line.slot._state["ok"] == 2  # not the running recipe: the line's own figures stay


def test_roll_over_restarts_the_line_counters_of_the_running_recipe(qtbot, window, clock):
    import types

    c = window.controller
    counters = c.select_counters("demo")
    counters.add("NG")
    c.line.slot.update_state(ok=0, review=0, ng=1, late=0)
    c.session = types.SimpleNamespace(recipe=types.SimpleNamespace(name="demo"))  # as if running
    try:
        clock.t += 3600
        assert counters.tick() is not None
        assert c.line.slot._state["ng"] == 0
    finally:
        c.session = None


def test_shift_report_written_at_the_shift_end_once_for_all_recipes(qtbot, window, clock):
    from core.store import ResultRecord, ResultsStore

    c = window.controller
    reports = c.data_dir / "reports"
    c.select_counters("demo").add("OK")
    clock.t += 180  # 14:01, but nothing inspected since the start: no store, no report
    assert c.select_counters("demo").tick() is not None
    assert c.shifts.reports is not None and c.shifts.reports.wait(10)
    assert not reports.exists()
    c.results = ResultsStore(c.data_dir, max_delay_s=0.0)  # as after a start
    for recipe, verdict in (("demo", "OK"), ("demo", "NG"), ("other", "OK")):
        c.select_counters(recipe).add(verdict)
        c.results.append(ResultRecord(time=clock.t + 60, recipe=recipe, model_version=1, ok_limit=0.3,
                                      ng_limit=0.6, pixel_threshold=None, score=0.1 if verdict == "OK"
                                      else 0.9, verdict=verdict, shift="late"))
    clock.t += 8 * 3600  # 22:01: both recipes' counters roll over into the night shift
    assert c.select_counters("demo").tick() is not None
    assert c.select_counters("other").tick() is not None
    assert c.shifts.reports.wait(10) and not c.shifts.reports.error
    assert [p.name for p in reports.iterdir()] == ["shift-2026-03-02-late.html"]
    html = (reports / "shift-2026-03-02-late.html").read_text(encoding="utf-8")
    assert "late" in html and c.shifts.reports.written == [reports / "shift-2026-03-02-late.html"]


def test_lot_set_shown_and_a_bad_lot_refused(qtbot, window):
    c = window.controller
    c.select_counters("demo")
    window.counters.lot_button.click()
    dialog = window.findChild(LotDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.edit.setText("x" * 65)
    dialog.accept()
    assert dialog.isVisible() and dialog.error_label.isVisible()
    assert "1-64 printable characters" in dialog.error_label.text()
    assert c.shift_context.lot is None
    dialog.edit.setText("bad\tlot")
    dialog.accept()
    assert "printable" in dialog.error_label.text() and dialog.isVisible()
    dialog.edit.setText("  L-2026-031 ")
    dialog.accept()
    assert not dialog.isVisible()
    assert c.shift_context.lot == "L-2026-031"
    qtbot.waitUntil(lambda: window.counters.lot_label.text() == "Lot: L-2026-031", timeout=3000)
    c.counters.add("OK")
    assert c.counters.snapshot().lot_count("L-2026-031").inspected == 1


def test_wrong_shift_file_is_said_and_counting_goes_on(qtbot, tmp_path):
    from app.window import MainWindow
    from app.workers.session_controller import SessionController

    data = make_data_dir(tmp_path)
    (data / "station.toml").write_text('[[shift]]\nname = "early"\nstart = "25:00"\n')
    w = MainWindow(SessionController(data))
    qtbot.addWidget(w)
    w.show()
    assert w.error_label.isVisible() and "Shifts not used" in w.error_label.text()
    w.controller.counters.add("OK")
    qtbot.waitUntil(lambda: _text(w, "inspected") == "1", timeout=3000)
    assert w.counters.since_label.text().startswith("since ")
    w.close()
