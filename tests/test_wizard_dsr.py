"""Issue 15 (app): the Train page offers DSR beside DRÆM, each with its presets and its own
measured time; the choice reaches the job and the recipe; every place a model version is
shown names its kind. The measuring probe is a fake whose step timings the test chooses."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from app.version_rows import version_rows  # noqa: E402
from app.widgets.status_bar import CameraStatusBar  # noqa: E402
from app.wizard.deploy_page import DeployPage, deploy  # noqa: E402
from app.wizard.model_choice import bundle_kind_name, describe_model_estimate, kind_name  # noqa: E402
from app.wizard.step_probe import ProcessProbe  # noqa: E402
from core.inspection.session import SessionStatus  # noqa: E402
from core.recipe import Roi, TrainingConfig  # noqa: E402
from core.store import RecipeStore  # noqa: E402
from core.training.dsr_presets import get_dsr_preset  # noqa: E402
from tests.dsr_fakes import make_tiny_dsr_bundle  # noqa: E402
from tests.inspection_fakes import make_tiny_bundle  # noqa: E402
from tests.test_hardening_wizard import FakeProbe, _train_page, _wizard  # noqa: E402

pytestmark = pytest.mark.gui
SEPARATES = {"auroc": 0.9, "spread": 0.2, "images": 4}


def _choose(page, model: str) -> None:
    page.model_combo.setCurrentIndex(page.model_combo.findData(model))


def test_draem_is_the_default_and_dsr_has_its_own_presets_and_measured_time(qtbot, tmp_path):
    w, page = _train_page(qtbot, tmp_path)
    try:
        assert page.model == "draem" and [c[::2] for c in page.probe.calls] == [("tiny", "cpu")]
        assert "DSR" in page.model_combo.itemText(1) and "texture" in page.model_combo.itemText(1)
        assert "Pick DSR" in page.when_label.text()
        page.probe.finish(0.5)
        assert page.seconds_per_step == {"tiny": 0.5}
        _choose(page, "dsr")                       # tiny exists for DSR too: it stays chosen
        assert page.preset == "tiny" and page.probe.calls[-1][::3] == ("tiny", "dsr")
        assert "measuring" in page.estimate_label.text()
        assert page.anomalies_combo.isHidden()     # DRÆM's synthetic anomalies only
        assert "l2_features" in page.plot.curves and "ssim" not in page.plot.curves
        assert page.preview_box.isHidden()         # no image-space anomaly to preview
        presets = [page.preset_combo.itemData(i) for i in range(page.preset_combo.count())]
        assert presets == ["fast", "thorough", "paper", "tiny"]
        page.probe.finish(2.0)
        assert page.seconds_per_step == {"tiny": 0.5, "dsr:tiny": 2.0}
        assert "2.00 s per step" in page.estimate_label.text()
        page.minutes_spin.setValue(1)
        assert "about 30 steps" in page.estimate_label.text()
        spec = page._spec()
        assert spec.model == "dsr" and spec.preset == "tiny" and spec.preset_overrides == {}
        calls = len(page.probe.calls)
        _choose(page, "draem")                     # measured already: no new probe, its own time
        assert len(page.probe.calls) == calls and "0.50 s per step" in page.estimate_label.text()
        assert page.anomalies_combo.isEnabled() and not page.anomalies_combo.isHidden()
        assert "ssim" in page.plot.curves and not page.preview_box.isHidden()
        assert page._spec().model == "draem" and "anomalies" in page._spec().preset_overrides
    finally:
        w.shutdown()


def test_switching_model_while_measuring_drops_the_stale_probe(qtbot, tmp_path):
    w, page = _train_page(qtbot, tmp_path)
    try:
        _choose(page, "dsr")
        assert page.probe.cancelled == 1 and page.probe.calls[-1][::3] == ("tiny", "dsr")
        page.probe.finish(None, "no such option --model")
        assert "could not measure" in page.estimate_label.text()
        assert page.seconds_per_step == {}
    finally:
        w.shutdown()


def test_the_process_probe_asks_the_estimate_for_the_dsr_model(monkeypatch):
    seen = []

    class Proc:
        def __init__(self, args, **kw):
            seen.append(args)

        def communicate(self):
            return b'{"seconds_per_step": 1.5}', b""

    import app.wizard.step_probe as sp

    monkeypatch.setattr(sp.subprocess, "Popen", Proc)
    probe = ProcessProbe()
    probe._waiter.submit = lambda fn, done: done(fn(), None)  # run inline: no thread in this test
    got = []
    probe.start("fast", 2, "cpu", lambda sps, err: got.append(sps), model="dsr")
    probe.start("fast", 2, "cpu", lambda sps, err: got.append(sps))
    at = seen[0].index("--model")
    assert seen[0][at + 1] == "dsr" and "--model" not in seen[1] and got == [1.5, 1.5]


def test_dsr_estimate_without_a_budget_counts_both_stages():
    fast = get_dsr_preset("fast")
    assert describe_model_estimate("dsr", fast, None, 0, 10).endswith("not measured yet")
    assert "≈ 20 min" in describe_model_estimate("dsr", fast, 0.4, 0, 10)  # 3000 steps + overhead


def test_a_recipe_that_says_dsr_preselects_dsr_and_deploy_keeps_the_kind(qtbot, tmp_path):
    store = RecipeStore(tmp_path / "data")
    bundle = make_tiny_dsr_bundle(tmp_path / "run" / "model.limodel")
    store.deploy("tile", bundle, source="sim", roi=Roi(0, 0, 64, 64),
                 training=TrainingConfig("fast", "defects", "dsr"))
    w = _wizard(qtbot, tmp_path)
    try:
        w.ctx.store = store
        w.ctx.retrain = "tile"
        w.part.initializePage()
        assert w.ctx.model == "dsr" and w.ctx.preset == "fast"
        w.ctx.recipe_name, w.ctx.is_new = "tile", False
        w.train.probe = FakeProbe()
        w.train.initializePage()
        assert w.train.model == "dsr" and w.train.preset == "fast"
        assert [c[::3] for c in w.train.probe.calls] == [("fast", "dsr")]
        # the deployed version's recipe says dsr, read from the bundle's metadata
        w.ctx.result = {"bundle": str(bundle), "meta": {"model": "dsr", "preset": "tiny",
                                                        "training": {"separability": SEPARATES}}}
        w.ctx.validation = {"thresholds": {"ok_limit": 0.2, "ng_limit": 0.4, "pixel": 0.5}}
        page = DeployPage(w.ctx, lambda *a: None)
        qtbot.addWidget(page)
        page.initializePage()
        assert "<b>Model:</b> DSR ·" in page.summary.text()
        version = deploy(w.ctx)
        assert store.get("tile").training.model == "dsr" and version == 2
        rows, problems = version_rows(store, "tile")
        assert [r.model for r in rows] == ["DSR", "DSR"] and not problems
    finally:
        w.shutdown()


def test_versions_and_status_bar_name_the_model_kind(qtbot, tmp_path):
    store = RecipeStore(tmp_path / "data")
    store.deploy("mixed", make_tiny_bundle(tmp_path / "a.limodel"), source="sim", roi=None)
    store.deploy("mixed", make_tiny_dsr_bundle(tmp_path / "b.limodel"), source="sim", roi=None)
    rows, _ = version_rows(store, "mixed")
    assert [(r.version, r.model) for r in rows] == [(2, "DSR"), (1, "DRÆM")]
    assert bundle_kind_name(tmp_path / "missing.limodel") == ""
    assert kind_name({}) == "DRÆM" and kind_name({"model": "dsr"}) == "DSR"
    bar = CameraStatusBar()
    qtbot.addWidget(bar)
    bar.show_status(SessionStatus(model_version=2, backend="DSR · onnxruntime (CPU, 2 threads)"))
    assert bar.model_label.text() == "| model v2 · DSR · onnxruntime (CPU, 2 threads)"
    bar.show_status(SessionStatus(model_version=1, backend="onnxruntime (CPU, 2 threads)"))
    assert bar.model_label.text() == "| model v1 · DRÆM · onnxruntime (CPU, 2 threads)"
    bar.show_status(SessionStatus(model_version=1))   # not loaded yet: no kind claimed
    assert bar.model_label.text() == "| model v1"


def test_annotated_defects_folder_is_offered_for_dsr_only_and_reaches_the_job(qtbot, tmp_path):
    import cv2
    import numpy as np

    folder = tmp_path / "defects"
    folder.mkdir()
    img = np.full((64, 64, 3), 128, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 20:30] = 255
    cv2.imwrite(str(folder / "crack1.png"), img)
    cv2.imwrite(str(folder / "crack1_mask.png"), mask)
    cv2.imwrite(str(folder / "dent2.png"), img)        # no mask: skipped, said
    empty = tmp_path / "no_masks"
    empty.mkdir()
    cv2.imwrite(str(empty / "a.png"), img)
    w, page = _train_page(qtbot, tmp_path)
    try:
        assert page.defects.isHidden()                 # DRÆM: no such option
        _choose(page, "dsr")
        assert not page.defects.isHidden()
        page.defects.set_folder(str(empty))
        assert page.defects.folder is None and "no image with a mask" in page.defects.label.text()
        assert page._spec().defects is None
        page.defects.set_folder(str(folder))
        text = page.defects.label.text()
        assert "1 annotated defect image" in text and "1 skipped" in text and "dent2.png" in text
        assert page._spec().defects == str(folder)
        page.defects.set_folder(str(tmp_path / "missing"))
        assert page.defects.folder is None and page._spec().defects is None
        page.defects.set_folder(str(folder))
        _choose(page, "draem")                         # the folder is DSR's: not sent with DRÆM
        assert page.defects.isHidden() and page._spec().defects is None
    finally:
        w.shutdown()
