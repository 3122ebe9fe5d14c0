"""Who is signed in at the station, and the locks that sign them out again.

The session locks itself (back to operator) after ``idle_lock_s`` without :meth:`touch`,
and on demand with :meth:`lock` (the GUI calls it after Apply). Time is read from an
injected monotonic ``clock``, so the idle lock can be tested without waiting. Thread-safe:
the GUI thread and workers may ask :attr:`role` at any time; :meth:`sign_in` runs scrypt
(tens of milliseconds) outside the session's lock, so a GUI should call it from a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from core.auth.permissions import can, require
from core.auth.roles import Role
from core.auth.settings import AuthSettings
from core.auth.users import User, UserStore

log = logging.getLogger(__name__)


class AuthSession:
    def __init__(self, users: UserStore, settings: AuthSettings | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.users = users
        self.settings = settings or users.settings
        self.clock = clock
        self._lock = threading.Lock()
        self._user: User | None = None
        self._last_activity = 0.0
        self.last_lock_reason = ""  # "idle", "apply", "signed out": what the GUI may show

    def sign_in(self, name: str, secret: str) -> User:
        """Sign ``name`` in; BadCredentials or LockedOut (one-line messages) otherwise."""
        user = self.users.authenticate(name, secret)
        with self._lock:
            self._user, self._last_activity = user, self.clock()
            self.last_lock_reason = ""
        log.info("%s signed in (%s)", user.name, user.role.label)
        return user

    def sign_out(self) -> None:
        self._end("signed out")

    def lock(self, reason: str = "apply") -> None:
        """Lock now (e.g. after Apply): the next engineering action needs a new sign-in."""
        self._end(reason)

    def _end(self, reason: str) -> None:
        with self._lock:
            user, self._user = self._user, None
            if user is not None:
                self.last_lock_reason = reason
        if user is not None:
            log.info("%s: session locked (%s)", user.name, reason)

    def touch(self) -> None:
        """Note user activity (a click, a key): restarts the idle countdown."""
        with self._lock:
            if self._user is not None and not self._idle_expired():
                self._last_activity = self.clock()

    def _idle_expired(self) -> bool:
        return self.clock() - self._last_activity >= self.settings.idle_lock_s

    def check_idle(self) -> bool:
        """Lock if idle too long; True when this call locked it (a GUI timer calls this)."""
        with self._lock:
            expired = self._user is not None and self._idle_expired()
        if expired:
            self._end("idle")
        return expired

    @property
    def user(self) -> User | None:
        """The signed-in user, None when locked (the idle limit is applied on reading)."""
        self.check_idle()
        with self._lock:
            return self._user

    @property
    def locked(self) -> bool:
        return self.user is None

    @property
    def role(self) -> Role:
        """The role in force now: operator when nobody is signed in or the session locked."""
        user = self.user
        return Role.OPERATOR if user is None else user.role

    def idle_left_s(self) -> float:
        """Seconds before the idle lock (0 when locked): for a countdown in the GUI."""
        with self._lock:
            if self._user is None:
                return 0.0
            return max(0.0, self.settings.idle_lock_s - (self.clock() - self._last_activity))

    def can(self, action: str) -> bool:
        return can(self.role, action, self.settings)

    def require(self, action: str) -> None:
        """PermissionDenied unless the current role may perform ``action``."""
        require(self.role, action, self.settings)

    @property
    def actor(self) -> tuple[str, str]:
        """(user, role) as the audit trail records them; ("operator", "operator") when locked."""
        user = self.user
        return ("operator", "operator") if user is None else (user.name, user.role.label)
