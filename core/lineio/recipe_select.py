"""Which recipe a RECIPE command from the line means (the GUI station and the headless one
read it the same way): a name in the station's list, or its 1-based number there (an int,
or digits, since MQTT and OPC UA may send text)."""

from __future__ import annotations


class LineCommandError(ValueError):
    """An order from the line that cannot be carried out; the message says why in one line."""


def resolve_recipe(value: object, names: list[str]) -> str:
    if isinstance(value, str) and value.strip() in names:
        return value.strip()
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if isinstance(number, int) and not isinstance(number, bool):
        if 1 <= number <= len(names):
            return names[number - 1]
        raise LineCommandError(f"recipe number {number} is not in the list (1-{len(names)})"
                               if names else f"recipe number {number}: there are no recipes")
    raise LineCommandError(f"no recipe named {str(value)[:60]!r}")
