"""One audit entry, its validation, and the canonical JSON its hash is computed over."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from core.store.errors import ResultsError

ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
# Actions whose entry must say why (the issue: threshold Apply and deploy ask for a reason)
REASON_REQUIRED = frozenset({"thresholds", "deploy"})
# The actions the app records (others may be added; names follow ACTION_RE)
KNOWN_ACTIONS = ("thresholds", "deploy", "rollback", "recipe_edit", "recipe_switch",
                 "counter_reset", "forced_output", "alarm_ack", "results_prune", "user_add",
                 "user_remove", "user_role", "user_reset_password", "user_lockout",
                 "result_mark", "line_io_config")
HASHED = ("time", "user", "role", "action", "target", "old_value", "new_value", "reason")
MAX_TEXT = {"user": 64, "role": 64, "target": 200, "reason": 2000}
MAX_VALUE_CHARS = 100_000  # old/new JSON; a whole recipe fits


class AuditError(ResultsError):
    """The audit trail cannot be written or read, or an entry breaks a rule."""


def to_json(value: Any) -> str | None:
    """Canonical JSON text of an old/new value (None stays NULL); AuditError if unfit."""
    if value is None:
        return None
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit value is not plain data (numbers, text, lists, tables): "
                         f"{exc}") from None
    if len(text) > MAX_VALUE_CHARS:
        raise AuditError(f"audit value too large ({len(text)} characters, at most "
                         f"{MAX_VALUE_CHARS})")
    return text


def canonical(fields: dict[str, Any]) -> str:
    """The hashed fields as one JSON text (sorted keys, no spaces): same bytes every time."""
    return json.dumps({k: fields[k] for k in HASHED}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def check_fields(time: float, user: str, role: str, action: str, target: str | None,
                 reason: str | None) -> None:
    """AuditError naming the field that cannot be recorded."""
    if isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time):
        raise AuditError(f"audit time must be a finite number, got {time!r}")
    if not isinstance(action, str) or not ACTION_RE.match(action):
        raise AuditError(f"audit action must be a lower-case name like 'deploy', got "
                         f"{action!r}")
    for field, value, required in (("user", user, True), ("role", role, True),
                                   ("target", target, False), ("reason", reason, False)):
        if value is None and not required:
            continue
        if not isinstance(value, str) or (required and not value.strip()):
            raise AuditError(f"audit {field} must be {'non-empty ' if required else ''}text, "
                             f"got {value!r}")
        if len(value) > MAX_TEXT[field]:
            raise AuditError(f"audit {field} too long ({len(value)} characters, at most "
                             f"{MAX_TEXT[field]})")
    if action in REASON_REQUIRED and not (reason or "").strip():
        raise AuditError(f"{action} needs a reason (say why it was changed)")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: float
    user: str
    role: str
    action: str
    target: str | None
    old_value: str | None  # JSON text
    new_value: str | None
    reason: str | None
    prev_hash: str
    hash: str

    @property
    def old(self) -> Any:
        return None if self.old_value is None else json.loads(self.old_value)

    @property
    def new(self) -> Any:
        return None if self.new_value is None else json.loads(self.new_value)

    def fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in HASHED}
