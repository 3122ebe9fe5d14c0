"""Widgets on their own: image view layers and readout, thresholds panel rules, verdict tile."""

import json
from pathlib import Path

import numpy as np
import pytest

from core.inspection.history import WhatIfCounts
from core.recipe import Thresholds
from tests.gui_helpers import make_data_dir, open_window, sign_in

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _row_major():
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")


def test_image_view_layers_modes_and_readout(qtbot):
    from app.widgets.image_view import LiveImageView

    v = LiveImageView()
    qtbot.addWidget(v)
    img = np.zeros((40, 60, 3), np.uint8)
    img[5, 7] = (10, 20, 30)  # BGR
    amap = np.zeros((40, 60), np.float32)
    amap[10:20, 30:50] = 0.9
    v.show_frame(img, amap, pixel=0.5)
    assert v.image_item.image.shape == (40, 60, 3)
    assert v.image_item.image[5, 7].tolist() == [30, 20, 10]  # shown as RGB
    assert v.value_at(7, 5) == ([30, 20, 10], 0.0)
    assert v.value_at(35, 15)[1] == pytest.approx(0.9)
    assert v.value_at(60, 0) is None
    outline = v.outline_item.image
    assert outline[..., 3].any() and not outline[0, 0, 3]
    v.set_pixel_threshold(0.95)  # nothing above: no outline
    assert not v.outline_item.image[..., 3].any()
    v.set_mode("heatmap")
    assert not v.image_item.isVisible() and v.heat_item.isVisible()
    v.set_mode("image")
    assert v.image_item.isVisible() and not v.heat_item.isVisible()
    v.set_mode("overlay")
    v.opacity_slider.setValue(30)
    assert v.heat_item.isVisible() and v.heat_item.opacity() == pytest.approx(0.3)
    with pytest.raises(ValueError, match="unknown mode"):
        v.set_mode("xray")


def test_thresholds_panel_keeps_order_and_reports(qtbot):
    from app.widgets.thresholds_panel import ThresholdsPanel

    p = ThresholdsPanel()
    qtbot.addWidget(p)
    p.set_applied(Thresholds(0.3, 0.6, 0.5))
    assert p.is_locked() and not p.sliders["ok_limit"].isEnabled()
    p.lock_box.setChecked(False)
    with qtbot.waitSignal(p.previewChanged) as sig:
        p.spins["ok_limit"].setValue(0.8)  # above the NG limit: pushes it up
    assert sig.args[0] == Thresholds(0.8, 0.8, 0.5)
    assert p.is_modified() and not p.preview_badge.isHidden()
    with qtbot.waitSignal(p.applyRequested) as sig:
        p.apply_button.click()
    assert sig.args[0] == Thresholds(0.8, 0.8, 0.5)
    p.revert()
    assert p.thresholds() == Thresholds(0.3, 0.6, 0.5) and not p.is_modified()
    p.show_what_if(WhatIfCounts(total=50, ok=40, review=7, ng=3))
    assert "50 frames" in p.what_if_label.text() and "3 NG" in p.what_if_label.text()


def test_verdict_tile_colour_property(qtbot):
    from app.widgets.style import APP_QSS
    from app.widgets.verdict_tile import VerdictTile

    t = VerdictTile()
    t.setStyleSheet(APP_QSS)
    qtbot.addWidget(t)
    t.show_result("NG", 0.91, 0.3, 0.6)
    assert t.verdict == "NG" and t.verdict_label.text() == "NG" and "0.910" in t.score_label.text()
    red = t.palette().color(t.backgroundRole()).name()
    t.show_result("OK", 0.1, 0.3, 0.6)
    assert t.palette().color(t.backgroundRole()).name() != red
    t.clear("STOPPED")
    assert t.verdict == "" and t.verdict_label.text() == "STOPPED"


def test_snapshot_and_operator_mode(qtbot, tmp_path):
    w = open_window(qtbot, make_data_dir(tmp_path))
    try:
        qtbot.waitUntil(lambda: w.presenter.displayed_result() is not None, timeout=20000)
        with qtbot.waitSignal(w.controller.snapshotSaved, timeout=10000) as sig:
            w.toolbar.snapshot_action.trigger()
        info = json.loads(Path(sig.args[0]).read_text())
        assert info["recipe"] == "demo" and info["verdict"] in ("OK", "REVIEW", "NG")
        for name in info["files"].values():
            assert (Path(sig.args[0]).parent / name).stat().st_size > 0
        w.toolbar.operator_action.trigger()
        assert w.isFullScreen() and w.thresholds.isHidden() and not w.tile.isHidden()
        w.set_operator_mode(False)  # leaving the kiosk needs an engineer's sign-in
        assert w.isFullScreen() and w.thresholds.isHidden()
        sign_in(qtbot, w)  # answers the dialog leaving asked for
        qtbot.waitUntil(lambda: not w.isFullScreen() and not w.thresholds.isHidden(), timeout=5000)
    finally:
        w.close()
