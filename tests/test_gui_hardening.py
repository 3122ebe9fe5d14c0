"""Issue 13, the window: defects found when the app was run as a plant would run it."""

import logging

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.recipe import Thresholds  # noqa: E402
from tests.gui_helpers import make_data_dir, open_window, sign_in  # noqa: E402

pytestmark = pytest.mark.gui

SCREENS = ((1366, 768), (1280, 800))


@pytest.fixture
def idle_window(qtbot, tmp_path):
    w = open_window(qtbot, make_data_dir(tmp_path), "--no-start")
    yield w
    w.close()


# --- 1. status-bar messages never widen the window -----------------------------------------
def test_long_status_message_is_elided_with_tooltip_and_logged(qtbot, idle_window, caplog):
    w = idle_window
    w.resize(1280, 800)
    qtbot.wait(50)
    text = "Snapshot saved: " + "/very/long/folder" * 40 + "/snapshot.json"
    with caplog.at_level(logging.INFO, logger="app.widgets.status_bar"):
        w.status.fault_label.setText("camera lost: " + "x" * 600)
        w.status.fault_label.setVisible(True)
        w.show_error("start failed: " + "y" * 600)
        w.status.notify(text)
        qtbot.wait(50)
    assert w.width() <= 1280 and w.tile.geometry().right() < w.width()
    assert w.error_label.height() <= 5 * w.error_label.fontMetrics().lineSpacing()  # tile stays up
    assert w.error_label.toolTip().startswith("start failed: yyy")
    assert w.status.message_label.toolTip().endswith("/snapshot.json")
    assert any("/snapshot.json" in r.getMessage() for r in caplog.records)


# --- 2. every screen fits a panel PC ----------------------------------------------------------
@pytest.mark.parametrize("size", SCREENS)
def test_main_window_fits_panel_pc_with_verdict_counters_and_thresholds_visible(qtbot, idle_window, size):
    w = idle_window
    hint = w.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1] - 40, hint
    w.resize(*size)
    qtbot.wait(50)
    assert (w.width(), w.height()) == size
    for part in (w.tile, w.counters, w.thresholds):
        top_left = part.mapTo(w, part.rect().topLeft())
        bottom_right = part.mapTo(w, part.rect().bottomRight())
        assert part.isVisible() and top_left.x() >= 0 and top_left.y() >= 0
        assert bottom_right.x() < size[0] and bottom_right.y() < size[1], (part, bottom_right)


def test_initial_size_fits_the_screen():
    from app.main import initial_size

    assert initial_size(1366, 728) == (1366, 728)
    assert initial_size(1280, 760) == (1280, 760)
    assert initial_size(2560, 1400) == (1440, 900)


def test_versions_dialog_and_wizard_fit_panel_pc(qtbot, tmp_path):
    from app.version_rows import version_rows
    from app.versions_dialog import VersionsDialog
    from app.wizard.wizard import TrainingWizard
    from core.store.recipe_store import RecipeStore

    data = make_data_dir(tmp_path)
    store = RecipeStore(data)
    for dialog in (VersionsDialog("demo", lambda n: version_rows(store, n)), TrainingWizard(store)):
        qtbot.addWidget(dialog)
        hint = dialog.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 728, (type(dialog).__name__, hint)


# --- 3. decimals enough to tell score and limits apart ---------------------------------------
def test_verdict_tile_shows_enough_decimals_to_tell_score_and_limits_apart(qtbot):
    from app.widgets.verdict_tile import VerdictTile

    tile = VerdictTile()
    qtbot.addWidget(tile)
    tile.show_result("OK", 0.48551, 0.48557, 0.48563)
    score = tile.score_label.text().split()[-1]
    nums = [s for s in tile.threshold_label.text().replace("<", " ").replace("≥", " ").split()
            if s[0].isdigit()]
    assert len({score, *nums}) == 3, (score, nums)
    assert float(score) < float(nums[0]) < float(nums[1])


def test_decimals_to_tell_apart():
    from app.widgets.numfmt import decimals_to_tell_apart

    assert decimals_to_tell_apart(0.25, 0.75) == 3
    assert decimals_to_tell_apart(0.48561, 0.48569, minimum=3) == 4
    assert decimals_to_tell_apart(0.5, 0.5) == 3  # equal values need no more
    assert decimals_to_tell_apart(0.1, 0.1 + 1e-12) == 8  # capped
    assert decimals_to_tell_apart(float("nan"), 0.3) == 3


