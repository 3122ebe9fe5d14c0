"""The station's shift keys in ``<data_dir>/station.toml``: ``timezone`` and ``[[shift]]``.

Other tables of that file (operator permissions, ...) belong to other parts and are
ignored here. Example::

    timezone = "Europe/Berlin"      # IANA name; default: the machine's zone
    [[shift]]
    name = "early"
    start = "06:00"
    [[shift]]
    name = "late"
    start = "14:00"

No ``[[shift]]`` table: no schedule (counters run until reset, results carry no shift).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.shifts.schedule import ShiftDef, ShiftSchedule, parse_hhmm

log = logging.getLogger(__name__)
STATION_FILE = "station.toml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,31}$")
SHIFT_KEYS = ("name", "start")


class ShiftConfigError(ValueError):
    """station.toml's shift keys are wrong; the message names the file and the field."""


def station_file(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / STATION_FILE


def machine_zone() -> _dt.tzinfo:
    """The machine's IANA zone ($TZ, then /etc/localtime), else UTC (said in the log)."""
    name = os.environ.get("TZ", "").lstrip(":")
    try:
        if name:
            return ZoneInfo(name)
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        log.warning("the machine's time zone is unknown; shifts use UTC (set timezone in %s)",
                    STATION_FILE)
        return _dt.timezone.utc


def zone(name: object, where: str = "timezone") -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ShiftConfigError(f"{where} must be an IANA zone name such as 'Europe/Berlin', "
                               f"got {str(name)[:40]!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShiftConfigError(f"{where}: unknown time zone {name[:40]!r} (use an IANA name "
                               f"such as 'Europe/Berlin')") from None


def schedule_from_dict(data: dict, where: str = STATION_FILE) -> ShiftSchedule | None:
    """The schedule described by ``data`` (station.toml as a dict); None when it has none."""
    def fail(msg: str) -> ShiftConfigError:
        return ShiftConfigError(f"{where}: {msg}")

    if "shift" not in data:
        if "timezone" in data:
            zone(data["timezone"])  # still checked: a typo would surface only later
        return None
    tz = machine_zone() if "timezone" not in data else None
    if tz is None:
        try:
            tz = zone(data["timezone"])
        except ShiftConfigError as exc:
            raise fail(str(exc)) from None
    tables = data["shift"]
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise fail("shift must be a list of [[shift]] tables with name and start")
    if not tables:
        raise fail("at least one [[shift]] is needed")
    shifts = []
    for i, t in enumerate(tables, 1):
        for k in t:
            if k not in SHIFT_KEYS:
                raise fail(f"shift #{i}: unknown key {str(k)[:30]!r} (expected: name, start)")
        name = t.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise fail(f"shift #{i}: name must be 1-32 letters, digits, spaces, '_', '-' or "
                       f"'.', got {str(name)[:40]!r}")
        try:
            start = parse_hhmm(t.get("start"), f"shift '{name}' start")
        except ValueError as exc:
            raise fail(str(exc)) from None
        shifts.append(ShiftDef(name, start))
    try:
        return ShiftSchedule(shifts, tz)
    except ValueError as exc:
        raise fail(str(exc)) from None


def load_schedule(data_dir: str | os.PathLike) -> ShiftSchedule | None:
    """Read the shift schedule from the station file; None when there is no file or no shift."""
    path = station_file(data_dir)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ShiftConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShiftConfigError(f"{path}: not valid TOML ({exc})") from None
    return schedule_from_dict(data, str(path))
