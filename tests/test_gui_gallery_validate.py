"""The training wizard's Validate page offers the parts marked in the reject gallery."""

import cv2
import pytest

pytest.importorskip("pytestqt")

from app.wizard.context import WizardContext  # noqa: E402
from app.wizard.validate_page import ValidatePage  # noqa: E402
from core.store import RecipeStore  # noqa: E402
from core.store.marks import MarkStore  # noqa: E402
from tests.gallery_fakes import fill, part  # noqa: E402
from tests.inspection_fakes import make_tiny_bundle  # noqa: E402

pytestmark = pytest.mark.gui


def test_validate_page_scores_the_marked_parts_of_the_recipe(qtbot, tmp_path):
    data = tmp_path / "data"
    ng, review, ng2 = fill(data, ["NG", "REVIEW", "NG"])
    marks = MarkStore.for_data_dir(data)
    marks.set(ng.id, "confirmed_defect", "anna", "engineer")
    marks.set(ng2.id, "confirmed_defect", "anna", "engineer")
    marks.set(review.id, "false_reject", "anna", "engineer")
    good = []
    for i in range(3):
        good.append(tmp_path / f"good{i}.png")
        cv2.imwrite(str(good[-1]), part(20 + i)[0])
    ctx = WizardContext(RecipeStore(data), recipe_name="demo", is_new=False, device="cpu")
    ctx.result = {"bundle": str(make_tiny_bundle(tmp_path / "tiny.limodel")),
                  "holdout": [str(p) for p in good]}
    page = ValidatePage(ctx)
    qtbot.addWidget(page)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=60000)
    text = page.marked_label.text()
    assert "of 2 confirmed defects still caught" in text and "of 1 false rejects" in text
    figures = ctx.validation["marked"]
    assert (figures["confirmed_defects"], figures["false_rejects"], figures["missing"]) == (2, 1, 0)
    assert 0 <= figures["confirmed_caught"] <= 2 and 0 <= figures["false_rejects_passed"] <= 1
    page.use_marked.setChecked(False)  # not wanted: validated without them
    qtbot.waitUntil(lambda: page.isComplete() and page.marked_label.text() == "", timeout=60000)
    assert "marked" not in ctx.validation
