"""The reject gallery in the live window (offscreen Qt): newest NG / REVIEW first, the enlarged
view, marking as an engineer (stored, audited), not offered to an operator, fed as results come."""

from types import SimpleNamespace

import pytest

pytest.importorskip("pytestqt")

from core.audit import AuditTrail  # noqa: E402
from core.audit.chain import verify  # noqa: E402
from core.store.marks import MarkStore  # noqa: E402
from tests.gallery_fakes import fill  # noqa: E402
from tests.gui_helpers import make_data_dir, open_window, sign_in  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def station(qtbot, tmp_path):
    """The window (not inspecting) on a data folder with five archived parts of "demo"."""
    data_dir = make_data_dir(tmp_path)
    parts = fill(data_dir, ["NG", "OK", "REVIEW", "NG", "OK"])
    w = open_window(qtbot, data_dir, "--no-start", "--recipe", "demo")
    yield SimpleNamespace(window=w, data_dir=data_dir, parts=parts)
    w.close()


def test_gallery_shows_the_newest_rejects_first_and_a_click_enlarges_one(qtbot, station):
    window, parts, data_dir = station.window, station.parts, station.data_dir
    strip = window.gallery.strip
    ng0, _, review, ng3, _ = parts
    qtbot.waitUntil(lambda: len(strip.records) == 3, timeout=10000)
    assert [r.id for r in strip.records] == [ng3.id, review.id, ng0.id]  # newest first, no OK
    assert [r.id for r in strip.visible_records()] == [ng3.id, review.id, ng0.id]
    first = strip.tiles[0]
    assert first.text().startswith("NG 0.800") and first.property("verdict") == "NG"
    assert strip.tiles[1].text().startswith("REVIEW 0.450")
    assert not first.icon().isNull() and not strip.empty.isVisible()
    first.click()
    view = window.gallery.view
    assert view is not None and view.isVisible() and not view.isModal()
    text = view.info.text()
    assert "NG" in text and "0.8000" in text and "v1" in text and "demo" in text
    qtbot.waitUntil(lambda: view.image.pixmap() is not None and not view.image.pixmap().isNull(),
                    timeout=10000)
    with_heat = view.image.pixmap().toImage()
    view.heat_box.setChecked(False)
    assert view.image.pixmap().toImage() != with_heat  # the heat map was blended over
    assert view.mark_label.text() == "Not marked"


def test_an_engineer_marks_a_part_stored_with_who_and_audited(qtbot, station):
    window, parts, data_dir = station.window, station.parts, station.data_dir
    sign_in(qtbot, window, "anna")
    strip = window.gallery.strip
    qtbot.waitUntil(lambda: len(strip.records) == 3, timeout=10000)
    strip.tiles[1].click()  # the REVIEW part
    view = window.gallery.view
    review = parts[2]
    assert all(not b.isHidden() for b in view.buttons.values())
    view.buttons["false_reject"].click()
    qtbot.waitUntil(lambda: view.mark is not None, timeout=10000)
    mark = MarkStore.for_data_dir(data_dir).get(review.id)
    assert (mark.kind, mark.user, mark.role, mark.recipe) == ("false_reject", "anna", "engineer", "demo")
    assert "false reject" in view.mark_label.text() and "anna" in view.mark_label.text()
    assert "false reject" in strip.tiles[1].text()
    assert not view.buttons["false_reject"].isEnabled() and view.buttons["confirmed_defect"].isEnabled()
    view.buttons[None].click()  # clear
    qtbot.waitUntil(lambda: view.mark is None and "saved" in view.message.text(), timeout=10000)
    assert MarkStore.for_data_dir(data_dir).get(review.id) is None
    entries = AuditTrail.for_data_dir(data_dir).entries(action="result_mark")
    assert [(e.user, e.role, e.target, e.old_value, e.new_value) for e in entries] == [
        ("anna", "engineer", f"demo result {review.id}", None, '"false_reject"'),
        ("anna", "engineer", f"demo result {review.id}", '"false_reject"', None)]
    assert verify(data_dir / "results" / "results.sqlite").ok
    assert "false reject" not in strip.tiles[1].text()


def test_an_operator_is_not_offered_the_marks(qtbot, station):
    window, parts, data_dir = station.window, station.parts, station.data_dir
    strip = window.gallery.strip
    qtbot.waitUntil(lambda: len(strip.records) == 3, timeout=10000)
    strip.tiles[0].click()
    view = window.gallery.view
    assert window.roles.gate.user_name is None
    assert all(b.isHidden() for b in view.buttons.values())
    assert view.mark_label.text() == "Not marked"  # what is marked is still shown
    said = []
    assert not window.gallery.marker.mark(parts[3], "confirmed_defect", lambda m, e: said.append(e))
    assert "engineer" in said[0]
    assert MarkStore.for_data_dir(data_dir).get(parts[3].id) is None
    sign_in(qtbot, window, "anna")  # signing in offers them (the gate's changed signal)
    assert all(not b.isHidden() for b in view.buttons.values())
    window.toolbar.sign_in_action.trigger()  # signing out takes them away again
    assert all(b.isHidden() for b in view.buttons.values())


def test_new_rejects_join_the_strip_as_they_are_painted(qtbot, station):
    window, parts, data_dir = station.window, station.parts, station.data_dir
    strip = window.gallery.strip
    qtbot.waitUntil(lambda: len(strip.records) == 3, timeout=10000)
    strip.on_result(SimpleNamespace(verdict="OK"))
    assert not strip.timer.isActive()  # an OK part changes nothing
    (new,) = [r for r in fill(data_dir, ["NG"], start=10) if r.time > parts[-1].time]
    strip.on_result(SimpleNamespace(verdict="NG"))
    assert strip.timer.isActive()
    qtbot.waitUntil(lambda: strip.records and strip.records[0].id == new.id, timeout=10000)
    assert [r.id for r in strip.records[1:]] == [parts[3].id, parts[2].id, parts[0].id]
