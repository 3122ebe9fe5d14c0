"""Walk the training wizard on the simulated line with the tiny preset (a few steps)."""

import os
import time
from pathlib import Path

import cv2
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from app.wizard.context import WizardContext  # noqa: E402
from app.wizard.wizard import TrainingWizard  # noqa: E402
from core.camera import open_source  # noqa: E402
from core.inspection.session import LiveSession  # noqa: E402
from core.recipe import Roi  # noqa: E402
from core.store import RecipeStore  # noqa: E402

SIM = "sim:defect_rate=0,width=128,height=128,fps=50"
ROI = Roi(16, 16, 96, 96)


@pytest.fixture
def wizard(qtbot, tmp_path):
    ctx = WizardContext(RecipeStore(tmp_path / "data"), source=SIM, preset="tiny", steps=3,
                        workers=0, device="cpu")
    w = TrainingWizard(context=ctx)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


def _frames(spec: str, n: int) -> list:
    src = open_source(spec)
    src.start()
    out = []
    while len(out) < n:
        f = src.read(1.0)
        if f is not None:
            out.append(f.image)
    src.close()
    return out


def _events(page, kind):
    return [e for e in page.events if e.get("event") == kind]


def test_new_recipe_end_to_end(qtbot, wizard, tmp_path):
    ctx, part = wizard.ctx, wizard.part
    part.name_edit.setText("bracket")
    assert part.open_camera()
    qtbot.waitUntil(lambda: wizard.feed.last is not None, timeout=5000)
    part.set_roi(Roi(100, 100, 96, 96))       # outside the 128x128 frame: refused
    wizard.next()
    assert wizard.currentPage() is part and "outside the 128x128 image" in part.message.text()
    part.set_roi(ROI)
    wizard.next()
    collect = wizard.collect
    assert wizard.currentPage() is collect and ctx.roi == ROI

    for _ in range(5):                         # by button
        wizard.feed.wait_frame(2.0)
        assert collect.capture()
    assert not collect.capture()               # the same frame again: a near-duplicate
    assert "near-duplicate" in collect.message.text()
    assert not wizard.button(wizard.WizardButton.NextButton).isEnabled()  # 5 < minimum
    collect.mode_combo.setCurrentIndex(1)      # automatically every 2 frames
    collect.every_spin.setValue(2)
    collect.running_box.setChecked(True)
    qtbot.waitUntil(lambda: len(collect.folder) >= 10, timeout=10000)
    collect.running_box.setChecked(False)
    n = len(collect.folder)
    assert collect.count_label.text() == f"{n} / 50 samples"
    wizard.next()

    review = wizard.review
    assert wizard.currentPage() is review and review.gallery.count() == n
    review.gallery.item(0).setSelected(True)
    assert review.remove_selected() == 1 and review.gallery.count() == n - 1
    assert (ctx.work_dir / "samples" / "removed").is_dir()
    assert "for training" in review.split_label.text()
    wizard.next()

    train = wizard.train
    assert wizard.currentPage() is train and not train.isComplete()
    qtbot.waitUntil(lambda: "tiny" in train.seconds_per_step, timeout=120000)  # measured probe (a process: slow on a loaded machine)
    assert "on this machine" in train.estimate_label.text()
    train.start()
    qtbot.waitUntil(lambda: ctx.result is not None, timeout=60000)
    assert _events(train, "progress")[-1]["step"] == 3
    assert all(Path(p).is_file() for p in _events(train, "preview")[0]["files"].values())
    assert train.curves["loss"].getData()[0] is not None
    qtbot.waitUntil(train.isComplete, timeout=5000)
    wizard.next()

    validate = wizard.validate
    qtbot.waitUntil(validate.isComplete, timeout=30000)
    defects = tmp_path / "defects"
    for i, img in enumerate(_frames("sim:defect_rate=1,width=128,height=128,seed=5", 4)):
        defects.mkdir(exist_ok=True)
        cv2.imwrite(str(defects / f"d{i}.png"), img)   # full frames: cropped to the ROI
    validate.set_defect_folder(defects)
    qtbot.waitUntil(lambda: validate.isComplete() and bool(validate.result.defects), timeout=30000)
    assert validate.result.auroc is not None and len(validate.result.good) >= 1
    assert "AUROC" in validate.limits_label.text()
    assert ctx.validation["defects"] == 4
    wizard.next()

    # the run measured whether the model tells held-out good images from synthetic defects
    probe = ctx.result["meta"]["training"]["separability"]
    assert probe["images"] >= 1 and "auroc" in probe
    # a 3-step model may tell nothing: then deploying it needs a written reason
    ctx.result["meta"]["training"]["separability"] = {"auroc": 0.5, "spread": 0.0, "images": 2}
    ctx.validation["auroc"] = 0.5       # and the known defects did not tell either
    deploy_page = wizard.deploy
    deploy_page.initializePage()
    assert not deploy_page.deploy_button.isEnabled() and deploy_page.reason.isVisibleTo(deploy_page)
    assert "same score" in deploy_page.summary.text()
    deploy_page.deploy()  # no reason given: refused, nothing deployed
    qtbot.waitUntil(lambda: "not deployed" in deploy_page.message.text(), timeout=10000)
    assert not ctx.store.exists("bracket") and not deploy_page.deploy_button.isEnabled()
    ctx.result["meta"]["training"]["separability"] = {"auroc": 0.5, "spread": 0.2, "images": 2}
    deploy_page.initializePage()
    assert "(AUROC 0.50 &lt; 0.6); train longer" in deploy_page.summary.text()  # escaped, shown whole
    deploy_page.reason.setText("smoke test of the wizard")
    assert deploy_page.deploy_button.isEnabled()
    with qtbot.waitSignal(wizard.deployed, timeout=10000) as sig:
        wizard.deploy.deploy()  # off the GUI thread: the button is off meanwhile
        assert not deploy_page.deploy_button.isEnabled() and "Deploying" in deploy_page.message.text()
        assert not deploy_page.isComplete()
    assert sig.args == ["bracket", 1]
    assert deploy_page.isComplete() and "version 1 of 'bracket' is active" in deploy_page.message.text()
    store = ctx.store
    recipe = store.get("bracket")
    assert recipe.active_version == 1 and recipe.roi == ROI and recipe.camera.source == SIM
    assert recipe.thresholds.ok_limit == pytest.approx(ctx.validation["thresholds"]["ok_limit"])
    assert store.versions("bracket")[0].validation["defects"] == 4
    assert store.versions("bracket")[0].validation["deployed_despite"]["reason"] == "smoke test of the wizard"
    assert recipe.training.preset == "tiny" and recipe.training.anomalies == "defects"

    # the live window's session scores frames with the deployed model
    session = LiveSession(recipe, store.active_bundle_path("bracket"), SIM, device="cpu")
    session.open()
    try:
        deadline = time.monotonic() + 20
        while session.latest() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        result = session.latest()
        assert result is not None and result.model_version == 1 and result.score >= 0
    finally:
        session.close()


