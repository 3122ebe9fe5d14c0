"""The options of a kind "mqtt" [[transport]] table, each checked with a one-line message
naming it (the registry adds the transport's number and kind)."""

from __future__ import annotations

from typing import Any

from core.lineio.disk_queue import MAX_MESSAGES
from core.lineio.registry import LineConfigError

DEFAULTS: dict[str, Any] = {"host": None, "port": 1883, "prefix": "lineinspector", "client_id": "",
                            "username": "", "password": "", "keepalive_s": 30, "queue_max": 100_000,
                            "tls": False}
MAX_TEXT = 200


def _show(value: object) -> str:
    return repr(str(value)[:40])


def _int(opts: dict, key: str, lo: int, hi: int) -> int:
    value = opts[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LineConfigError(f"{key} must be an integer {lo}-{hi}, got {_show(value)}")
    return value


def _text(opts: dict, key: str, *, spaces: bool = False) -> str:
    value = opts[key]
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value \
            or (not spaces and any(c.isspace() for c in value)):
        rule = "a text" if spaces else "a text without spaces"
        raise LineConfigError(f"{key} must be {rule} of at most {MAX_TEXT} characters, got {_show(value)}")
    return value


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in, as MqttTransport's keyword arguments."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise LineConfigError(f"unknown option {unknown[0]!r} (use {', '.join(DEFAULTS)})")
    opts = {**DEFAULTS, **options}
    if opts["host"] is None:
        raise LineConfigError("host is required (the broker's name or address)")
    host = _text(opts, "host")
    if not host:
        raise LineConfigError("host must not be empty (the broker's name or address)")
    prefix = _text(opts, "prefix")
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix \
            or any(c in prefix for c in "+#"):
        raise LineConfigError(f"prefix must be topic levels like \"lineinspector\" or \"plant/line3\" "
                              f"(no '+', '#', empty or leading/trailing '/'), got {_show(prefix)}")
    username, password = _text(opts, "username", spaces=True), _text(opts, "password", spaces=True)
    if password and not username:
        raise LineConfigError("password is set but username is empty (set both, or neither)")
    if opts["tls"] is not False:
        raise LineConfigError(f"tls must be false (TLS is not supported yet), got {_show(opts['tls'])}")
    return {"host": host, "port": _int(opts, "port", 1, 65535), "prefix": prefix,
            "client_id": _text(opts, "client_id"), "username": username, "password": password,
            "keepalive_s": _int(opts, "keepalive_s", 5, 3600),
            "queue_max": _int(opts, "queue_max", 1, MAX_MESSAGES), "tls": False}
