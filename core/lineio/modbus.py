"""kinds "modbus-server" and "modbus-client": Modbus TCP with the register map of
:mod:`core.lineio.modbus_map` (docs/line-io.md, Modbus TCP).

"modbus-server": the station is the server (pymodbus's asyncio server in the transport's own
thread and event loop); the line's PLC reads the results and writes its commands.
"modbus-client": the PLC is the server; the station writes the results into its registers
and polls its command registers. This module checks the options and builds either.
"""

from __future__ import annotations

import socket
from typing import Any

from core.lineio.contract import Transport
from core.lineio.registry import LineConfigError, TransportContext

SERVER_DEFAULTS = {"host": "0.0.0.0", "port": 5020, "unit_id": 0, "base": 0}
CLIENT_DEFAULTS = {"host": None, "port": 502, "unit_id": 1, "base": 0, "timeout_ms": 1000, "poll_ms": 50}
LIMITS = {"port": (1, 65535), "unit_id": (0, 247), "base": (0, 65535 - 102),
          "timeout_ms": (10, 10000), "poll_ms": (10, 10000)}


def build(kind: str, options: dict[str, Any], context: TransportContext) -> Transport:
    defaults = SERVER_DEFAULTS if kind == "modbus-server" else CLIENT_DEFAULTS
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise LineConfigError(f"unknown option {unknown[0]!r} (use {', '.join(defaults)})")
    opts = {**defaults, **options}
    for key in defaults:
        if key in LIMITS:
            lo, hi = LIMITS[key]
            v = opts[key]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise LineConfigError(f"{key} must be an integer {lo}-{hi}, got {str(v)[:40]!r}")
    if kind == "modbus-server":
        from core.lineio.modbus_server import ModbusServerTransport

        return ModbusServerTransport(_ipv4(opts["host"]), opts["port"], unit_id=opts["unit_id"], base=opts["base"])
    from core.lineio.modbus_client import ModbusClientTransport

    host = opts["host"]
    if host is None:
        raise LineConfigError("host is required (the PLC's address, e.g. 192.168.0.10)")
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host) or len(host) > 253:
        raise LineConfigError(f"host must be an address or host name without spaces, got {str(host)[:40]!r}")
    return ModbusClientTransport(host, opts["port"], unit_id=opts["unit_id"], base=opts["base"],
                                 timeout_ms=opts["timeout_ms"], poll_ms=opts["poll_ms"])


def _ipv4(host: object) -> str:
    try:
        socket.inet_aton(host)  # type: ignore[arg-type]
        ok = isinstance(host, str) and host.count(".") == 3
    except (OSError, TypeError):
        ok = False
    if not ok:
        raise LineConfigError(f"host must be an IPv4 address such as 0.0.0.0, got {str(host)[:40]!r}")
    return host  # type: ignore[return-value]
