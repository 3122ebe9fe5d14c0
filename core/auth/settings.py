"""Station settings of this part: ``<data>/station.toml`` tables [operator] and [auth].

::

    [operator]
    allow_operator_start_stop = true      # the kiosk offers Start / Stop
    allow_operator_recipe_select = false  # the kiosk offers the recipe list

    [auth]
    idle_lock_s = 300        # a signed-in engineer is signed out after this idle time
    max_failures = 5         # failed sign-ins before a lock-out
    lockout_s = 30           # first lock-out; each next one doubles...
    lockout_max_s = 3600     # ...up to this

Only these two tables are read; the file's other tables ([archive], [[shift]], timezone...)
belong to other parts and are ignored here. Unknown keys in these tables are refused (a
misspelt key would otherwise silently keep the default).
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.auth.errors import SettingsError

STATION_FILE = "station.toml"

# key -> (table, kind, lowest, highest)
_FIELDS: dict[str, tuple[str, type, float, float]] = {
    "allow_operator_start_stop": ("operator", bool, 0, 0),
    "allow_operator_recipe_select": ("operator", bool, 0, 0),
    "idle_lock_s": ("auth", float, 10.0, 86_400.0),
    "max_failures": ("auth", int, 1, 100),
    "lockout_s": ("auth", float, 1.0, 86_400.0),
    "lockout_max_s": ("auth", float, 1.0, 7 * 86_400.0),
}


@dataclass(frozen=True)
class AuthSettings:
    allow_operator_start_stop: bool = True
    allow_operator_recipe_select: bool = False
    idle_lock_s: float = 300.0
    max_failures: int = 5
    lockout_s: float = 30.0
    lockout_max_s: float = 3600.0

    def __post_init__(self) -> None:
        for key in _FIELDS:
            object.__setattr__(self, key, check_value(key, getattr(self, key), key))
        if self.lockout_max_s < self.lockout_s:
            raise SettingsError(f"auth.lockout_max_s ({self.lockout_max_s:g}) must be at "
                                f"least auth.lockout_s ({self.lockout_s:g})")


def check_value(key: str, value: object, label: str) -> object:
    """``value`` converted for ``key``; SettingsError naming ``label`` if it does not fit."""
    _, kind, lo, hi = _FIELDS[key]
    if kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{label} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{label} must be a number, got {value!r}")
    if kind is int and value != int(value):
        raise SettingsError(f"{label} must be a whole number, got {value!r}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise SettingsError(f"{label} must be from {lo:g} to {hi:g}, got {value!r}")
    return kind(value)


def load_settings(data_dir: str | os.PathLike) -> AuthSettings:
    """Defaults, overridden by ``station.toml`` [operator] and [auth] if the file exists."""
    path = Path(data_dir) / STATION_FILE
    if not path.is_file():
        return AuthSettings()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read station settings ({exc})") from None
    values: dict[str, object] = {}
    for table in ("operator", "auth"):
        section = doc.get(table, {})
        if not isinstance(section, dict):
            raise SettingsError(f"{path}: [{table}] must be a table")
        known = [k for k, f in _FIELDS.items() if f[0] == table]
        for key, value in section.items():
            if key not in known:
                raise SettingsError(f"{path}: unknown setting {table}.{key} "
                                    f"(known: {', '.join(known)})")
            values[key] = check_value(key, value, f"{path}: {table}.{key}")
    try:
        return AuthSettings(**values)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
