"""What kind "mqtt" sends and takes: its topics, the JSON payloads and the commands read from
``<prefix>/<station>/cmd/<input>`` (pure functions; the link itself is :mod:`core.lineio.mqtt`)."""

from __future__ import annotations

import json
import logging
import math
import re
import time

from core.lineio.contract import LineCommand, LineInput, LineOutput, LineResult, StationState

_log = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 1024
_TOPIC_UNSAFE = re.compile(r"[\s/+#\x00]")


def topic_level(name: str) -> str:
    """``name`` made one topic level: no '/', '+', '#' or spaces (they would change the topic)."""
    return _TOPIC_UNSAFE.sub("_", name.strip()) or "station"


class Topics:
    def __init__(self, prefix: str, station: str) -> None:
        self.base = f"{prefix}/{topic_level(station)}"
        self.result = f"{self.base}/result"
        self.alarm = f"{self.base}/alarm"
        self.status = f"{self.base}/status"
        self.forced = f"{self.base}/forced"
        self.cmd = f"{self.base}/cmd/"
        self.cmd_filter = f"{self.base}/cmd/+"


def _dumps(d: dict) -> bytes:
    return json.dumps(d, separators=(",", ":"), allow_nan=False).encode("utf-8")


def result_payload(result: LineResult, station: str) -> bytes:
    return _dumps({**result.as_dict(), "station": station})


def alarm_payload(alarm: str, state: StationState, station: str) -> bytes:
    return _dumps({"station": station, "alarm": alarm, "active": bool(alarm), "recipe": state.recipe,
                   "last_seq": state.last_seq, "wall_time": time.time()})


def status_payload(state: StationState | None, station: str, online: bool) -> bytes:
    d = state.as_dict() if state is not None else {}
    return _dumps({**d, "station": station, "online": online, "wall_time": time.time()})


def will_payload(station: str) -> bytes:
    """The retained status the broker sets when the station vanishes without saying goodbye."""
    return _dumps({"station": station, "online": False})


def forced_payload(output: LineOutput, value: object, station: str) -> bytes:
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return _dumps({"station": station, "output": LineOutput(output).value, "value": value, "forced": True,
                   "wall_time": time.time()})


def parse_command(topics: Topics, topic: str, payload: bytes, retained: bool, source: str,
                  t: float) -> LineCommand | None:
    """The LineCommand of one message on ``cmd/<input>``; None (and a warning) when malformed.

    RECIPE's payload is the recipe's name or number as text (a JSON string or number is
    accepted too), LOT's the lot number as text; the other commands ignore their payload. Retained commands are refused:
    the broker would replay them at every reconnection."""
    name = topic[len(topics.cmd):] if topic.startswith(topics.cmd) else topic
    where = f"MQTT command on {topic[:120]!r}"
    try:
        kind = LineInput(name)
    except ValueError:
        _log.warning("%s ignored: unknown command (use cmd/%s)", where, ", cmd/".join(i.value for i in LineInput))
        return None
    if retained:
        _log.warning("%s ignored: it is retained (publish commands with retain off)", where)
        return None
    if len(payload) > MAX_COMMAND_BYTES:
        _log.warning("%s ignored: payload of %d bytes (at most %d)", where, len(payload), MAX_COMMAND_BYTES)
        return None
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        _log.warning("%s ignored: payload is not UTF-8 text", where)
        return None
    value: str | int | None = None
    if kind is LineInput.RECIPE:
        value = _recipe_value(text)
        if value is None:
            _log.warning("%s ignored: the payload must be a recipe name or number, got %r", where, text[:60])
            return None
    elif kind is LineInput.LOT:
        value = text  # checked where it is set (core.shifts.counters.check_lot); "" clears the lot
    return LineCommand(kind, value, source=source, t=t)


def _recipe_value(text: str) -> str | int | None:
    if text[:1] in ('"', "{", "["):
        try:
            decoded = json.loads(text)
        except ValueError:
            return None
        if not isinstance(decoded, str):
            return None
        text = decoded.strip()
    elif re.fullmatch(r"-?\d+", text):
        return int(text) if int(text) >= 1 else None
    if not text or any(c in text for c in "\x00\r\n"):
        return None
    return text
