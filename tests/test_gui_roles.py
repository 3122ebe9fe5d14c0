"""Roles in the window: what an operator cannot reach, the kiosk, locks, reasons, audit
entries and confirmations (offscreen Qt; a fake clock for the idle lock)."""

import pytest

pytest.importorskip("pytestqt")

from core.audit import query  # noqa: E402
from core.store import paths  # noqa: E402
from core.store.recipe_store import RecipeStore  # noqa: E402
from tests.gui_helpers import add_user, give_reason, make_data_dir, open_window, sign_in  # noqa: E402
from tests.inspection_fakes import make_tiny_bundle  # noqa: E402

pytestmark = pytest.mark.gui


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def data_dir(tmp_path):
    return make_data_dir(tmp_path)


@pytest.fixture
def window(qtbot, data_dir):
    w = open_window(qtbot, data_dir)
    qtbot.waitUntil(lambda: w.controller.session is not None and w.thresholds.applied() is not None,
                    timeout=20000)
    yield w
    w.close()


def audit(data_dir, action):
    return query(paths.results_db_path(data_dir), action=action)


def engineering(w):
    tb = w.toolbar
    return {"train": tb.train_action.isEnabled(), "versions": tb.versions_action.isEnabled(),
            "lineio": tb.lineio_action.isEnabled(), "reset": w.counters.reset_button.isEnabled(),
            "unlock": w.thresholds.lock_box.isEnabled()}


def test_operator_cannot_reach_engineering_actions_engineer_can(qtbot, window):
    w = window
    assert engineering(w) == dict.fromkeys(("train", "versions", "lineio", "reset", "unlock"), False)
    assert "Operator" in w.roles.user_label.text() and w.toolbar.sign_in_action.text() == "Sign in…"
    assert "Needs the engineer role" in w.toolbar.train_action.toolTip()
    assert not w.toolbar.users_action.isVisible()
    # reached anyway (a shortcut, a script): refused and said, nothing opened
    w.roles.guarded("train", w.models.open_wizard)()
    assert w.models.wizard is None and "train needs the engineer role" in w.error_label.text()
    w.thresholds.lock_box.setChecked(False)
    assert w.thresholds.is_locked()
    sign_in(qtbot, w)
    assert engineering(w) == dict.fromkeys(("train", "versions", "lineio", "reset", "unlock"), True)
    assert w.roles.user_label.text() == "Signed in: eva (engineer)"
    assert w.toolbar.sign_in_action.text() == "Sign out (eva)"
    assert not w.toolbar.users_action.isVisible()  # user management: administrators only
    w.toolbar.sign_in_action.trigger()  # sign out
    assert not any(engineering(w).values()) and "Operator" in w.roles.user_label.text()


def test_wrong_password_is_said_in_the_dialog(qtbot, window):
    add_user(window.controller.data_dir)
    d = window.roles.ask_sign_in()
    d.submit()
    assert "Type your name" in d.message.text()
    d.name.setText("eva")
    d.secret.setText("9999")
    d.submit()
    qtbot.waitUntil(lambda: d.ok_button.isEnabled(), timeout=10000)
    assert "wrong" in d.message.text().lower() and d.isVisible() and window.roles.gate.user_name is None


def test_administrator_sees_users_dialog(qtbot, window):
    sign_in(qtbot, window, "root", "12345678", role="administrator")
    assert window.toolbar.users_action.isVisible() and window.toolbar.users_action.isEnabled()
    d = window.roles.open_users()
    d.name.setText("anna")
    d.secret.setText("5555")
    d.again.setText("5556")
    d.add()
    assert "differ" in d.message.text()
    d.again.setText("5555")
    d.add()
    qtbot.waitUntil(lambda: d.table.rowCount() == 2, timeout=10000)  # root and anna
    assert window.roles.gate.users.get("anna").role.label == "engineer"
    assert [e.target for e in audit(window.controller.data_dir, "user_add")][-1] == "anna"
    d.close()