# --- 4. sliders fine enough for the band in force ---------------------------------------------
def test_sliders_step_finer_than_the_review_band(qtbot):
    from app.widgets.thresholds_panel import ThresholdsPanel

    panel = ThresholdsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    panel.show()
    t = Thresholds(0.24969, 0.25927, 0.5)  # the demo model's band: 0.0096 wide
    panel.set_applied(t)
    panel.lock_box.setChecked(False)
    band = t.ng_limit - t.ok_limit
    slider = panel.sliders["ok_limit"]
    one_step = panel.slider_value("ok_limit", slider.value() + 1) - panel.slider_value("ok_limit", slider.value())
    assert 0 < one_step <= band / 50
    per_pixel = (panel.slider_value("ok_limit", slider.maximum()) - panel.slider_value("ok_limit", 0)) / max(1, slider.width())
    assert per_pixel <= band / 5, (per_pixel, slider.width())
    # both limits are inside the slider's span, and typing a far value still works
    for key in ("ok_limit", "ng_limit"):
        assert 0 < panel.sliders[key].value() < panel.sliders[key].maximum()
    panel.spins["ng_limit"].setValue(0.9)
    assert panel.thresholds().ng_limit == pytest.approx(0.9)
    assert 0 < panel.sliders["ng_limit"].value() <= panel.sliders["ng_limit"].maximum()


# --- 5. empty and stale displays ------------------------------------------------------------
def test_before_start_plots_say_no_data_and_panel_shows_no_limits(qtbot, idle_window):
    w = idle_window
    for plot in (w.trend, w.histogram):
        assert plot.placeholder.isVisible()
        assert not plot.getPlotItem().getAxis("bottom").isVisible()
    assert not w.histogram.bars.isVisible()
    assert all(s.text() == "—" for s in w.thresholds.spins.values())
    assert not w.thresholds.lock_box.isEnabled()
    sign_in(qtbot, w)  # an engineer may unlock once limits are shown
    assert not w.thresholds.lock_box.isEnabled()
    w.trend.set_scores(np.array([0.2, 0.3]))
    assert not w.trend.placeholder.isVisible() and w.trend.getPlotItem().getAxis("bottom").isVisible()
    w.thresholds.set_applied(Thresholds(0.3, 0.6, 0.5))
    assert w.thresholds.lock_box.isEnabled() and w.thresholds.spins["ok_limit"].text() != "—"


def test_pixel_readout_clears_when_cursor_leaves_and_on_clear(qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from app.widgets.image_view import LiveImageView

    view = LiveImageView()
    qtbot.addWidget(view)
    view.show_frame(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32), 0.5)
    view.readout.setText("x 1  y 1   pixel 0   anomaly 0.000")
    QApplication.sendEvent(view.graphics, QEvent(QEvent.Type.Leave))
    assert view.readout.text().strip() == ""
    view.readout.setText("x 1  y 1   pixel 0   anomaly 0.000")
    view.clear()
    assert view.readout.text().strip() == "" and view.image_item.image is None


def test_counters_are_kept_per_recipe(qtbot, tmp_path):
    from app.workers.session_controller import SessionController

    c = SessionController(tmp_path / "data")
    try:
        c.select_counters("a")
        c.counters.add("OK")
        c.counters.add("NG")
        c.select_counters("b")
        assert c.counters.snapshot().inspected == 0
        c.counters.add("OK")
        c.select_counters("a")
        assert c.counters.snapshot().inspected == 2
    finally:
        c.shutdown()


def test_counter_reset_button_resets_the_current_recipes_counters(qtbot, idle_window):
    w = idle_window
    w.controller.select_counters("other")
    w.controller.counters.add("OK")
    sign_in(qtbot, w)  # an engineer's action, confirmed (the helper says yes) and audited
    w.counters.reset_button.click()
    qtbot.waitUntil(lambda: w.controller.counters.snapshot().inspected == 0, timeout=5000)


