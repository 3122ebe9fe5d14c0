"""ActionGate: one call for each change a user makes at the station, in the right order:
check the role, write the audit entry, then (for Apply) lock the session.

The audit entry is written before the caller applies the change: if it cannot be written
(AuditError) or the role does not allow it (PermissionDenied), the caller does not apply
it, so nothing that alters what the station decides goes unrecorded. Some actions are
named differently in the permissions table and in the audit trail (``recipe_select`` is
audited as ``recipe_switch``, ``line_io`` as ``forced_output``...): pass ``audit_as``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from core.auth.session import AuthSession

LOCK_AFTER = frozenset({"thresholds"})  # the issue: the lock must not stay open after Apply


class AuditRecorder(Protocol):
    def record(self, user: str, role: str, action: str, target: str | None = None,
               old: Any = None, new: Any = None, reason: str | None = None) -> Any: ...


class ActionGate:
    def __init__(self, session: AuthSession, trail: AuditRecorder, *,
                 lock_after: Iterable[str] = LOCK_AFTER) -> None:
        self.session, self.trail = session, trail
        self.lock_after = frozenset(lock_after)

    def perform(self, action: str, target: str | None = None, old: Any = None,
                new: Any = None, reason: str | None = None, *,
                audit_as: str | None = None) -> Any:
        """Check ``action`` against the current role (PermissionDenied), record it
        (AuditError: do not apply), and lock the session after an Apply. Returns the
        audit entry; the caller applies the change only once this returned."""
        self.session.require(action)
        user, role = self.session.actor
        entry = self.trail.record(user, role, audit_as or action, target, old, new, reason)
        if action in self.lock_after:
            self.session.lock("apply")
        else:
            self.session.touch()
        return entry
