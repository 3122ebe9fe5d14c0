"""Text typed on the Line I/O page turned into the values the line interface takes, with a
one-line message naming the field when it cannot be used."""

from __future__ import annotations

import math
import tomllib

from core.lineio.contract import LineOutput

NUMBER_OUTPUTS = {LineOutput.SEQ: int, LineOutput.HEARTBEAT: int, LineOutput.SCORE: float}
TRUE_WORDS = ("1", "true", "on", "yes")
FALSE_WORDS = ("0", "false", "off", "no")


def parse_option(key: str, text: str) -> object:
    """A transport option as TOML reads it: 5020 is an int, 0.5 a float, true a bool, "x"
    (or anything that is none of these) a string; so the option table writes back as typed."""
    text = text.strip()
    if not key.strip():
        raise ValueError("option name is empty")
    if not text:
        return ""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: host names, topics, paths


def format_option(value: object) -> str:
    """The text that :func:`parse_option` reads back as ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # quoted only when the bare text would read back as something else
        return value if parse_option("v", value) == value and value.strip() == value else _quoted(value)
    if isinstance(value, (list, dict)):
        return _toml_inline(value)
    return str(value)


def _quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_inline(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return _quoted(value)
    return format_option(value)


def parse_force_value(output: LineOutput, text: str) -> bool | int | float:
    """The value to force ``output`` to: a whole number for SEQ / HEARTBEAT, a number for
    SCORE, on / off for the others."""
    t = text.strip().lower()
    kind = NUMBER_OUTPUTS.get(output)
    name = output.name
    if kind is int:
        try:
            return int(t)
        except ValueError:
            raise ValueError(f"{name} takes a whole number, got {text!r}") from None
    if kind is float:
        try:
            v = float(t)
        except ValueError:
            raise ValueError(f"{name} takes a number, got {text!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{name} takes a finite number, got {text!r}")
        return v
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise ValueError(f"{name} takes on / off (1 / 0), got {text!r}")