@pytest.mark.parametrize("start_stop, recipe_select", [(True, False), (False, True)])
def test_kiosk_shows_only_the_operators_actions(qtbot, tmp_path, start_stop, recipe_select):
    data_dir = make_data_dir(tmp_path)
    (data_dir / "station.toml").write_text(
        f"[operator]\nallow_operator_start_stop = {str(start_stop).lower()}\n"
        f"allow_operator_recipe_select = {str(recipe_select).lower()}\n")
    w = open_window(qtbot, data_dir, "--no-start")
    try:
        sign_in(qtbot, w)
        w.toolbar.operator_action.trigger()
        tb = w.toolbar
        assert w.isFullScreen() and w.roles.gate.user_name is None  # the kiosk is the operator's
        shown = {a.text() for a in tb.actions() if a.isVisible() and a.text()}
        expected = {"Freeze", "Snapshot", "Operator mode"}
        if start_stop:
            expected |= {"Start", "Stop"}
        assert shown == expected
        assert all(a.isVisible() == recipe_select for a in tb.recipe_actions)
        assert tb.start_action.isEnabled() == start_stop
        assert w.thresholds.isHidden() and w.histogram.isHidden() and w.counters.reset_button.isHidden()
        assert not tb.train_action.isEnabled() and not tb.lineio_action.isEnabled()
        # leaving needs an engineer: Esc asks for a sign-in, cancelling it stays in the kiosk
        w.set_operator_mode(False)
        assert w.isFullScreen() and tb.operator_action.isChecked()
        w.roles.dialog.reject()
        assert w.isFullScreen()
        w.set_operator_mode(False)
        sign_in(qtbot, w)
        qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=5000)
        assert not w.thresholds.isHidden() and tb.train_action.isVisible() and tb.train_action.isEnabled()
    finally:
        w.close()


def _change_and_apply(qtbot, w):
    panel = w.thresholds
    panel.lock_box.setChecked(False)
    assert not panel.is_locked()
    panel.spins["ng_limit"].setValue(0.8)
    panel.apply_button.click()


def test_apply_asks_a_reason_is_audited_and_locks(qtbot, window, data_dir):
    w = window
    sign_in(qtbot, w)
    _change_and_apply(qtbot, w)
    dialog = w.roles.dialog
    dialog.submit()  # no reason: refused, nothing recorded or saved
    assert dialog.isVisible() and "reason is required" in dialog.message.text()
    assert audit(data_dir, "thresholds") == []
    assert RecipeStore(data_dir).get("demo").thresholds.ng_limit == pytest.approx(0.6)
    with qtbot.waitSignal(w.controller.thresholdsSaved, timeout=10000):
        give_reason(qtbot, w, "darker caps from the new supplier")
    assert RecipeStore(data_dir).get("demo").thresholds.ng_limit == pytest.approx(0.8)
    (entry,) = audit(data_dir, "thresholds")
    assert (entry.user, entry.role, entry.target) == ("eva", "engineer", "demo")
    assert entry.reason == "darker caps from the new supplier"
    assert entry.old["ng_limit"] == pytest.approx(0.6) and entry.new["ng_limit"] == pytest.approx(0.8)
    # the session locked after Apply, and the panel with it
    qtbot.waitUntil(lambda: w.roles.gate.user_name is None, timeout=5000)
    assert w.thresholds.is_locked() and not w.thresholds.lock_box.isEnabled()
    assert "Operator" in w.roles.user_label.text()


