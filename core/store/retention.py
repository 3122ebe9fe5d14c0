"""Archive retention limits of this station, with defaults a 256 GB panel PC survives.

A station is one data folder (one panel PC). Its limits come from ``<data>/station.toml``::

    [archive]
    max_age_days = 30      # images older than this are deleted
    max_size_mb = 20480    # beyond this total, the oldest images are deleted
    min_free_mb = 2048     # below this much free disk space no image is archived
    prune_every = 200      # retention runs on the first NG/REVIEW frame, then every N

and any of them from the environment (which wins over the file):
``LINEINSPECTOR_ARCHIVE_MAX_AGE_DAYS``, ``..._MAX_SIZE_MB``, ``..._MIN_FREE_MB``,
``..._PRUNE_EVERY``. Every value is checked: a limit of 0, a negative, NaN or infinite
value is refused with a message naming it (it would wipe the archive).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from core.store.errors import StoreError

STATION_FILE = "station.toml"
ENV_PREFIX = "LINEINSPECTOR_ARCHIVE_"

# (lowest, highest, what) per field; the lowest is exclusive for the two limits
_RANGES = {
    "max_age_days": (0.0, 36_500.0, "days"),
    "max_size_mb": (0.0, 1e9, "MB"),
    "min_free_mb": (0.0, 1e9, "MB"),
    "prune_every": (1, 1_000_000, "archived images"),
}


def check_number(name: str, value: object, *, label: str = "") -> float:
    """``value`` as a number within the field's range, or StoreError naming it (``label``)."""
    lo, hi, unit = _RANGES[name]
    label = label or name
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"{label} must be a number of {unit}, got {value!r}") from None
    positive = name in ("max_age_days", "max_size_mb")
    ok = math.isfinite(number) and number <= hi and (number > lo if positive else number >= lo)
    if name == "prune_every":
        ok = ok and number == int(number)
    if not ok:
        low = f"above {lo:g}" if positive else f"at least {lo:g}"
        raise StoreError(f"{label} must be {low} and at most {hi:g} {unit}, "
                         f"got {value!r}")
    return int(number) if name == "prune_every" else number


@dataclass(frozen=True)
class RetentionPolicy:
    """Defaults: 30 days, 20 GB, keep 2 GB free, prune every 200 archived images."""

    max_age_days: float = 30.0
    max_size_mb: float = 20 * 1024.0
    min_free_mb: float = 2048.0
    prune_every: int = 200

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, check_number(f.name, getattr(self, f.name)))

    @property
    def max_total_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)


def load_policy(data_dir: str | os.PathLike,
                env: Mapping[str, str] | None = None) -> RetentionPolicy:
    """The station's policy: defaults, then ``station.toml`` [archive], then the environment."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    path = Path(data_dir) / STATION_FILE
    if path.is_file():
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("archive", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise StoreError(f"{path}: cannot read station settings ({exc})") from None
        if not isinstance(section, dict):
            raise StoreError(f"{path}: [archive] must be a table")
        for key, value in section.items():
            if key not in _RANGES:
                raise StoreError(f"{path}: unknown setting archive.{key} (known: "
                                 f"{', '.join(_RANGES)})")
            values[key] = check_number(key, value, label=f"{path}: archive.{key}")
    for key in _RANGES:
        var = ENV_PREFIX + key.upper()
        if env.get(var, "").strip():
            values[key] = check_number(key, env[var].strip(), label=var)
    return RetentionPolicy(**values)
