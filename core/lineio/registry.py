"""Transport kinds and how each is built from its table in the station's line_io.toml.

Each transport module exposes ``build(kind, options, context) -> Transport`` and validates its own options, raising :class:`LineConfigError` that names the option, e.g.
``line_io transport 2 (modbus-server): port must be an integer 1-65535, got 'abc'``.
Modules are imported only when a station uses them (their protocol libraries load then).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.camera.base import CameraSource
    from core.lineio.contract import Transport


class LineConfigError(ValueError):
    """A line_io setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class TransportContext:
    """What a transport may need from the station besides its own options."""

    data_dir: Path  # the station's data folder (e.g. for MQTT's on-disk queue)
    camera: Callable[[], CameraSource | None] = lambda: None  # the open camera, if any
    station: str = "station"  # the station's name (topics, OPC UA browse names)


KINDS: dict[str, str] = {  # kind -> module exposing build()
    "genicam": "core.lineio.genicam_out",
    "modbus-server": "core.lineio.modbus",
    "modbus-client": "core.lineio.modbus",
    "opcua": "core.lineio.opcua",
    "mqtt": "core.lineio.mqtt",
    "s7": "core.lineio.s7",
}


def build_transport(kind: str, options: dict[str, Any], context: TransportContext,
                    where: str = "line_io transport") -> Transport:
    """The transport of ``kind`` built from ``options`` (without the "kind" key)."""
    if kind not in KINDS:
        raise LineConfigError(f"{where}: unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    module = importlib.import_module(KINDS[kind])
    try:
        return module.build(kind, dict(options), context)
    except LineConfigError as exc:
        raise LineConfigError(f"{where} ({kind}): {exc}") from None
