"""What the window offers to the current role, and the operator kiosk (F11).

The kiosk is the operator's view whoever stands there: image, verdict, counters, and only
start / stop (if station.toml allows), the recipe selector (if allowed), freeze, snapshot and
the alarm banner's acknowledgement (the banner is not hidden here). Outside the kiosk every
action is shown, and those the role may not perform are disabled with a tooltip saying why.
"""

from __future__ import annotations

from app.auth.gate import RoleGate
from core.auth import least_role

# toolbar action attribute -> the permission it needs
ENGINEERING = {"train_action": "train", "versions_action": "rollback", "lineio_action": "line_io",
               "recipe_settings_action": "recipe_edit", "audit_action": "audit_view"}


def apply_view(window, gate: RoleGate, kiosk: bool) -> None:
    tb = window.toolbar
    for attr, action in ENGINEERING.items():
        _offer(getattr(tb, attr), gate, action, shown=not kiosk)
    # the operator's own options: in the kiosk by the station's settings, else by role
    operator = gate.settings
    tb.allow_start_stop = (operator.allow_operator_start_stop if kiosk
                           else gate.allowed("start_stop"))
    tb.allow_recipe = (operator.allow_operator_recipe_select if kiosk
                       else gate.allowed("recipe_select"))
    for a in (tb.start_action, tb.stop_action):
        a.setVisible(not kiosk or operator.allow_operator_start_stop)
    for a in tb.recipe_actions:
        a.setVisible(not kiosk or operator.allow_operator_recipe_select)
    tb.set_state(window.controller.running, bool(window.controller.busy))
    for a in tb.actions():
        if a.isSeparator():
            a.setVisible(not kiosk)  # the kiosk's few actions need no grouping
    tb.sign_in_action.setVisible(not kiosk)
    tb.users_action.setVisible(not kiosk and gate.allowed("user_admin"))
    tb.users_action.setEnabled(not kiosk and gate.allowed("user_admin"))

    reset = window.counters.reset_button
    reset.setVisible(not kiosk)
    reset.setEnabled(not kiosk and gate.allowed("counter_reset"))
    reset.setToolTip(_tip("Zero the current recipe's counters for the rest of the shift",
                          gate, "counter_reset"))
    panel = window.thresholds
    may_tune = not kiosk and gate.allowed("thresholds")
    if not may_tune and not panel.is_locked() and gate.session.last_lock_reason != "apply":
        panel.revert()  # signed out (idle, kiosk): an untried preview is not left on screen
    panel.set_may_unlock(may_tune)
    panel.lock_box.setToolTip(_tip("Unlock to change thresholds", gate, "thresholds"))
    panel.setVisible(not kiosk)
    window.histogram.setVisible(not kiosk)


def _offer(action, gate: RoleGate, permission: str, shown: bool) -> None:
    action.setVisible(shown)
    action.setEnabled(shown and gate.allowed(permission))
    base = action.property("baseTip")
    if base is None:
        base = action.toolTip()
        action.setProperty("baseTip", base)
    action.setToolTip(_tip(base, gate, permission))


def _tip(base: str, gate: RoleGate, permission: str) -> str:
    if gate.allowed(permission):
        return base
    return f"{base}\n\nNeeds the {least_role(permission, gate.settings).label} role: sign in first"
