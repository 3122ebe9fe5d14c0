"""The station's accounts: ``<data>/users.json`` (engineers and administrators).

Each user has a name, a role, a scrypt hash of a password or PIN (never the secret), created
and changed times, and lock-out state: after ``max_failures`` failed sign-ins the account
is locked for ``lockout_s``, doubling with each further lock-out up to ``lockout_max_s``.
That state lives in the same file, so a restart does not reset it. Every change is written
atomically under an inter-process lock (the GUI and the CLI may both be running).

User management (add, remove, reset a password, change a role) is audited when an
``audit`` trail is given: the change is undone if its audit entry cannot be written, so no
change goes unrecorded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.atomic import atomic_write_text
from core.auth import passwords
from core.auth.errors import AuthError, BadCredentials, LockedOut
from core.auth.roles import LOGIN_ROLES, Role
from core.auth.settings import AuthSettings
from core.filelock import FileLock, LockBusyError

log = logging.getLogger(__name__)

USERS_FILE = "users.json"
FORMAT = 1
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
WRONG = "wrong name or password"


class AuditSink(Protocol):
    def record(self, user: str, role: str, action: str, target: str | None = None,
               old: Any = None, new: Any = None, reason: str | None = None) -> Any: ...


@dataclass(frozen=True)
class Actor:
    """Who performs a change, as the audit trail names them."""

    name: str
    role: str


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    kind: str  # "pin" or "password"
    created: float
    changed: float
    locked_until: float = 0.0
    failures: int = 0


def check_name(name: object) -> str:
    """The user name, lower-cased; AuthError with the rule otherwise."""
    if not isinstance(name, str):
        raise AuthError(f"user name must be text, got {name!r}")
    norm = name.strip().lower()
    if not NAME_RE.match(norm):
        raise AuthError(f"user name must be 1-32 letters, digits, '.', '_' or '-' (starting "
                        f"with a letter or digit), got {name!r}")
    return norm


class UserStore:
    """Accounts under ``data_dir``. ``clock``: wall time (lock-outs survive restarts)."""

    def __init__(self, data_dir: str | os.PathLike, *, settings: AuthSettings | None = None,
                 audit: AuditSink | None = None, clock: Callable[[], float] = time.time,
                 params: passwords.ScryptParams = passwords.DEFAULT_PARAMS) -> None:
        self.path = Path(data_dir) / USERS_FILE
        self.settings = settings or AuthSettings()
        self.audit, self.clock, self.params = audit, clock, params.check()
        self._lock = FileLock(self.path.with_name(USERS_FILE + ".lock"), timeout=10.0)

    # --- file ------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"format": FORMAT, "users": {}}
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthError(f"{self.path}: cannot read users ({exc})") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AuthError(f"{self.path}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("users"), dict):
            raise AuthError(f"{self.path}: not a users file (no 'users' table)")
        if doc.get("format", FORMAT) > FORMAT:
            raise AuthError(f"{self.path}: written by a newer LineInspector (format "
                            f"{doc.get('format')}); update LineInspector")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        doc["format"] = FORMAT
        atomic_write_text(self.path, json.dumps(doc, indent=1, sort_keys=True) + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._lock.acquire()
        except LockBusyError:
            raise AuthError(f"{self.path}: busy (another program is changing users); "
                            f"try again") from None
        try:
            yield
        finally:
            self._lock.release()

    def _user(self, name: str, entry: dict[str, Any]) -> User:
        try:
            return User(name=name, role=Role.parse(entry["role"], f"users.{name}.role"),
                        kind=str(entry["password"].get("kind", "password")),
                        created=float(entry["created"]), changed=float(entry["changed"]),
                        locked_until=float(entry.get("locked_until", 0.0)),
                        failures=int(entry.get("failures", 0)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise AuthError(f"{self.path}: user {name!r} is incomplete or damaged") from None

    # --- reading ----------------------------------------------------------------------

    def list(self) -> list[User]:
        """All accounts, sorted by name."""
        users = self._read()["users"]
        return [self._user(n, users[n]) for n in sorted(users)]

    def get(self, name: str) -> User | None:
        entry = self._read()["users"].get(check_name(name))
        return None if entry is None else self._user(check_name(name), entry)

    def needs_admin(self) -> bool:
        """True until an administrator exists (first start: create one)."""
        return not any(u.role is Role.ADMINISTRATOR for u in self.list())

    def wait_s(self, name: str) -> float:
        """Seconds until ``name`` may try again (0: not locked out)."""
        user = self.get(name)
        return 0.0 if user is None else self._wait(user.locked_until)

    def _wait(self, locked_until: float) -> float:
        # capped: a clock set back must not lock an account for years
        return max(0.0, min(locked_until - self.clock(), self.settings.lockout_max_s))

    # --- changes (audited) ------------------------------------------------------------

    def _change(self, by: Actor, action: str, target: str, old: Any, new: Any,
                edit: Callable[[dict[str, Any]], None]) -> None:
        with self._locked():
            doc = self._read()
            before = json.loads(json.dumps(doc))
            edit(doc["users"])
            self._write(doc)
            if self.audit is None:
                return
            try:
                self.audit.record(by.name, by.role, action, target, old, new)
            except Exception as exc:
                self._write(before)
                raise AuthError(f"{action} {target} not done: the audit trail cannot be "
                                f"written ({exc})") from None

    def add(self, name: str, role: Role | str, secret: str, *, by: Actor) -> User:
        """Create an account; AuthError if the name exists or a value breaks a rule."""
        name, role = check_name(name), Role.parse(role)
        if role not in LOGIN_ROLES:
            raise AuthError("role operator needs no account (the station runs as operator "
                            "when nobody is signed in)")
        record = passwords.hash_secret(passwords.check_secret(secret), self.params)
        now = self.clock()

        def edit(users: dict[str, Any]) -> None:
            if name in users:
                raise AuthError(f"user {name!r} exists already")
            users[name] = {"role": role.label, "password": record, "created": now,
                           "changed": now, "failures": 0, "lockouts": 0, "locked_until": 0.0}

        self._change(by, "user_add", name, None, {"role": role.label, "kind": record["kind"]},
                     edit)
        return self._user(name, self._read()["users"][name])

    def create_first_admin(self, name: str, secret: str) -> User:
        """First start (the GUI's setup dialog): the administrator, audited as made by
        themselves; AuthError once an administrator exists (a second one is added by an
        administrator, or from the CLI)."""
        name = check_name(name)
        with self._locked():  # held across the check and the add: two dialogs, one admin
            if not self.needs_admin():
                raise AuthError("an administrator exists already; sign in as one to add "
                                "users")
            return self.add(name, Role.ADMINISTRATOR, secret,
                            by=Actor(name, "administrator (first start)"))

    def _existing(self, users: dict[str, Any], name: str) -> dict[str, Any]:
        if name not in users:
            raise AuthError(f"no user {name!r} (see `lineinspect users list`)")
        return users[name]

    def _last_admin(self, users: dict[str, Any], name: str) -> bool:
        admins = [n for n, e in users.items() if e.get("role") == Role.ADMINISTRATOR.label]
        return admins == [name]

    def remove(self, name: str, *, by: Actor) -> None:
        """Delete an account; the last administrator cannot be removed."""
        name = check_name(name)
        old = self.get(name)

        def edit(users: dict[str, Any]) -> None:
            self._existing(users, name)
            if self._last_admin(users, name):
                raise AuthError(f"{name!r} is the last administrator: add another first")
            del users[name]

        self._change(by, "user_remove", name, old and {"role": old.role.label}, None, edit)

    def set_role(self, name: str, role: Role | str, *, by: Actor) -> None:
        name, role = check_name(name), Role.parse(role)
        if role not in LOGIN_ROLES:
            raise AuthError("role must be engineer or administrator (remove the account "
                            "to make someone an operator)")
        old = self.get(name)

        def edit(users: dict[str, Any]) -> None:
            entry = self._existing(users, name)
            if role is not Role.ADMINISTRATOR and self._last_admin(users, name):
                raise AuthError(f"{name!r} is the last administrator: add another first")
            entry["role"], entry["changed"] = role.label, self.clock()

        self._change(by, "user_role", name, old and {"role": old.role.label},
                     {"role": role.label}, edit)

    def reset_password(self, name: str, secret: str, *, by: Actor) -> None:
        """Set a new password or PIN (a forgotten one); also lifts a lock-out."""
        name = check_name(name)
        record = passwords.hash_secret(passwords.check_secret(secret), self.params)

        def edit(users: dict[str, Any]) -> None:
            entry = self._existing(users, name)
            entry.update(password=record, changed=self.clock(), failures=0, lockouts=0,
                         locked_until=0.0)

        self._change(by, "user_reset_password", name, None, {"kind": record["kind"]}, edit)

    # --- sign-in ----------------------------------------------------------------------

    def authenticate(self, name: str, secret: str) -> User:
        """The user if ``secret`` is theirs; BadCredentials or LockedOut (with the wait)."""
        try:
            name = check_name(name)
        except AuthError:
            raise BadCredentials(WRONG) from None
        with self._locked():
            doc = self._read()
            entry = doc["users"].get(name)
            if entry is None:
                passwords.dummy_verify(secret, self.params)
                raise BadCredentials(WRONG)
            wait = self._wait(float(entry.get("locked_until", 0.0)))
            if wait > 0:
                raise LockedOut(f"too many failed sign-ins for {name!r}: wait "
                                f"{_seconds(wait)} before trying again", wait)
            if passwords.verify_secret(secret, entry["password"]):
                return self._succeeded(doc, name, entry, secret)
            self._failed(doc, name, entry)
        raise AssertionError("unreachable")

    def _succeeded(self, doc: dict[str, Any], name: str, entry: dict[str, Any],
                   secret: str) -> User:
        dirty = bool(entry.get("failures") or entry.get("lockouts"))
        entry.update(failures=0, lockouts=0, locked_until=0.0)
        if passwords.needs_rehash(entry["password"], self.params):
            entry["password"] = passwords.hash_secret(secret, self.params)
            dirty = True
            log.info("password of %r re-hashed with the current scrypt parameters", name)
        if dirty:
            self._write(doc)
        return self._user(name, entry)

    def _failed(self, doc: dict[str, Any], name: str, entry: dict[str, Any]) -> None:
        s = self.settings
        entry["failures"] = int(entry.get("failures", 0)) + 1
        if entry["failures"] < s.max_failures:
            self._write(doc)
            raise BadCredentials(WRONG)
        entry["lockouts"] = int(entry.get("lockouts", 0)) + 1
        wait = min(s.lockout_s * 2 ** min(entry["lockouts"] - 1, 30), s.lockout_max_s)
        entry.update(failures=0, locked_until=self.clock() + wait)
        self._write(doc)
        log.warning("user %r locked out for %.0f s after %d failed sign-ins", name, wait,
                    s.max_failures)
        if self.audit is not None:  # a security event; the lock-out holds even unrecorded
            try:
                self.audit.record(name, str(entry.get("role", "?")), "user_lockout", name,
                                  None, {"wait_s": wait, "failures": s.max_failures})
            except Exception as exc:
                log.error("lock-out of %r not audited: %s", name, exc)
        raise LockedOut(f"{WRONG}; {s.max_failures} failed sign-ins for {name!r}: wait "
                        f"{_seconds(wait)} before trying again", wait)


def _seconds(wait: float) -> str:
    wait = max(1, round(wait))
    if wait < 120:
        return f"{wait} s"
    return f"{wait // 60} min {wait % 60:02d} s" if wait < 7200 else f"{wait / 3600:.1f} h"