def test_idle_lock_with_a_fake_clock(qtbot, window):
    from PySide6.QtCore import Qt

    w = window
    clock = Clock()
    w.roles.gate.session.clock = clock
    sign_in(qtbot, w)
    w.thresholds.lock_box.setChecked(False)
    w.thresholds.spins["ng_limit"].setValue(0.9)  # an untried preview
    clock.t += 200
    qtbot.keyClick(w.image_view, Qt.Key.Key_Shift)  # activity restarts the countdown
    clock.t += 200  # 400 s since sign-in, 200 since the key: idle_lock_s is 300
    w.roles.gate.check_idle()
    assert w.roles.gate.user_name == "eva" and not w.thresholds.is_locked()
    clock.t += 301
    w.roles.gate.check_idle()
    assert w.roles.gate.user_name is None and w.roles.gate.session.last_lock_reason == "idle"
    assert w.thresholds.is_locked() and not any(engineering(w).values())
    assert w.thresholds.spins["ng_limit"].value() == pytest.approx(0.6)  # preview reverted


def test_counter_reset_is_confirmed_and_audited(qtbot, window, data_dir):
    w = window
    sign_in(qtbot, w)
    qtbot.waitUntil(lambda: w.controller.counters.snapshot().inspected >= 3, timeout=10000)
    asked = []
    w.roles.confirm = lambda title, text: asked.append(title) or False
    w.counters.reset_button.click()  # declined: nothing happens
    w.roles.gate.wait()
    assert asked == ["Reset counters"] and audit(data_dir, "counter_reset") == []
    w.toolbar.stop_action.trigger()
    qtbot.waitUntil(lambda: w.controller.session is None, timeout=10000)
    n = w.controller.counters.snapshot().inspected
    assert n >= 3
    w.roles.confirm = lambda title, text: True
    w.counters.reset_button.click()
    qtbot.waitUntil(lambda: w.controller.counters.snapshot().inspected == 0, timeout=5000)
    (entry,) = audit(data_dir, "counter_reset")
    assert entry.user == "eva" and entry.target == "demo" and entry.old["inspected"] == n


def test_rollback_is_confirmed_and_audited(qtbot, tmp_path, data_dir):
    store = RecipeStore(data_dir)
    v2 = store.add_version("demo", make_tiny_bundle(tmp_path / "v2.limodel"))
    store.activate("demo", v2)
    w = open_window(qtbot, data_dir, "--no-start")
    try:
        sign_in(qtbot, w)
        w.toolbar.versions_action.trigger()
        d = w.models.versions
        d.select_version(1)
        w.roles.confirm = lambda title, text: False
        d.activate_button.click()
        w.roles.gate.wait()
        assert store.get("demo").active_version == 2 and audit(data_dir, "rollback") == []
        w.roles.confirm = lambda title, text: "v2 to v1" in text
        d.select_version(1)
        with qtbot.waitSignal(w.controller.recipesChanged, timeout=20000):
            d.activate_button.click()
        assert store.get("demo").active_version == 1
        (entry,) = audit(data_dir, "rollback")
        assert (entry.user, entry.target, entry.old, entry.new) == ("eva", "demo", 2, 1)
        w.toolbar.sign_in_action.trigger()  # signing out closes the engineering pages
        assert w.models.versions is None or not w.models.versions.isVisible()
    finally:
        w.close()


def test_recipe_switch_is_audited(qtbot, window, data_dir):
    window.roles.switch_recipe("demo")  # the operator's own option is off by default
    window.roles.gate.wait()
    assert audit(data_dir, "recipe_switch") == [] and "recipe select" in window.error_label.text()
    sign_in(qtbot, window)
    window.roles.switch_recipe("demo")
    qtbot.waitUntil(lambda: len(audit(data_dir, "recipe_switch")) == 1, timeout=5000)
    assert audit(data_dir, "recipe_switch")[0].user == "eva"


def test_closing_while_inspecting_asks_first(qtbot, window):
    w = window
    w.roles.confirm = lambda title, text: False
    w.close()
    assert w.isVisible() and w.controller.running  # declined: still inspecting
    w.roles.confirm = lambda title, text: True
    w.close()
    assert not w.isVisible()


