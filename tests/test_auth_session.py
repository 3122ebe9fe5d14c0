"""core.auth: the permissions table, station settings, and the session's locks (fake clock)."""

import pytest

from core.auth import (ACTIONS, Actor, AuthSession, AuthSettings, PermissionDenied, Role,
                       ScryptParams, SettingsError, UserStore, allowed_actions, can,
                       least_role, load_settings, require)

ADMIN = Actor("root", "administrator (CLI)")
KIOSK = {"freeze", "snapshot", "alarm_ack"}


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_what_an_operator_cannot_do():
    closed = AuthSettings(allow_operator_start_stop=False, allow_operator_recipe_select=False)
    assert set(allowed_actions(Role.OPERATOR, closed)) == KIOSK
    for action in ("thresholds", "train", "deploy", "rollback", "line_io", "recipe_edit",
                   "counter_reset", "user_admin", "start_stop", "recipe_select"):
        assert not can("operator", action, closed), action
    assert set(allowed_actions(Role.ENGINEER)) == set(ACTIONS) - {"user_admin"}
    assert set(allowed_actions(Role.ADMINISTRATOR)) == set(ACTIONS)


def test_configuration_opens_start_stop_and_recipe_selection_to_the_operator():
    opened = AuthSettings(allow_operator_start_stop=True, allow_operator_recipe_select=True)
    assert can(Role.OPERATOR, "start_stop", opened) and can(Role.OPERATOR, "recipe_select", opened)
    assert not can(Role.OPERATOR, "thresholds", opened)
    assert least_role("start_stop", AuthSettings(allow_operator_start_stop=False)) is Role.ENGINEER


def test_require_names_the_role_needed():
    require(Role.ENGINEER, "deploy")
    with pytest.raises(PermissionDenied, match="^deploy needs the engineer role "
                                               r"\(current role: operator\)$") as exc:
        require(Role.OPERATOR, "deploy")
    assert (exc.value.action, exc.value.needed) == ("deploy", "engineer")
    with pytest.raises(PermissionDenied, match="user admin needs the administrator role"):
        require("engineer", "user_admin")
    with pytest.raises(ValueError, match="unknown action 'launch'"):
        can(Role.ADMINISTRATOR, "launch")


def test_station_settings_read_only_their_own_tables(tmp_path):
    assert load_settings(tmp_path) == AuthSettings()
    (tmp_path / "station.toml").write_text(
        'timezone = "Europe/Berlin"\n[archive]\nmax_age_days = 5\n'
        '[[shift]]\nname = "early"\nstart = "06:00"\n'
        '[operator]\nallow_operator_recipe_select = true\n'
        '[auth]\nidle_lock_s = 60\nmax_failures = 3\n')
    s = load_settings(tmp_path)
    assert (s.allow_operator_recipe_select, s.idle_lock_s, s.max_failures) == (True, 60.0, 3)
    assert s.allow_operator_start_stop is True  # the default


@pytest.mark.parametrize("text, words", [
    ("[auth]\nidle_lock_s = 0\n", "auth.idle_lock_s must be from 10 to 86400, got 0"),
    ("[auth]\nmax_failures = 2.5\n", "auth.max_failures must be a whole number"),
    ("[auth]\nlockout_s = 'long'\n", "auth.lockout_s must be a number"),
    ("[operator]\nallow_operator_start_stop = 1\n", "must be true or false"),
    ("[operator]\nallow_start = true\n", "unknown setting operator.allow_start"),
    ("[auth]\nlockout_s = 600\nlockout_max_s = 60\n", "lockout_max_s .* at least"),
    ("auth = 3\n", r"\[auth\] must be a table"),
    ("[auth\n", "cannot read station settings"),
])
def test_bad_station_settings_name_the_field(tmp_path, text, words):
    (tmp_path / "station.toml").write_text(text)
    with pytest.raises(SettingsError, match=words):
        load_settings(tmp_path)


@pytest.fixture
def session(tmp_path):
    users = UserStore(tmp_path, params=ScryptParams(n=16))
    users.add("anna", "engineer", "1234", by=ADMIN)
    clock = Clock()
    return AuthSession(users, AuthSettings(idle_lock_s=60), clock=clock), clock


def test_sign_in_and_out(session):
    s, _ = session
    assert s.role is Role.OPERATOR and s.locked and s.actor == ("operator", "operator")
    assert not s.can("thresholds")
    s.sign_in("anna", "1234")
    assert s.role is Role.ENGINEER and s.can("thresholds") and s.actor == ("anna", "engineer")
    s.require("deploy")
    s.sign_out()
    assert s.role is Role.OPERATOR and s.last_lock_reason == "signed out"
    with pytest.raises(PermissionDenied):
        s.require("deploy")


def test_idle_lock_with_a_fake_clock(session):
    s, clock = session
    s.sign_in("anna", "1234")
    clock.t += 50
    s.touch()  # activity restarts the countdown
    clock.t += 50
    assert s.role is Role.ENGINEER and s.idle_left_s() == 10
    clock.t += 10
    assert s.check_idle() is True and s.role is Role.OPERATOR
    assert s.last_lock_reason == "idle" and s.check_idle() is False
    s.sign_in("anna", "1234")
    clock.t += 61
    s.touch()  # too late: a touch does not revive an expired session
    assert s.role is Role.OPERATOR


def test_lock_after_apply(session):
    s, _ = session
    s.sign_in("anna", "1234")
    s.lock("apply")
    assert s.role is Role.OPERATOR and s.user is None and s.last_lock_reason == "apply"
    assert not s.can("thresholds")



def test_the_gate_checks_records_then_locks_after_apply(session, tmp_path):
    from core.audit import AuditError, AuditTrail, query
    from core.auth import ActionGate

    s, _ = session
    trail = AuditTrail(tmp_path / "results.sqlite")
    gate = ActionGate(s, trail)
    with pytest.raises(PermissionDenied):
        gate.perform("thresholds", "cap", {"ok": 0.2}, {"ok": 0.3}, "drift")
    gate.perform("alarm_ack", "3 NG in a row")  # the operator may
    s.sign_in("anna", "1234")
    with pytest.raises(AuditError, match="needs a reason"):  # not recorded: not applied
        gate.perform("thresholds", "cap", {"ok": 0.2}, {"ok": 0.3})
    assert s.role is Role.ENGINEER
    gate.perform("recipe_select", "bottle", "cap", "bottle", audit_as="recipe_switch")
    gate.perform("thresholds", "cap", {"ok": 0.2}, {"ok": 0.3}, "drift")
    assert s.role is Role.OPERATOR and s.last_lock_reason == "apply"
    assert [(e.user, e.role, e.action) for e in query(trail.db_path)] == [
        ("operator", "operator", "alarm_ack"), ("anna", "engineer", "recipe_switch"),
        ("anna", "engineer", "thresholds")]
