"""core.auth: password hashing, the users file, lock-out with a fake clock, audited changes."""

import json

import pytest

from core.audit import AuditTrail, query, verify
from core.auth import (Actor, AuthError, AuthSettings, BadCredentials, LockedOut, Role,
                       ScryptParams, UserStore, check_secret)
from core.auth import passwords

FAST = ScryptParams(n=16)  # cheap hashes: the tests check behaviour, not cost
ADMIN = Actor("root", "administrator (CLI)")


class Clock:
    def __init__(self, t=1_800_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def store(tmp_path, clock=None, audit=None, **settings):
    return UserStore(tmp_path, settings=AuthSettings(**settings), audit=audit,
                     clock=clock or Clock(), params=FAST)


def test_hash_has_salt_and_parameters_and_refuses_a_wrong_secret():
    a = passwords.hash_secret("correct horse", FAST)
    b = passwords.hash_secret("correct horse", FAST)
    assert a["salt"] != b["salt"] and a["hash"] != b["hash"]  # per-hash random salt
    assert (a["scheme"], a["n"], a["r"], a["p"], a["kind"]) == ("scrypt", 16, 8, 1, "password")
    assert "correct horse" not in json.dumps(a)
    assert passwords.verify_secret("correct horse", a)
    assert not passwords.verify_secret("correct hors", a)
    assert passwords.hash_secret("4711", FAST)["kind"] == "pin"


def test_raised_parameters_rehash_at_the_next_good_sign_in(tmp_path):
    s = store(tmp_path)
    s.add("anna", "engineer", "1234", by=ADMIN)
    stronger = UserStore(tmp_path, params=ScryptParams(n=32), clock=Clock())
    assert passwords.needs_rehash(json.loads(s.path.read_text())["users"]["anna"]["password"],
                                  stronger.params)
    stronger.authenticate("anna", "1234")
    assert json.loads(s.path.read_text())["users"]["anna"]["password"]["n"] == 32
    stronger.authenticate("anna", "1234")  # still the same secret


@pytest.mark.parametrize("secret, words", [("", "empty"), ("123", "at least 4 digits"),
                                           ("short", "at least 8 characters"),
                                           ("tab\there1", "control characters"),
                                           ("x" * 300, "too long")])
def test_secret_rules_have_clear_messages(secret, words):
    with pytest.raises(AuthError, match=words):
        check_secret(secret)


def test_add_list_and_first_start(tmp_path):
    s = store(tmp_path)
    assert s.needs_admin() and s.list() == []
    s.add("Anna", "engineer", "12345678", by=ADMIN)
    assert s.needs_admin()  # an engineer is not enough
    s.add("boss", Role.ADMINISTRATOR, "long secret", by=ADMIN)
    assert not s.needs_admin()
    assert [(u.name, u.role, u.kind) for u in s.list()] == [
        ("anna", Role.ENGINEER, "pin"), ("boss", Role.ADMINISTRATOR, "password")]
    with pytest.raises(AuthError, match="exists already"):
        s.add("ANNA", "engineer", "1234", by=ADMIN)
    with pytest.raises(AuthError, match="operator needs no account"):
        s.add("op", "operator", "1234", by=ADMIN)
    with pytest.raises(AuthError, match="role must be one of"):
        s.add("x", "boss", "1234", by=ADMIN)
    with pytest.raises(AuthError, match="user name must be"):
        s.add("no spaces", "engineer", "1234", by=ADMIN)


def test_wrong_password_and_unknown_name_read_the_same(tmp_path):
    s = store(tmp_path)
    s.add("anna", "engineer", "1234", by=ADMIN)
    assert s.authenticate("ANNA", "1234").name == "anna"
    for name in ("anna", "nobody", "bad name!"):
        with pytest.raises(BadCredentials, match="^wrong name or password$"):
            s.authenticate(name, "9999")


def test_lock_out_doubles_says_how_long_and_survives_a_restart(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock, max_failures=3, lockout_s=30)
    s.add("anna", "engineer", "1234", by=ADMIN)
    for _ in range(2):
        with pytest.raises(BadCredentials):
            s.authenticate("anna", "0000")
    with pytest.raises(LockedOut, match="wait 30 s") as exc:
        s.authenticate("anna", "0000")
    assert exc.value.wait_s == 30
    clock.t += 10
    restarted = store(tmp_path, clock, max_failures=3, lockout_s=30)  # a new process
    with pytest.raises(LockedOut, match="wait 20 s"):
        restarted.authenticate("anna", "1234")  # even the right PIN waits
    assert restarted.wait_s("anna") == 20
    clock.t += 20
    for _ in range(2):
        with pytest.raises(BadCredentials):
            restarted.authenticate("anna", "0000")
    with pytest.raises(LockedOut, match="wait 60 s"):  # the second lock-out doubles
        restarted.authenticate("anna", "0000")
    clock.t += 60
    assert restarted.authenticate("anna", "1234").name == "anna"
    assert restarted.get("anna").failures == 0
    for _ in range(2):  # a good sign-in starts the count again
        with pytest.raises(BadCredentials):
            restarted.authenticate("anna", "0000")
    with pytest.raises(LockedOut, match="wait 30 s"):
        restarted.authenticate("anna", "0000")


def test_lock_out_is_capped_and_a_clock_set_back_cannot_lock_for_years(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock, max_failures=1, lockout_s=30, lockout_max_s=100)
    s.add("anna", "engineer", "1234", by=ADMIN)
    waits = []
    for _ in range(4):
        with pytest.raises(LockedOut) as exc:
            s.authenticate("anna", "0000")
        waits.append(exc.value.wait_s)
        clock.t += exc.value.wait_s
    assert waits == [30, 60, 100, 100]
    with pytest.raises(LockedOut):
        s.authenticate("anna", "0000")
    clock.t -= 10 * 365 * 86400
    assert s.wait_s("anna") == 100


def test_reset_password_lifts_the_lock_out(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock, max_failures=2)
    s.add("anna", "engineer", "1234", by=ADMIN)
    with pytest.raises(BadCredentials):
        s.authenticate("anna", "0000")
    with pytest.raises(LockedOut):
        s.authenticate("anna", "0000")
    s.reset_password("anna", "new secret", by=ADMIN)
    with pytest.raises(BadCredentials):
        s.authenticate("anna", "1234")
    assert s.authenticate("anna", "new secret").role is Role.ENGINEER


def test_every_user_change_is_audited_without_secrets(tmp_path):
    trail = AuditTrail(tmp_path / "results" / "results.sqlite")
    s = store(tmp_path, audit=trail)
    s.add("boss", "administrator", "long secret", by=ADMIN)
    s.add("anna", "engineer", "1234", by=Actor("boss", "administrator"))
    s.set_role("anna", "administrator", by=ADMIN)
    s.reset_password("anna", "98765", by=ADMIN)
    s.remove("anna", by=ADMIN)
    entries = query(trail.db_path)
    assert [(e.action, e.target, e.user) for e in entries] == [
        ("user_add", "boss", "root"), ("user_add", "anna", "boss"),
        ("user_role", "anna", "root"), ("user_reset_password", "anna", "root"),
        ("user_remove", "anna", "root")]
    assert entries[2].old == {"role": "engineer"} and entries[2].new == {"role": "administrator"}
    assert entries[4].old == {"role": "administrator"}
    text = trail.db_path.read_bytes()
    assert b"98765" not in text and b"long secret" not in text
    assert verify(trail.db_path).ok


def test_a_lock_out_is_audited(tmp_path):
    trail = AuditTrail(tmp_path / "results" / "results.sqlite")
    s = store(tmp_path, audit=trail, max_failures=2)
    s.add("anna", "engineer", "1234", by=ADMIN)
    with pytest.raises(BadCredentials):
        s.authenticate("anna", "0000")
    assert [e.action for e in query(trail.db_path)] == ["user_add"]  # one failure: no entry
    with pytest.raises(LockedOut):
        s.authenticate("anna", "0000")
    last = query(trail.db_path)[-1]
    assert (last.user, last.role, last.action, last.new) == (
        "anna", "engineer", "user_lockout", {"failures": 2, "wait_s": 30.0})


def test_the_last_administrator_stays(tmp_path):
    s = store(tmp_path)
    s.add("boss", "administrator", "long secret", by=ADMIN)
    with pytest.raises(AuthError, match="last administrator"):
        s.remove("boss", by=ADMIN)
    with pytest.raises(AuthError, match="last administrator"):
        s.set_role("boss", "engineer", by=ADMIN)
    with pytest.raises(AuthError, match="no user 'ghost'"):
        s.remove("ghost", by=ADMIN)


def test_a_change_whose_audit_entry_fails_is_undone(tmp_path):
    class Broken:
        def record(self, *a, **k):
            raise OSError("disk full")

    s = store(tmp_path, audit=Broken())
    with pytest.raises(AuthError, match="not done: the audit trail cannot be written"):
        s.add("anna", "engineer", "1234", by=ADMIN)
    assert s.list() == []


def test_a_damaged_users_file_is_one_clear_error(tmp_path):
    (tmp_path / "users.json").write_text("{not json")
    with pytest.raises(AuthError, match="users.json: not valid JSON"):
        store(tmp_path).list()
    (tmp_path / "users.json").write_text('{"users": {"anna": {"role": "engineer"}}}')
    with pytest.raises(AuthError, match="'anna' is incomplete or damaged"):
        store(tmp_path).list()


def test_first_start_admin_only_once(tmp_path):
    trail = AuditTrail(tmp_path / "results" / "results.sqlite")
    s = store(tmp_path, audit=trail)
    user = s.create_first_admin("Boss", "long secret")
    assert user.role is Role.ADMINISTRATOR and not s.needs_admin()
    with pytest.raises(AuthError, match="administrator exists already"):
        s.create_first_admin("eve", "long secret")
    [entry] = query(trail.db_path)
    assert (entry.user, entry.role, entry.action) == ("boss", "administrator (first start)",
                                                       "user_add")
