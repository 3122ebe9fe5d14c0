"""The alarm banner in the live window (offscreen Qt): raised alarms shown newest first,
acknowledged as the signed-in user (audited), a cleared one kept until acknowledged."""

import types

import pytest

pytest.importorskip("pytestqt")

from app.alarms.station import AlarmTicker  # noqa: E402
from app.workers.line_commands import carry_out  # noqa: E402
from core.alarms import StatusSample  # noqa: E402
from core.audit import query, verify  # noqa: E402
from core.inspection.session import SessionStatus  # noqa: E402
from core.lineio.contract import LineCommand, LineInput  # noqa: E402
from core.recipe import Thresholds  # noqa: E402
from core.recipe.alarm_rules import AlarmRules  # noqa: E402
from core.store import paths  # noqa: E402
from core.store.recipe_store import RecipeStore  # noqa: E402
from tests.gui_helpers import make_data_dir, open_window, our_threads, sign_in  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data_dir(tmp_path):
    return make_data_dir(tmp_path)


@pytest.fixture
def window(qtbot, data_dir):
    w = open_window(qtbot, data_dir, "--no-start")
    yield w
    w.close()


def _acks(data_dir):
    return query(paths.results_db_path(data_dir), action="alarm_ack")


def test_banner_shows_alarm_ack_is_audited_and_cleared_alarm_stays(qtbot, window, data_dir):
    engine = window.controller.alarms.engine
    banner = window.alarms.banner
    engine.set_rules(AlarmRules(consecutive_ng=2), "demo")
    assert not banner.isVisible()
    engine.on_result("NG")
    engine.on_result("NG")  # raised in the feeding thread; the banner repaints on the GUI's
    qtbot.waitUntil(banner.isVisible, timeout=3000)
    assert "2 NG parts in a row" in banner.text_label.text()
    assert not banner.cleared_label.isVisible() and not banner.more_label.isVisible()
    engine.on_result("OK")  # the cause has gone: still shown until acknowledged
    qtbot.waitUntil(banner.cleared_label.isVisible, timeout=3000)
    assert banner.isVisible() and banner.cleared_label.text().startswith("cleared ")
    assert "2 NG parts in a row" in banner.text_label.text()
    banner.ack_button.click()
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: len(_acks(data_dir)) == 1, timeout=5000)
    entry = _acks(data_dir)[0]
    assert (entry.user, entry.role, entry.target) == ("operator", "operator", "consecutive_ng")
    assert entry.new["text"] == "2 NG parts in a row (alarm at 2)"
    assert engine.open_alarms() == []


def test_several_alarms_newest_first_and_signed_in_user_acknowledges(qtbot, window, data_dir):
    sign_in(qtbot, window, "anna", role="engineer")
    engine, banner = window.controller.alarms.engine, window.alarms.banner
    engine.set_rules(AlarmRules(consecutive_ng=1), "demo")
    engine.on_result("NG")
    engine.on_status(StatusSample(camera_fault="camera lost"))
    qtbot.waitUntil(lambda: banner.more_label.text() == "+1 more", timeout=3000)
    assert "camera: camera lost" in banner.text_label.text()  # the newest
    assert banner.ack_all_button.isVisible()
    banner.ack_button.click()  # the shown one only
    assert "1 NG parts in a row" in banner.text_label.text() and not banner.more_label.isVisible()
    assert [a.rule for a in engine.unacknowledged()] == ["consecutive_ng"]
    engine.on_result("NG")  # still active, acknowledged or not: no new alarm meanwhile
    banner.ack_button.click()
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: len(_acks(data_dir)) == 2, timeout=5000)
    assert {(e.user, e.role, e.target) for e in _acks(data_dir)} == {
        ("anna", "engineer", "camera_fault"), ("anna", "engineer", "consecutive_ng")}
    assert verify(paths.results_db_path(data_dir)).ok


