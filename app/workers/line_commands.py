"""What the GUI station does with the line's orders (on the GUI thread, one at a time):
START starts the selected recipe, STOP stops, RECIPE switches recipe (a name, or its 1-based
number in the recipe list), RESET_COUNTERS resets the current recipe's counters, LOT sets the
lot (counted and recorded with every result), ACK_ALARM clears the alarm shown. TRIGGER is the camera's and the hub's business, not the window's."""

from __future__ import annotations

import logging

from core.lineio.contract import LineCommand, LineInput
from core.lineio.recipe_select import LineCommandError, resolve_recipe  # noqa: F401 (the GUI's names)

_log = logging.getLogger(__name__)


def carry_out(controller, cmd: LineCommand) -> str:
    """Do what ``cmd`` asks of ``controller`` (a SessionController); returns what was done,
    in a few words, or raises LineCommandError."""
    kind = LineInput(cmd.kind)
    if kind is LineInput.START:
        name = controller.selected_recipe()
        if not name:
            raise LineCommandError("START: no recipe selected")
        if controller.running and controller.session.recipe.name == name:
            return f"START: '{name}' is already running"
        controller.start(name)
        return f"START: starting '{name}'"
    if kind is LineInput.STOP:
        if not controller.running:
            return "STOP: already stopped"
        controller.stop()
        return "STOP: stopping"
    if kind is LineInput.RECIPE:
        name = resolve_recipe(cmd.value, controller.recipe_names())
        controller.select_recipe(name)
        if controller.running and controller.session.recipe.name != name:
            controller.start(name)
            return f"RECIPE {cmd.value}: switching to '{name}'"
        return f"RECIPE {cmd.value}: '{name}' selected"
    if kind is LineInput.RESET_COUNTERS:
        controller.counters.reset()
        return "RESET_COUNTERS: counters of the current recipe reset"
    if kind is LineInput.LOT:
        try:
            lot = controller.shift_context.set_lot(cmd.value)
        except ValueError as exc:
            raise LineCommandError(f"LOT: {exc}") from None
        return f"LOT: lot {lot or '(none)'}"
    if kind is LineInput.ACK_ALARM:
        alarms = getattr(controller, "alarms", None)
        acked = [] if alarms is None else alarms.acknowledge_all("line")
        controller.alarmAcknowledged.emit()
        return f"ACK_ALARM: alarm cleared ({len(acked)} acknowledged)"
    return f"{kind.name}: not for the window"