def test_first_start_offers_to_create_the_administrator(qtbot, tmp_path):
    w = open_window(qtbot, make_data_dir(tmp_path), "--no-start")
    try:
        d = w.roles.offer_first_admin()
        assert d is not None and "lineinspect users add-admin" in d.intro.text()
        d.secret.setText("short")
        d.submit()
        assert "at least" in d.message.text()
        d.secret.setText("a long secret")
        d.again.setText("another one")
        d.submit()
        assert "differ" in d.message.text()
        d.again.setText("a long secret")
        d.submit()
        qtbot.waitUntil(lambda: not d.isVisible(), timeout=10000)
        assert w.roles.gate.users.get("admin").role.label == "administrator"
        assert w.roles.offer_first_admin() is None  # once one exists: not offered again
    finally:
        w.close()


def test_forced_output_is_audited_before_it_is_driven(qtbot, tmp_path):
    data_dir = make_data_dir(tmp_path)
    w = open_window(qtbot, data_dir, "--no-start")
    try:
        w.toolbar.lineio_action.trigger()  # disabled for the operator: nothing opens
        assert w.line_io.dialog is None
        sign_in(qtbot, w)
        w.toolbar.lineio_action.trigger()
        panel = w.line_io.dialog.commission
        panel.confirm = lambda: True
        panel.value.setText("1")
        panel.request_force()
        qtbot.waitUntil(lambda: "forced" in panel.message.text().lower()
                        or "not forced" in panel.message.text(), timeout=10000)
        (entry,) = audit(data_dir, "forced_output")
        assert entry.user == "eva" and entry.target == panel.output.currentText()
        assert entry.target == "READY" and entry.new == {"value": True, "link": None}
    finally:
        w.close()


def test_a_saved_line_io_configuration_is_audited_with_the_old_and_new(qtbot, tmp_path):
    data_dir = make_data_dir(tmp_path)
    w = open_window(qtbot, data_dir, "--no-start")
    try:
        sign_in(qtbot, w)
        w.toolbar.lineio_action.trigger()
        config = w.line_io.dialog.config
        config.mapping.fields["deadline_ms"].setText("250")
        config.request(False)
        qtbot.waitUntil(lambda: (data_dir / "line_io.toml").is_file(), timeout=10000)
        assert "deadline_ms = 250" in (data_dir / "line_io.toml").read_text()
        (entry,) = audit(data_dir, "line_io_config")
        assert entry.user == "eva" and entry.target == "line_io.toml"
        assert entry.new["mapping"]["deadline_ms"] == 250
        assert entry.old is None or entry.old["mapping"]["deadline_ms"] != 250
    finally:
        w.close()


def test_wizard_deploy_from_the_window_needs_the_role_and_a_reason(qtbot, tmp_path):
    from app.wizard.context import WizardContext
    from app.wizard.deploy_page import DeployPage, deploy
    from core.auth import PermissionDenied

    data_dir = make_data_dir(tmp_path)
    store = RecipeStore(data_dir)
    fine = {"training": {"separability": {"auroc": 0.9, "spread": 0.3, "images": 8}}}
    result = {"bundle": str(make_tiny_bundle(tmp_path / "new.limodel")), "meta": fine}
    w = open_window(qtbot, data_dir, "--no-start")
    try:
        ctx = WizardContext(store, recipe_name="demo", is_new=False, result=result,
                            record_deploy=w.roles.record_deploy)
        page = DeployPage(ctx, lambda *_: None)
        qtbot.addWidget(page)
        page.deploy()  # no reason typed: refused in the page
        assert "Say why" in page.message.text() and not page.deploying
        with pytest.raises(PermissionDenied):  # nobody signed in: nothing deployed
            deploy(ctx, "", "new supplier")
        assert [v.version for v in store.versions("demo")] == [1]
        sign_in(qtbot, w)
        assert deploy(ctx, "", "new supplier") == 2
        (entry,) = audit(data_dir, "deploy")
        assert (entry.user, entry.target, entry.reason, entry.old) == ("eva", "demo", "new supplier", 1)
    finally:
        w.close()
