"""Recipe settings… in the window (offscreen Qt): only an engineer reaches it, a save asks why
and records the old and new of exactly the changed settings, a cancelled reason saves nothing,
numbers out of range cannot be typed, a failed save is said in the dialog, an alarm rule
turned on is in force at once, and the dialog closes with the session (fake idle clock)."""

import pytest

pytest.importorskip("pytestqt")

from app.auth.dialogs import ReasonDialog  # noqa: E402
from app.recipe_settings.fields import settings_of, with_settings  # noqa: E402
from core.audit import query  # noqa: E402
from core.recipe import RecipeError, Thresholds  # noqa: E402
from core.recipe.alarm_rules import AlarmRules  # noqa: E402
from core.store import paths  # noqa: E402
from core.store.recipe_store import RecipeStore  # noqa: E402
from tests.gui_helpers import give_reason, make_data_dir, open_window, sign_in  # noqa: E402
from tests.lineio_fakes import FakeClock  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def data_dir(tmp_path):
    return make_data_dir(tmp_path)


@pytest.fixture
def window(qtbot, data_dir):
    w = open_window(qtbot, data_dir, "--no-start")
    yield w
    w.close()


def edits(data_dir):
    return query(paths.results_db_path(data_dir), action="recipe_edit")


def open_settings(qtbot, w):
    w.toolbar.recipe_settings_action.trigger()
    d = w.recipe_settings.dialog
    assert d is not None and d.isVisible() and d.recipe.name == "demo"
    return d


def test_operator_cannot_reach_recipe_settings_engineer_can(qtbot, window):
    w, action = window, window.toolbar.recipe_settings_action
    assert action.isVisible() and not action.isEnabled()
    assert "Needs the engineer role" in action.toolTip()
    w.roles.guarded("recipe_edit", w.recipe_settings.open_dialog)()  # reached anyway: refused
    assert w.recipe_settings.dialog is None and "recipe edit needs the engineer role" in w.error_label.text()
    sign_in(qtbot, w)
    assert action.isEnabled() and "Needs" not in action.toolTip()
    w.toolbar.operator_action.trigger()  # the kiosk: not offered at all
    assert not action.isVisible() and not action.isEnabled()


def test_a_saved_change_asks_why_and_records_exactly_the_changed_settings(qtbot, window, data_dir):
    w = window
    sign_in(qtbot, w)
    d = open_settings(qtbot, w)
    assert not d.save_button.isEnabled()  # nothing changed yet
    hint = d.sizeHint()  # fits a 1366x768 panel PC with its title bar
    assert hint.width() <= 1366 and hint.height() <= 728, hint
    d.alarms.boxes["consecutive_ng"].setChecked(True)
    d.alarms.spins["consecutive_ng"].setValue(3)
    d.inspection.false_reject.setValue(2.5)
    assert d.save_button.isEnabled() and "2 settings changed" in d.message.text()
    d.save_button.click()
    ask = w.roles.dialog
    assert isinstance(ask, ReasonDialog) and ask.isVisible()
    ask.submit()  # no reason: refused in the dialog, nothing recorded
    assert "reason is required" in ask.message.text() and edits(data_dir) == []
    give_reason(qtbot, w, "new supplier: stop the line sooner")
    qtbot.waitUntil(lambda: "Saved" in d.message.text(), timeout=10000)
    recipe = RecipeStore(data_dir).get("demo")
    assert recipe.alarms == AlarmRules(consecutive_ng=3)  # the other rules as they were
    assert recipe.false_reject_target == pytest.approx(0.025)
    assert recipe.thresholds == Thresholds(0.3, 0.6, 0.5) and recipe.active_version == 1
    assert "consecutive_ng = 3" in RecipeStore(data_dir).recipe_file("demo").read_text()
    (entry,) = edits(data_dir)
    assert (entry.user, entry.role, entry.target) == ("eva", "engineer", "demo")
    assert entry.reason == "new supplier: stop the line sooner"
    assert entry.old == {"alarms.consecutive_ng": None, "false_reject_target": 0.01}
    assert entry.new == {"alarms.consecutive_ng": 3, "false_reject_target": 0.025}
    assert not d.save_button.isEnabled()  # what is saved is the new baseline


