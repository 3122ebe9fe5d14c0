"""The live window's *Train model…* and *Model versions…*: the wizard opens beside the running
inspection and shares its camera; a deployed or activated version is switched to without
stopping; the status bar names the model version and the inference backend."""

import re

import pytest

pytest.importorskip("pytestqt")

from core.inspection.frame_tap import FrameTap  # noqa: E402
from core.store.recipe_store import RecipeStore  # noqa: E402
from tests.gui_helpers import SIM, make_data_dir, open_window, our_threads, sign_in  # noqa: E402
from tests.inspection_fakes import make_tiny_bundle  # noqa: E402

pytestmark = pytest.mark.gui

V2_LIMITS = {"ok_limit": 0.2, "ng_limit": 0.7, "pixel": 0.4}
BACKEND = r"(pytorch|onnxruntime|openvino)(-int8| reference)? \(CPU, \d+ threads?( × \d+ frames)?\)"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "1")


def _add_version(data_dir, tmp_path, activate: bool) -> int:
    """Version 2 of 'demo' (other calibrated limits), as the wizard's deploy step adds it."""
    store = RecipeStore(data_dir)
    bundle = make_tiny_bundle(tmp_path / "v2.limodel", thresholds=V2_LIMITS)
    v = store.add_version("demo", bundle, trained_from="test samples",
                          validation={"auroc": 0.875, "holdout_good": 5, "defects": 3})
    if activate:
        store.activate("demo", v)
    return v


def _running(qtbot, w, version: int):
    """Wait until the window inspects with ``version`` and shows it; returns the session."""
    qtbot.waitUntil(lambda: w.controller.session is not None and not w.controller.busy, timeout=30000)
    s = w.controller.session
    qtbot.waitUntil(lambda: s.latest() is not None and s.latest().model_version == version,
                    timeout=20000)
    qtbot.waitUntil(lambda: f"model v{version}" in w.status.model_label.text(), timeout=5000)
    return s


def test_train_action_opens_wizard_sharing_the_live_camera(qtbot, tmp_path):
    w = open_window(qtbot, make_data_dir(tmp_path))
    try:
        s = _running(qtbot, w, 1)
        sign_in(qtbot, w)  # training needs an engineer
        assert re.search(rf"\| model v1 · DRÆM · {BACKEND}$", w.status.model_label.text())
        assert w.status.model_label.toolTip()  # how the backend was chosen
        w.toolbar.train_action.trigger()
        wizard = w.models.wizard
        assert wizard is not None and wizard.isVisible() and not wizard.isModal()
        part = wizard.part
        assert part.retrain_radio.isChecked() and part.recipe_combo.currentText() == "demo"
        assert part.source_edit.text() == SIM
        assert part.open_camera()
        assert isinstance(wizard.feed.grabber, FrameTap)  # no second open of the camera
        qtbot.waitUntil(lambda: wizard.feed.last is not None, timeout=5000)
        first = wizard.feed.last.frame_id
        n = s.worker.stats().inspected
        qtbot.waitUntil(lambda: wizard.feed.last.frame_id > first, timeout=5000)
        qtbot.waitUntil(lambda: s.worker.stats().inspected > n + 2, timeout=10000)  # still inspecting
        w.toolbar.train_action.trigger()
        assert w.models.wizard is wizard  # the open wizard comes to the front, no second one
        wizard.close()
        assert w.models.wizard is None
        assert w.controller.session is s and s.grabber.running  # closing it left the camera alone
    finally:
        w.close()
    assert our_threads() == []


def test_deployed_version_is_switched_to_without_a_restart(qtbot, tmp_path):
    data_dir = make_data_dir(tmp_path)
    w = open_window(qtbot, data_dir)
    try:
        s = _running(qtbot, w, 1)
        grabber, worker = s.grabber, s.worker
        sign_in(qtbot, w)
        w.toolbar.train_action.trigger()
        wizard = w.models.wizard
        v = _add_version(data_dir, tmp_path, activate=True)  # what the Deploy page does...
        RecipeStore(data_dir).create("other", source=SIM)
        with qtbot.waitSignal(w.controller.modelSwitched, timeout=30000) as sig:
            wizard.deployed.emit("demo", v)  # ...before it emits
        assert sig.args == ["demo", 2]
        assert _running(qtbot, w, 2) is s  # the same session...
        assert s.grabber is grabber and s.worker is worker and grabber.running  # ...and camera
        r = s.latest()
        assert (r.thresholds.ok_limit, r.thresholds.ng_limit) == (0.2, 0.7)  # v2's calibration
        assert w.thresholds.spins["ng_limit"].value() == pytest.approx(0.7)
        assert re.search(rf"model v2 · DRÆM · {BACKEND}", w.status.model_label.text())
        qtbot.waitUntil(lambda: w.toolbar.recipe_combo.count() == 2, timeout=5000)  # list refreshed
        assert w.toolbar.recipe_combo.currentText() == "demo"
    finally:
        w.close()
    assert our_threads() == []