def _existing_recipe(store: RecipeStore, tmp_path: Path) -> Path:
    """A recipe 'plate' with an active version 1 (a 1-step tiny model trained in-process)."""
    from core.training.pipeline import train_to_bundle
    from core.training.presets import get_preset
    from core.training.trainer import TrainSettings

    good = tmp_path / "good"
    good.mkdir()
    for i, img in enumerate(_frames(SIM, 10)):
        cv2.imwrite(str(good / f"g{i}.png"), img[ROI.y:ROI.y + ROI.h, ROI.x:ROI.x + ROI.w])
    bundle = train_to_bundle(good, tmp_path / "v1.limodel",
                             TrainSettings(get_preset("tiny"), steps=1, workers=0, device="cpu")).bundle
    store.create("plate", source=SIM, roi=ROI, bundle=bundle)
    return good


def test_retrain_cancel_resume_and_crash_keep_active_model(qtbot, wizard, tmp_path):
    ctx = wizard.ctx
    store = ctx.store
    good = _existing_recipe(store, tmp_path)
    (good / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\ncut")
    ctx.steps = 400                                    # long enough to cancel mid-run
    ctx.auto_measure = False
    wizard.restart()
    part = wizard.part
    part.retrain_radio.setChecked(True)
    assert part.recipe_combo.currentText() == "plate" and part.roi_view.roi() == ROI
    wizard.next()
    assert wizard.currentPage() is wizard.collect and ctx.recipe_name == "plate" and not ctx.is_new
    assert wizard.collect.import_folder(good) == 10
    assert "skipped 1 (broken.png" in wizard.collect.message.text()
    wizard.next()
    wizard.next()
    train = wizard.train
    assert wizard.currentPage() is train

    def wait_for(kind: str, since: int = 0) -> dict:
        """The first event of ``kind`` among the page's events from index ``since``."""
        def found():
            return [e for e in train.events[since:] if e.get("event") == kind]
        qtbot.waitUntil(lambda: bool(found()), timeout=60000)
        return found()[0]

    train.start()
    wait_for("progress")
    train.cancel()
    cancelled = wait_for("cancelled")
    assert cancelled["checkpoint"] and Path(cancelled["checkpoint"]).is_file()
    assert "The active model is unchanged" in train.message.text()
    assert train.resume_button.isEnabled() and not train.isComplete()
    assert store.get("plate").active_version == 1 and len(store.versions("plate")) == 1

    mark = len(train.events)
    train.resume()                                     # continues from the checkpoint
    start = wait_for("start", mark)
    first = wait_for("progress", mark)
    assert start["resumed_from"] > 0 and first["step"] == start["resumed_from"] + 1
    assert f"resumed from step {start['resumed_from']}" in train.message.text()

    train.runner.proc.kill()                           # a crash of the training process
    crashed = wait_for("crashed", mark)
    assert "ended unexpectedly" in crashed["message"] and crashed["can_resume"]
    assert "Resume continues from the last checkpoint" in train.message.text()
    assert train.resume_button.isEnabled()
    assert store.get("plate").active_version == 1 and len(store.versions("plate")) == 1


def test_known_defects_outweigh_the_synthetic_probe():
    from core.training.deploy_gate import can_tell

    weak = {"meta": {"training": {"separability": {"auroc": 0.55, "spread": 0.2, "images": 8}}}}
    assert not can_tell(weak, {})[0]
    assert not can_tell(weak, {"auroc": 0.58, "defects": 12})[0]
    ok, why = can_tell(weak, {"auroc": 0.95, "defects": 12})
    assert ok and "12 known defective" in why and "0.95" in why
    fine = {"meta": {"training": {"separability": {"auroc": 0.9, "spread": 0.3, "images": 8}}}}
    assert can_tell(fine, {})[0]


def test_the_deploy_gate_refuses_a_model_that_cannot_tell_unless_a_reason_is_written():
    import pytest

    from core.training.deploy_gate import DeployRefused, deploy_record

    weak = {"meta": {"training": {"separability": {"auroc": 0.55, "spread": 0.2, "images": 8}}}}
    figures = {"thresholds": {"ok_limit": 0.2, "ng_limit": 0.3, "pixel": 0.5}}
    with pytest.raises(DeployRefused, match="not deployed: .*AUROC 0.55.*at least 10 characters"):
        deploy_record(weak, figures, "too short")
    record = deploy_record(weak, figures, "  checked by hand on the line  ")
    assert record["deployed_despite"]["reason"] == "checked by hand on the line"
    assert "AUROC 0.55" in record["deployed_despite"]["problem"]
    assert record["separability"]["auroc"] == 0.55 and record["thresholds"] == figures["thresholds"]
    assert figures == {"thresholds": {"ok_limit": 0.2, "ng_limit": 0.3, "pixel": 0.5}}  # not changed
    fine = {"meta": {"training": {"separability": {"auroc": 0.9, "spread": 0.3, "images": 8}}}}
    assert "deployed_despite" not in deploy_record(fine, figures)
