"""The live window on the simulated line with a tiny model (offscreen Qt)."""

import pytest

pytest.importorskip("pytestqt")

from core.store.recipe_store import RecipeStore  # noqa: E402
from tests.gui_helpers import give_reason, make_data_dir, open_window, our_threads, sign_in  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data_dir(tmp_path):
    return make_data_dir(tmp_path)


@pytest.fixture
def window(qtbot, data_dir):
    w = open_window(qtbot, data_dir)
    yield w
    w.close()


def _counts(w):
    return {k: w.counters.values[k].text() for k in ("inspected", "ok", "review", "ng")}


def test_frames_flow_and_counters_add_up(qtbot, window):
    qtbot.waitUntil(lambda: window.tile.verdict in ("OK", "REVIEW", "NG"), timeout=20000)
    qtbot.waitUntil(lambda: int(window.counters.values["inspected"].text()) >= 5, timeout=10000)
    assert window.image_view.image_item.image is not None
    assert window.image_view.heat_item.image.shape == (96, 96)
    c = {k: int(v) for k, v in _counts(window).items()}
    assert c["inspected"] == c["ok"] + c["review"] + c["ng"]
    assert "sim:" in window.status.source_label.text() and "streaming" in window.status.source_label.text()
    assert window.trend.curve.getData()[1].size > 0
    qtbot.waitUntil(lambda: window.toolbar.stop_action.isEnabled(), timeout=5000)
    window.toolbar.stop_action.trigger()
    qtbot.waitUntil(lambda: window.controller.session is None, timeout=10000)
    sign_in(qtbot, window)  # resetting counters needs an engineer
    window.counters.reset_button.click()
    qtbot.waitUntil(lambda: window.counters.values["inspected"].text() == "0", timeout=5000)
    assert window.counters.values["yield"].text() == "—"


def test_threshold_slider_changes_frozen_verdict_and_apply_saves(qtbot, window, data_dir):
    qtbot.waitUntil(lambda: window.tile.verdict in ("OK", "REVIEW", "NG"), timeout=20000)
    sign_in(qtbot, window)  # tuning thresholds needs an engineer
    window.toolbar.freeze_action.trigger()
    score = window.presenter.displayed_result().score
    frozen_seq = window.presenter.result.seq
    panel = window.thresholds
    panel.sliders["ng_limit"].setValue(500)  # locked: nothing happens
    assert panel.spins["ng_limit"].value() == pytest.approx(0.6)
    panel.lock_box.setChecked(False)
    below = max(0, int(score * 1000) - 20)
    panel.sliders["ok_limit"].setValue(below)
    panel.sliders["ng_limit"].setValue(below)  # score above both limits
    assert window.tile.verdict == "NG"
    panel.sliders["ng_limit"].setValue(1000)
    panel.sliders["ok_limit"].setValue(1000)  # score below both limits
    assert window.tile.verdict == "OK"
    assert "PREVIEW" in window.tile.banner.text() and window.tile.banner.isVisible()
    assert "Last" in panel.what_if_label.text() and "0 NG" in panel.what_if_label.text()
    assert window.trend.lines.lines["ok_limit"].value() == pytest.approx(1.0)
    # the plot lines drive the sliders too
    window.histogram.lines.lines["ok_limit"].setValue(0.25)
    window.histogram.lines.lines["ok_limit"].sigDragged.emit(window.histogram.lines.lines["ok_limit"])
    assert panel.spins["ok_limit"].value() == pytest.approx(0.25)
    qtbot.wait(300)
    assert window.presenter.result.seq == frozen_seq  # still frozen
    assert RecipeStore(data_dir).get("demo").thresholds.ng_limit == pytest.approx(0.6)  # not saved yet
    with qtbot.waitSignal(window.controller.thresholdsSaved, timeout=10000):
        panel.apply_button.click()
        give_reason(qtbot, window)
    t = RecipeStore(data_dir).get("demo").thresholds
    assert (t.ok_limit, t.ng_limit) == (pytest.approx(0.25), pytest.approx(1.0))
    assert window.controller.session.inspector.thresholds.ng_limit == pytest.approx(1.0)
    assert not panel.preview_badge.isVisible() and "PREVIEW" not in window.tile.banner.text()


def test_camera_fault_shows_and_clears_on_reconnect(qtbot, window):
    qtbot.waitUntil(lambda: window.controller.session is not None, timeout=20000)
    qtbot.waitUntil(lambda: int(window.counters.values["inspected"].text()) >= 2, timeout=10000)
    window.controller.inject_fault("disconnect", seconds=1.0)
    qtbot.waitUntil(lambda: window.status.fault_label.isVisible(), timeout=5000)
    assert "camera lost" in window.status.fault_label.text().lower()
    qtbot.waitUntil(lambda: not window.status.fault_label.isVisible(), timeout=10000)
    n = int(window.counters.values["inspected"].text())
    qtbot.waitUntil(lambda: int(window.counters.values["inspected"].text()) > n, timeout=5000)


def test_stop_start_and_close_stop_every_thread(qtbot, window):
    qtbot.waitUntil(lambda: window.toolbar.stop_action.isEnabled(), timeout=20000)
    assert any(n.startswith("grabber") for n in our_threads())
    window.toolbar.stop_action.trigger()
    qtbot.waitUntil(lambda: window.controller.session is None and not window.controller.busy, timeout=10000)
    # runningChanged(False) reaches the GUI thread as a queued event: let it be delivered
    qtbot.waitUntil(lambda: window.tile.verdict_label.text() == "STOPPED", timeout=2000)
    assert not any(n.startswith(("grabber", "inspection-worker")) for n in our_threads())
    qtbot.waitUntil(lambda: window.toolbar.start_action.isEnabled(), timeout=5000)
    window.toolbar.start_action.trigger()
    qtbot.waitUntil(lambda: window.controller.session is not None, timeout=20000)
    window.close()
    assert our_threads() == []


def test_bad_recipe_reports_error_without_blocking(qtbot, data_dir):
    w = open_window(qtbot, data_dir, "--recipe", "nope")
    qtbot.waitUntil(lambda: w.error_label.isVisible(), timeout=10000)
    assert "nope" in w.error_label.text()
    assert w.toolbar.start_action.isEnabled()
    w.close()
    assert our_threads() == []
