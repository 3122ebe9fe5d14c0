"""Who may do what: one table from action to the least role, plus the operator's options.

An operator's start/stop and recipe selection depend on the station's configuration
(:class:`~core.auth.settings.AuthSettings`); everything else is fixed here so that the GUI,
the CLI and the tests agree on one table.
"""

from __future__ import annotations

from core.auth.errors import PermissionDenied
from core.auth.roles import Role
from core.auth.settings import AuthSettings

PERMISSIONS: dict[str, Role] = {
    "thresholds": Role.ENGINEER,
    "train": Role.ENGINEER,
    "deploy": Role.ENGINEER,
    "rollback": Role.ENGINEER,
    "line_io": Role.ENGINEER,        # line I/O settings and forced outputs
    "recipe_edit": Role.ENGINEER,
    "counter_reset": Role.ENGINEER,
    "result_mark": Role.ENGINEER,    # false reject / confirmed defect in the reject gallery
    "audit_view": Role.ENGINEER,     # the window's audit dialog (the CLI: whoever has the machine)
    "user_admin": Role.ADMINISTRATOR,
    "start_stop": Role.ENGINEER,     # operator too where allow_operator_start_stop
    "recipe_select": Role.ENGINEER,  # operator too where allow_operator_recipe_select
    "freeze": Role.OPERATOR,
    "snapshot": Role.OPERATOR,
    "alarm_ack": Role.OPERATOR,
}

_OPERATOR_OPTIONS = {"start_stop": "allow_operator_start_stop",
                     "recipe_select": "allow_operator_recipe_select"}

ACTIONS = tuple(PERMISSIONS)


def least_role(action: str, settings: AuthSettings | None = None) -> Role:
    """The lowest role allowed ``action`` on this station; ValueError for an unknown action."""
    try:
        role = PERMISSIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})") from None
    option = _OPERATOR_OPTIONS.get(action)
    if option and getattr(settings or AuthSettings(), option):
        return Role.OPERATOR
    return role


def can(role: Role | str, action: str, settings: AuthSettings | None = None) -> bool:
    """True when ``role`` may perform ``action`` (settings None: the defaults)."""
    return Role.parse(role) >= least_role(action, settings)


def require(role: Role | str, action: str, settings: AuthSettings | None = None) -> None:
    """Raise PermissionDenied (one line, naming the role needed) unless :func:`can`."""
    needed = least_role(action, settings)
    have = Role.parse(role)
    if have < needed:
        raise PermissionDenied(f"{action.replace('_', ' ')} needs the {needed.label} role "
                               f"(current role: {have.label})", action, needed.label)


def allowed_actions(role: Role | str, settings: AuthSettings | None = None) -> list[str]:
    """Every action ``role`` may perform: what a GUI enables."""
    return [a for a in ACTIONS if can(role, a, settings)]
