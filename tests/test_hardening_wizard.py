"""Issue 13 items 8-10: the wizard's region of interest, time estimate, CPU sharing, time budget.

No real training here: the measuring probe is a fake whose step timings the test chooses.
"""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from app.wizard.context import WizardContext  # noqa: E402
from app.wizard.wizard import TrainingWizard  # noqa: E402
from core.store import RecipeStore, Roi  # noqa: E402

SIM = "sim:defect_rate=0,width=128,height=96,fps=50"


def _wizard(qtbot, tmp_path, **kw):
    ctx = WizardContext(RecipeStore(tmp_path / "data"), source=SIM, preset="tiny", workers=0,
                        device="cpu", **kw)
    w = TrainingWizard(context=ctx)
    qtbot.addWidget(w)
    w.show()
    return w


def _boxes(part) -> Roi:
    return Roi(*(part.spins[k].value() for k in ("x", "y", "w", "h")))


# --- item 8: the region of interest -----------------------------------------------------------
def test_roi_defaults_to_the_whole_frame_with_the_boxes_in_step(qtbot, tmp_path):
    w = _wizard(qtbot, tmp_path)
    try:
        part = w.part
        assert _boxes(part) == part.roi_view.roi()          # in step before any frame
        part.name_edit.setText("bracket")
        assert part.open_camera()
        qtbot.waitUntil(lambda: w.feed.last is not None, timeout=5000)
        assert part.roi_view.roi() == Roi(0, 0, 128, 96)    # the whole frame, not a corner
        assert _boxes(part) == Roi(0, 0, 128, 96)
        part.spins["w"].setValue(100)                       # typed: the rectangle follows
        assert part.roi_view.roi() == Roi(0, 0, 100, 96)
        w.feed.wait_frame(2.0)                              # later frames keep the choice
        assert part.roi_view.roi() == Roi(0, 0, 100, 96) == _boxes(part)
        w.next()
        assert w.currentPage() is w.collect and w.ctx.roi == Roi(0, 0, 100, 96)
    finally:
        w.shutdown()


def test_roi_clicked_through_is_the_whole_frame(qtbot, tmp_path):
    w = _wizard(qtbot, tmp_path)
    try:
        w.part.name_edit.setText("bracket")
        w.next()                                            # opens the camera itself
        assert w.currentPage() is w.collect and w.ctx.roi == Roi(0, 0, 128, 96)
        assert _boxes(w.part) == Roi(0, 0, 128, 96)
    finally:
        w.shutdown()


def test_retrain_keeps_the_recipes_roi_when_frames_arrive(qtbot, tmp_path):
    from tests.inspection_fakes import make_tiny_bundle

    store = RecipeStore(tmp_path / "data")
    roi = Roi(8, 8, 64, 48)
    store.create("plate", source=SIM, roi=roi, bundle=make_tiny_bundle(tmp_path / "t.limodel"))
    w = _wizard(qtbot, tmp_path)
    try:
        part = w.part
        part.retrain_radio.setChecked(True)
        assert part.roi_view.roi() == roi == _boxes(part)
        assert part.open_camera()
        qtbot.waitUntil(lambda: w.feed.last is not None, timeout=5000)
        assert part.roi_view.roi() == roi == _boxes(part)
        w.next()
        assert w.ctx.roi == roi
    finally:
        w.shutdown()