def test_validate_histogram_axis_reads_plain_scores_and_labels_clear_the_bars(qtbot, tmp_path):
    from app.wizard.validate_page import score_histogram

    import pyqtgraph as pg

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    good = list(0.4855 + np.linspace(0, 0.001, 50))
    score_histogram(plot, good, [], {"ok_limit": 0.4862, "ng_limit": 0.4866})
    axis = plot.getPlotItem().getAxis("bottom")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    ymax = max(float(np.max(item.yData)) for item in plot.getPlotItem().listDataItems())
    top = plot.getPlotItem().viewRange()[1][1]
    assert top >= 1.3 * ymax  # head-room above the bars for the limit labels
    labels = [i.label for i in plot.getPlotItem().items if isinstance(i, pg.InfiniteLine)]
    assert labels and all(lb.orthoPos * top >= 1.1 * ymax for lb in labels)


# --- 6. something on screen at once -----------------------------------------------------------
def test_splash_is_shown_before_the_model_loads(qtbot, tmp_path, monkeypatch):
    import app.main as main_mod
    from PySide6.QtWidgets import QApplication, QSplashScreen

    seen = {}

    def fake_create_window(args, splash=None):
        seen["splash"] = [w.isVisible() for w in QApplication.topLevelWidgets()
                          if isinstance(w, QSplashScreen)]
        raise SystemExit(0)

    monkeypatch.setattr(main_mod, "create_window", fake_create_window)
    with pytest.raises(SystemExit):
        main_mod.main(["--data-dir", str(tmp_path / "d"), "--no-start"])
    assert seen["splash"] == [True]


# --- 7. frozen and preview states cannot be missed ------------------------------------------
def test_freeze_and_preview_show_a_banner_on_the_tile(qtbot, idle_window):
    w = idle_window
    tile = w.tile
    tile.show_result("OK", 0.2, 0.3, 0.6)
    assert not tile.banner.isVisible()
    w.toolbar.freeze_action.trigger()
    assert tile.banner.isVisible() and "FROZEN" in tile.banner.text()
    assert tile.property("state") == "frozen"
    w.toolbar.freeze_action.trigger()
    assert not tile.banner.isVisible()
    tile.show_result("NG", 0.2, 0.1, 0.15, preview=True)
    assert tile.banner.isVisible() and "PREVIEW" in tile.banner.text()
    assert tile.property("state") == "preview"


# --- 5d. the loss chart keeps the steps before a Resume ----------------------------------------
def test_loss_chart_keeps_earlier_steps_after_resume(qtbot, tmp_path):
    import json

    from app.wizard.context import WizardContext
    from app.wizard.train_page import TrainPage
    from core.store.recipe_store import RecipeStore
    from core.training.files import EVENTS_FILE

    ctx = WizardContext(RecipeStore(tmp_path / "data"), preset="tiny", steps=20, workers=0, device="cpu")
    ctx.recipe_name = "part"
    page = TrainPage(ctx)
    qtbot.addWidget(page)
    ctx.run_dir.mkdir(parents=True)
    losses = {"loss": 1.0, "l2": 0.5, "ssim": 0.3, "focal": 0.2}
    earlier = [{"event": "progress", "step": s, "total": 20, "losses": losses} for s in (1, 2, 3, 4)]
    # an earlier resume from step 2 redid steps 3 and 4: they count once
    earlier.insert(2, {"event": "start", "resumed_from": 2})
    earlier[2:2] = [{"event": "progress", "step": s, "total": 20, "losses": losses} for s in (3, 4)]
    (ctx.run_dir / EVENTS_FILE).write_text("".join(json.dumps(e) + "\n" for e in earlier))

    class FakeRunner:
        running, proc, final = False, None, None

        def resume(self):
            pass

    page._launch(FakeRunner(), resume=True)
    page.on_event({"event": "start", "resumed_from": 3, "images": 10, "preset": "tiny"})
    page.on_event({"event": "progress", "step": 4, "total": 20, "losses": losses})
    assert page.steps == [1, 2, 3, 4]  # step 4 of the first run was redone, not doubled
    assert list(page.curves["loss"].getData()[0]) == [1, 2, 3, 4]


# --- 14. the results alarm reaches the operator ----------------------------------------------------
def test_results_alarm_is_shown_in_the_status_bar(qtbot):
    from app.widgets.status_bar import CameraStatusBar
    from core.inspection.session import SessionStatus

    bar = CameraStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.show_status(SessionStatus(source="sim", state="streaming",
                                  alarm="results not being recorded: disk full (12 waiting)"))
    assert bar.fault_label.isVisible() and "not being recorded" in bar.fault_label.text()
    bar.show_status(SessionStatus(source="sim", state="streaming"))
    assert not bar.fault_label.isVisible()