def test_versions_dialog_lists_and_rolls_back_the_live_model(qtbot, tmp_path):
    data_dir = make_data_dir(tmp_path)
    _add_version(data_dir, tmp_path, activate=True)
    w = open_window(qtbot, data_dir)
    try:
        s = _running(qtbot, w, 2)
        sign_in(qtbot, w)  # rollback needs an engineer (confirmed: the helper says yes)
        w.toolbar.versions_action.trigger()
        d = w.models.versions
        assert d is not None and d.isVisible() and d.recipe == "demo"
        table = d.table
        assert table.rowCount() == 2
        cells = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(2)]
        assert cells[0][:2] == ["● active", "v2 · DRÆM (tiny-test)"]
        assert cells[1][:2] == ["", "v1 · DRÆM (tiny-test)"]
        assert cells[0][3] == "test samples" and "AUROC 0.875" in cells[0][4]
        assert "5 good, 3 defects" in cells[0][4] and cells[0][5] == "OK < 0.200, NG ≥ 0.700"
        assert cells[1][6] and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d$", cells[1][2])
        assert not d.activate_button.isEnabled()  # the active version is selected
        d.select_version(1)
        assert d.activate_button.isEnabled()
        with qtbot.waitSignal(w.controller.modelSwitched, timeout=30000) as sig:
            d.activate_button.click()
        assert sig.args == ["demo", 1]
        assert RecipeStore(data_dir).get("demo").active_version == 1
        assert _running(qtbot, w, 1) is s
        qtbot.waitUntil(lambda: d.table.item(1, 0).text() == "● active", timeout=5000)
        assert d.table.item(0, 0).text() == "" and "v1 is active" in d.message.text()
        d.close()
        assert w.models.versions is None
    finally:
        w.close()
    assert our_threads() == []


def test_activating_a_version_that_cannot_load_changes_nothing(qtbot, tmp_path):
    data_dir = make_data_dir(tmp_path)
    _add_version(data_dir, tmp_path, activate=False)
    store = RecipeStore(data_dir)
    store.version("demo", 2).bundle_path.write_bytes(b"not a model any more")
    w = open_window(qtbot, data_dir)
    try:
        s = _running(qtbot, w, 1)
        sign_in(qtbot, w)
        d = w.models.open_versions()
        d.select_version(2)
        with qtbot.waitSignal(w.controller.failed, timeout=30000):
            d.activate_button.click()
        qtbot.waitUntil(lambda: "failed" in d.message.text(), timeout=5000)
        assert store.get("demo").active_version == 1
        assert w.controller.session is s and s.latest().model_version == 1
        assert d.table.item(1, 0).text() == "● active"
    finally:
        w.close()


def test_versions_dialog_lists_the_readable_versions_beside_a_corrupt_one(qtbot, tmp_path):
    from app.version_rows import version_rows
    from app.versions_dialog import VersionsDialog

    data_dir = make_data_dir(tmp_path)
    _add_version(data_dir, tmp_path, activate=False)
    _add_version(data_dir, tmp_path, activate=False)
    store = RecipeStore(data_dir)
    (store.registry("demo").version_dir(2) / "version.json").write_text("{not json")
    d = VersionsDialog("demo", lambda n: version_rows(store, n))
    qtbot.addWidget(d)
    assert [v.version for v in d.rows] == [3, 1]  # newest first, the corrupt v2 left out
    assert d.table.rowCount() == 2 and d.table.item(1, 0).text() == "● active"
    text = d.message.text()
    assert text.startswith("v1 is active; ") and "v0002" in text and "version.json is corrupt" in text
