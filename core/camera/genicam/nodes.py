"""Reading and writing GenICam nodes safely (missing, read-only, out of range).

Works on any object shaped like a GenApi node wrapper as harvesters exposes it:
``.value``, ``.node.get_access_mode()``, ``.min/.max/.inc`` for numbers,
``.symbolics`` for enumerations, ``.execute()`` for commands.
"""

from __future__ import annotations

from typing import Any

from core.camera.base import Feature, FeatureInfo, Support
from core.camera.errors import FeatureError

# GenApi EAccessMode values.
NI, NA, WO, RO, RW = 0, 1, 2, 3, 4
_ACCESS_NAMES = {NI: "not implemented", NA: "not available", WO: "write-only", RO: "read-only", RW: "read-write"}

# Feature -> candidate node names, first existing one wins; plus unit.
FEATURE_NODES: dict[Feature, tuple[tuple[str, ...], str]] = {
    Feature.EXPOSURE: (("ExposureTime", "ExposureTimeAbs"), "us"),
    Feature.GAIN: (("Gain", "GainAbs"), "dB"),
    Feature.FRAME_RATE: (("AcquisitionFrameRate", "AcquisitionFrameRateAbs"), "Hz"),
    Feature.WIDTH: (("Width",), "px"),
    Feature.HEIGHT: (("Height",), "px"),
    Feature.OFFSET_X: (("OffsetX",), "px"),
    Feature.OFFSET_Y: (("OffsetY",), "px"),
    Feature.PIXEL_FORMAT: (("PixelFormat",), ""),
    Feature.TRIGGER_MODE: (("TriggerMode",), ""),
    Feature.TRIGGER_SOURCE: (("TriggerSource",), ""),
    Feature.SOFTWARE_TRIGGER: (("TriggerSoftware",), ""),
}
# Features that usually lock while streaming (TLParamsLocked) and need a restart to change.
STREAM_LOCKED = {Feature.WIDTH, Feature.HEIGHT, Feature.OFFSET_X, Feature.OFFSET_Y, Feature.PIXEL_FORMAT}


def get_node(node_map: Any, name: str) -> Any | None:
    """The node called ``name``, or None when the device does not have it."""
    try:
        node = getattr(node_map, name)
    except Exception:
        return None
    return node


def access_mode(node: Any) -> int:
    try:
        return int(node.node.get_access_mode())
    except Exception:
        return NA


def kind_of(node: Any) -> str:
    """'int', 'float', 'enum', 'command', 'bool' or 'string'."""
    name = type(node).__name__
    name = (name[1:] if name.startswith("I") else name).lower()
    if name in ("integer", "float", "enumeration", "command", "boolean", "string"):
        return {"integer": "int", "enumeration": "enum", "boolean": "bool"}.get(name, name)
    if hasattr(node, "execute"):
        return "command"
    if hasattr(node, "symbolics"):
        return "enum"
    return "float" if isinstance(getattr(node, "value", None), float) else "int"


def support_of(node: Any | None) -> Support:
    if node is None:
        return Support.NONE
    mode = access_mode(node)
    if mode == RW or (mode == WO and kind_of(node) == "command"):
        return Support.READ_WRITE
    if mode == RO:
        return Support.READ_ONLY
    return Support.NONE


def _safe(node: Any, attr: str) -> Any:
    try:
        return getattr(node, attr)
    except Exception:
        return None


def describe(node: Any | None, name: str, unit: str = "") -> FeatureInfo:
    """FeatureInfo with current value and range/choices of a node (NONE when absent)."""
    support = support_of(node)
    if node is None or support is Support.NONE:
        return FeatureInfo(support=Support.NONE, node=name if node is not None else "")
    kind = kind_of(node)
    info = FeatureInfo(support=support, node=name, unit=unit)
    if kind != "command":
        info.value = _safe(node, "value")
    if kind in ("int", "float"):
        info.minimum, info.maximum, info.increment = (_safe(node, a) for a in ("min", "max", "inc"))
    elif kind == "enum":
        info.choices = tuple(str(s) for s in (_safe(node, "symbolics") or ()))
    return info


def write(node: Any | None, name: str, value: Any) -> None:
    """Write ``value`` to a node with checks that name the node and the problem."""
    if node is None:
        raise FeatureError(f"the device has no {name} node")
    mode = access_mode(node)
    if mode not in (RW, WO):
        raise FeatureError(f"{name} is {_ACCESS_NAMES.get(mode, f'access mode {mode}')}, cannot set it to {value!r}")
    kind = kind_of(node)
    if kind == "command":
        node.execute()
        return
    if kind == "enum":
        choices = [str(s) for s in (_safe(node, "symbolics") or ())]
        if str(value) not in choices:
            raise FeatureError(f"{name} cannot be {value!r}; choices: {', '.join(choices)}")
        value = str(value)
    elif kind in ("int", "float"):
        try:
            number = int(value) if kind == "int" else float(value)
        except (TypeError, ValueError):
            raise FeatureError(f"{name} needs a number, got {value!r}") from None
        low, high = _safe(node, "min"), _safe(node, "max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise FeatureError(f"{name}={number} is out of range [{low}, {high}]")
        inc = _safe(node, "inc") if kind == "int" else None
        if inc and low is not None and (number - low) % inc:
            number = low + round((number - low) / inc) * inc  # snap to the increment
        value = number
    elif kind == "bool":
        value = bool(value)
    try:
        node.value = value
    except Exception as exc:
        raise FeatureError(f"setting {name} to {value!r} failed: {exc}") from exc
