"""`lineinspect users ...` and `lineinspect audit ...` end to end (in-process), and the
audit entries the existing commands now write (deploy, rollback, prune, results export)."""

import csv
import io
import sqlite3

import pytest

from core.audit import query
from core.auth import Role, UserStore
from core.cli.main import main

T0 = 1_714_550_400.0


def run(capsys, monkeypatch, *argv, stdin=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_DATA", str(tmp_path))
    monkeypatch.setattr("core.cli.cli_actor.os_user", lambda: "tech")
    return lambda *argv, stdin=None: run(capsys, monkeypatch, *argv, stdin=stdin)


def test_first_start_then_users_with_password_stdin(cli, tmp_path):
    code, out, _ = cli("users", "list")
    assert code == 0 and "users add-admin" in out
    code, out, err = cli("users", "add-admin", "--password-stdin", stdin="s3cret pass\n")
    assert code == 0 and "added administrator 'admin'" in out, err
    code, out, _ = cli("users", "add", "Anna", "--role", "engineer", "--password-stdin",
                       stdin="4711\n")
    assert code == 0 and "engineer 'anna' (pin)" in out
    users = UserStore(tmp_path)
    assert not users.needs_admin() and users.authenticate("anna", "4711").role is Role.ENGINEER
    code, out, _ = cli("users", "list")
    assert "admin" in out and "anna" in out and "engineer" in out and "pin" in out
    code, out, _ = cli("users", "reset-password", "anna", "--password-stdin", stdin="98765\n")
    assert code == 0 and users.authenticate("anna", "98765")
    code, out, _ = cli("users", "set-role", "anna", "administrator")
    assert code == 0 and users.get("anna").role is Role.ADMINISTRATOR
    code, out, _ = cli("users", "remove", "anna")
    assert code == 0 and users.get("anna") is None
    entries = query(tmp_path / "results" / "results.sqlite")
    assert [(e.user, e.role, e.action, e.target) for e in entries] == [
        ("tech", "administrator (CLI)", "user_add", "admin"),
        ("tech", "administrator (CLI)", "user_add", "anna"),
        ("tech", "administrator (CLI)", "user_reset_password", "anna"),
        ("tech", "administrator (CLI)", "user_role", "anna"),
        ("tech", "administrator (CLI)", "user_remove", "anna")]


def test_no_terminal_and_no_stdin_is_a_clear_error_never_a_hang(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "true")
    code, _, err = cli("users", "add-admin", stdin="")
    assert code == 2 and "--password-stdin" in err and "Traceback" not in err
    code, _, err = cli("users", "add-admin", "--password-stdin", stdin="")
    assert code == 2 and "no password on standard input" in err
    monkeypatch.setattr("sys.stdin", None)
    assert main(["users", "add-admin", "--password-stdin"]) == 2
    assert not (tmp_path / "users.json").exists()


def test_interactive_prompt_asks_twice(cli, monkeypatch, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    answers = iter(["s3cret pass", "s3cret typo", "s3cret pass", "s3cret pass"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin", Tty())
    code, _, err = cli("users", "add-admin")
    assert code == 2 and "the two entries differ" in err
    assert not (tmp_path / "users.json").exists()
    code, out, _ = cli("users", "add-admin")
    assert code == 0 and UserStore(tmp_path).authenticate("admin", "s3cret pass")


@pytest.mark.parametrize("argv, stdin, words", [
    (("users", "add", "bob", "--role", "operator"), "1234\n", "operator needs no account"),
    (("users", "add", "bob", "--role", "chief"), "1234\n", "--role must be one of"),
    (("users", "add", "b o b", "--role", "engineer"), "1234\n", "user name must be"),
    (("users", "add", "bob", "--role", "engineer"), "12\n", "at least 4 digits"),
    (("users", "add", "bob", "--role", "engineer"), "short\n", "at least 8 characters"),
    (("users", "remove", "ghost"), None, "no user 'ghost'"),
    (("users", "reset-password", "ghost"), "12345\n", "no user 'ghost'"),
])
def test_bad_input_is_one_line(cli, argv, stdin, words):
    extra = ("--password-stdin",) if stdin is not None and argv[1] != "remove" else ()
    code, _, err = cli(*argv, *extra, stdin=stdin)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_a_damaged_station_file_is_named(cli, tmp_path):
    (tmp_path / "station.toml").write_text("[auth]\nmax_failures = 0\n")
    code, _, err = cli("users", "list")
    assert code == 2 and "auth.max_failures must be from 1" in err


def test_audit_verify_list_and_export(cli, tmp_path):
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out
    cli("users", "add-admin", "boss", "--password-stdin", stdin="s3cret pass\n")
    cli("users", "add", "anna", "--role", "engineer", "--password-stdin", stdin="4711\n")
    code, out, _ = cli("audit", "list", "--action", "user_add", "--since", "1d")
    assert code == 0 and "user_add boss" in out and "user_add anna" in out
    code, out, _ = cli("audit", "list", "-n", "1")
    assert "anna" in out and "boss" not in out
    code, out, _ = cli("audit", "list", "--user", "nobody")
    assert "no audit entries" in out
    code, _, err = cli("audit", "list", "--since", "yesterday-ish")
    assert code == 2 and "--since" in err
    out_file = tmp_path / "a.csv"
    code, out, _ = cli("audit", "export", "--out", str(out_file))
    assert code == 0 and "wrote 2 audit entries" in out
    assert [r["target"] for r in csv.DictReader(out_file.open(newline=""))] == ["boss", "anna"]
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "2 entries" in out
    conn = sqlite3.connect(tmp_path / "results" / "results.sqlite")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET target = 'mallory' WHERE id = 2")
    conn.commit()
    conn.close()
    code, out, _ = cli("audit", "verify")
    assert code == 1 and "entry 2" in out and "edited" in out


def test_deploy_and_rollback_are_audited_and_results_export_takes_the_audit(cli, tmp_path):
    from core.store import ResultRecord, ResultsStore
    from tests.test_store_versions import make_bundle

    b1 = make_bundle(tmp_path / "1.limodel", ok=0.2, ng=0.4)
    b2 = make_bundle(tmp_path / "2.limodel", ok=0.5, ng=0.8)
    assert cli("recipe", "create", "bottle", "--model", str(b1))[0] == 0
    assert cli("recipe", "add-version", "bottle", str(b2), "--activate", "--reason",
               "retrained on week 12")[0] == 0
    assert cli("recipe", "rollback", "bottle")[0] == 0
    entries = query(tmp_path / "results" / "results.sqlite")
    assert [(e.action, e.target) for e in entries] == [
        ("recipe_edit", "bottle"), ("deploy", "bottle"), ("rollback", "bottle")]
    deploy = entries[1]
    assert deploy.reason == "retrained on week 12"
    assert (deploy.old["version"], deploy.new["version"]) == (1, 2)
    assert deploy.new["thresholds"]["ok_limit"] == 0.5
    assert entries[2].reason == "(none given on the command line)"

    with ResultsStore(tmp_path) as store:
        store.append(ResultRecord(T0, "bottle", 1, 0.2, 0.4, None, 0.1, "OK"))
    out = tmp_path / "export" / "results.csv"
    code, text, _ = cli("results", "export", "--out", str(out))
    assert code == 0 and "wrote 3 audit entries" in text
    rows = list(csv.DictReader((tmp_path / "export" / "results.audit.csv").open(newline="")))
    assert [r["action"] for r in rows] == ["recipe_edit", "deploy", "rollback"]
    other = tmp_path / "export" / "only.csv"
    assert cli("results", "export", "--out", str(other), "--no-audit")[0] == 0
    assert not (tmp_path / "export" / "only.audit.csv").exists()