def test_a_cancelled_reason_saves_and_records_nothing(qtbot, window, data_dir):
    w = window
    sign_in(qtbot, w)
    d = open_settings(qtbot, w)
    before = RecipeStore(data_dir).recipe_file("demo").read_text()
    d.inspection.model.setCurrentIndex(d.inspection.model.findData("dsr"))
    assert not d.inspection.anomalies.isEnabled()  # DSR makes its own anomalies
    d.save_button.click()
    w.roles.dialog.reject()
    w.roles.gate.wait()
    assert edits(data_dir) == [] and RecipeStore(data_dir).recipe_file("demo").read_text() == before
    assert d.isVisible() and d.save_button.isEnabled()  # still changed, still offered


def test_out_of_range_numbers_cannot_be_set_and_a_failed_save_is_said(qtbot, window, data_dir):
    w = window
    sign_in(qtbot, w)
    d = open_settings(qtbot, w)
    spins = d.alarms.spins
    for key, typed, kept in (("consecutive_ng", 0, 1), ("skip_window", 5, 10),
                             ("yield_below_pct", 0.0, 0.1), ("yield_below_pct", 150.0, 100.0)):
        spins[key].setValue(typed)
        assert spins[key].value() == pytest.approx(kept)
    assert not spins["consecutive_ng"].isEnabled()  # its rule is off
    d.inspection.false_reject.setValue(0.0)
    assert d.inspection.false_reject.value() == pytest.approx(0.01)  # above 0 %
    d.inspection.false_reject.setValue(100.0)
    assert d.inspection.false_reject.value() == pytest.approx(99.99)  # below 100 %
    # the recipe's own validation refuses what the form never sends (one field of a pair)
    with pytest.raises(RecipeError, match="go together"):
        with_settings(d.recipe, {"alarms.yield_window": 50})
    # the file goes bad under the open dialog: the save fails, is said, nothing is written
    d.alarms.boxes["line_down"].setChecked(False)
    recipe_file = RecipeStore(data_dir).recipe_file("demo")
    recipe_file.write_text("format_version = 1\nname = 'demo'\nfalse_reject_target = 7\n")
    files = sorted(p.name for p in recipe_file.parent.iterdir())
    d.save_button.click()
    give_reason(qtbot, w, "no stack light on this line")
    qtbot.waitUntil(lambda: "Not saved" in d.message.text(), timeout=10000)
    assert "false_reject_target" in d.message.text() and d.save_button.isEnabled()
    assert "false_reject_target = 7" in recipe_file.read_text()
    assert sorted(p.name for p in recipe_file.parent.iterdir()) == files  # no half-written file


def test_settings_round_trip_through_the_recipe():
    from core.recipe import Recipe

    recipe = Recipe("part")
    values = settings_of(recipe)
    assert values["alarms.camera_fault"] is True and values["alarms.consecutive_ng"] is None
    new = with_settings(recipe, {"alarms.skip_above_pct": 12.5, "training.preset": "thorough"})
    assert new.alarms.skip_above_pct == 12.5 and new.training.preset == "thorough"
    assert recipe.alarms is None and recipe.training.preset == "fast"  # the original untouched


def test_a_rule_turned_on_fires_on_the_next_results_without_a_restart(qtbot, tmp_path):
    data = make_data_dir(tmp_path, thresholds=Thresholds(0.001, 0.002, 0.5))  # every part NG
    w = open_window(qtbot, data)
    try:
        c = w.controller
        qtbot.waitUntil(lambda: c.session is not None and c.counters.snapshot().ng >= 5, timeout=30000)
        session = c.session
        assert not w.alarms.banner.isVisible()  # no rule for NG in a row yet
        sign_in(qtbot, w)
        d = open_settings(qtbot, w)
        d.alarms.boxes["consecutive_ng"].setChecked(True)
        d.alarms.spins["consecutive_ng"].setValue(3)
        d.save_button.click()
        give_reason(qtbot, w, "stop when a batch goes bad")
        qtbot.waitUntil(w.alarms.banner.isVisible, timeout=20000)
        assert "NG parts in a row" in w.alarms.banner.text_label.text()
        assert c.session is session  # the same session: nothing was restarted
    finally:
        w.close()


def test_recipe_settings_close_with_the_session(qtbot, window):
    w = window
    sign_in(qtbot, w)
    open_settings(qtbot, w)
    w.toolbar.sign_in_action.trigger()  # sign out
    assert w.recipe_settings.dialog is None
    clock = FakeClock(1000.0)
    w.roles.gate.session.clock = clock
    sign_in(qtbot, w)
    d = open_settings(qtbot, w)
    clock.t += 10_000  # well past the idle lock
    w.roles.gate.check_idle()
    assert w.roles.gate.user_name is None and not d.isVisible() and w.recipe_settings.dialog is None