def test_acknowledge_all_and_ack_alarm_from_the_line(qtbot, window, data_dir):
    engine, banner = window.controller.alarms.engine, window.alarms.banner
    engine.set_rules(AlarmRules(consecutive_ng=1), "demo")
    engine.on_result("NG")
    engine.on_status(StatusSample(camera_fault="stalled"))
    qtbot.waitUntil(lambda: banner.ack_all_button.isVisible(), timeout=3000)
    assert banner.ack_all_button.text() == "Acknowledge all (2)"
    banner.ack_all_button.click()
    assert not banner.isVisible()
    engine.on_status(StatusSample())  # camera back ...
    engine.on_status(StatusSample(camera_fault="lost again"))  # ... and gone again: a new alarm
    qtbot.waitUntil(banner.isVisible, timeout=3000)
    said = carry_out(window.controller, LineCommand(LineInput.ACK_ALARM))
    assert "1 acknowledged" in said
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: len(_acks(data_dir)) == 3, timeout=5000)
    assert [e.user for e in _acks(data_dir)][-1] == "line"


def test_lot_from_the_line(qtbot, window):
    from app.workers.line_commands import LineCommandError

    assert "L-0412" in carry_out(window.controller, LineCommand(LineInput.LOT, "L-0412"))
    assert window.controller.shift_context.lot == "L-0412"
    with pytest.raises(LineCommandError, match="LOT"):
        carry_out(window.controller, LineCommand(LineInput.LOT, "x" * 200))
    assert window.controller.shift_context.lot == "L-0412"
    qtbot.waitUntil(lambda: "L-0412" in window.counters.lot_label.text(), timeout=5000)


def test_ticker_samples_the_session_off_the_gui_thread(qtbot, window):
    alarms = window.controller.alarms
    alarms.engine.set_rules(AlarmRules(), "demo")
    threads = []

    def status():
        import threading
        threads.append(threading.current_thread().name)
        return SessionStatus(state="reconnecting", fault="camera lost")

    fake = types.SimpleNamespace(status=status, mode="live")
    ticker = AlarmTicker(alarms, lambda: fake, interval_ms=60_000)
    ticker.tick()
    qtbot.waitUntil(window.alarms.banner.isVisible, timeout=5000)
    assert "camera: camera lost" in window.alarms.banner.text_label.text()
    assert threads == ["alarm-tick"]
    ticker.stop()


def test_live_recipe_alarm_rule_raises_the_banner(qtbot, tmp_path):
    data = make_data_dir(tmp_path, thresholds=Thresholds(0.001, 0.002, 0.5))  # every part NG

    def alarms_on(recipe):
        recipe.alarms = AlarmRules(consecutive_ng=3)

    RecipeStore(data).update("demo", alarms_on)
    w = open_window(qtbot, data)
    qtbot.waitUntil(w.alarms.banner.isVisible, timeout=30000)
    assert "NG parts in a row" in w.alarms.banner.text_label.text()
    assert "(recipe demo)" in w.alarms.banner.text_label.text()
    w.close()
    assert our_threads() == []


def test_a_failing_tick_is_said_once_and_ticking_goes_on(qtbot, window, caplog):
    alarms = window.controller.alarms
    broken = types.SimpleNamespace(status=lambda: 1 / 0, mode="live")
    session = [broken]
    ticker = AlarmTicker(alarms, lambda: session[0], interval_ms=60_000)
    with caplog.at_level("INFO", logger="app.alarms.station"):
        for _ in range(3):
            ticker.tick()
            qtbot.waitUntil(lambda: not ticker._work.busy, timeout=5000)
        assert "ZeroDivisionError" in ticker.error
        assert sum("alarm status tick failed" in r.message for r in caplog.records) == 1
        session[0] = None  # stopped: disks and links still watched
        ticker.tick()
        qtbot.waitUntil(lambda: ticker.error == "", timeout=5000)
        assert any("work again" in r.message for r in caplog.records)
    ticker.stop()
