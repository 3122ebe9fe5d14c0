"""The camera source protocol: open, start, read frames, stop, close; features; identity.

Concrete sources implement the ``_open/_start/_read/_stop/_close`` hooks and the
feature hooks; this base class tracks state so that every public call is safe to
repeat (stop on a stopped source, close on a closed one) and so that a context
manager always releases the device.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from core.camera.errors import CameraError, FeatureError
from core.camera.frame import Frame


class Feature(StrEnum):
    """Canonical feature names (GenICam node names in brackets)."""

    EXPOSURE = "exposure"              # ExposureTime, microseconds
    GAIN = "gain"                      # Gain, dB
    FRAME_RATE = "frame_rate"          # AcquisitionFrameRate, Hz
    WIDTH = "width"                    # Width
    HEIGHT = "height"                  # Height
    OFFSET_X = "offset_x"              # OffsetX
    OFFSET_Y = "offset_y"              # OffsetY
    PIXEL_FORMAT = "pixel_format"      # PixelFormat
    TRIGGER_MODE = "trigger_mode"      # TriggerMode: "Off" (free-running) or "On"
    TRIGGER_SOURCE = "trigger_source"  # TriggerSource: "Software", "Line0", ...
    SOFTWARE_TRIGGER = "software_trigger"  # TriggerSoftware (command)
    DIGITAL_OUTPUT = "digital_output"  # LineSelector/LineMode/LineSource/UserOutputValue


class Support(Enum):
    """How far a source supports a feature; the GUI greys out NONE and READ_ONLY."""

    NONE = "none"
    READ_ONLY = "read_only"
    READ_WRITE = "read_write"

    @property
    def readable(self) -> bool:
        return self is not Support.NONE

    @property
    def writable(self) -> bool:
        return self is Support.READ_WRITE


@dataclass(slots=True)
class FeatureInfo:
    """Support level, current value and range/choices of one feature."""

    support: Support = Support.NONE
    value: Any = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    increment: float | int | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    node: str = ""  # the underlying device node, when there is one


@dataclass(slots=True)
class Capabilities:
    """What a source can do, per :class:`Feature` (missing entries mean NONE)."""

    features: dict[Feature, FeatureInfo] = field(default_factory=dict)

    def info(self, feature: Feature | str) -> FeatureInfo:
        return self.features.get(Feature(feature), FeatureInfo())

    def support(self, feature: Feature | str) -> Support:
        return self.info(feature).support


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """Stable identity: ``spec`` reopens the same device after a restart or reordering."""

    kind: str
    id: str
    serial: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.serial or self.id}"

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One discoverable device; ``spec`` is what ``open_source`` takes to reopen it."""

    kind: str
    id: str
    serial: str | None = None
    model: str = ""
    vendor: str = ""
    description: str = ""
    open_spec: str = ""  # when the generic ``kind:serial-or-id`` is not how to open it

    @property
    def spec(self) -> str:
        return self.open_spec or f"{self.kind}:{self.serial or self.id}"


@dataclass(frozen=True, slots=True)
class SourceNotice:
    """A non-fatal happening inside a source, picked up by the grabber as an event."""

    kind: str  # "incomplete" or "warning"
    message: str


def feature_name(name: Feature | str) -> Feature:
    """Return the canonical :class:`Feature`, or raise FeatureError naming the bad name."""
    try:
        return Feature(name)
    except ValueError:
        known = ", ".join(f.value for f in Feature)
        raise FeatureError(f"unknown camera feature {name!r} (known: {known})") from None


class CameraSource(ABC):
    """Abstract camera source. Public methods are idempotent and track state."""

    kind: str = "abstract"

    def __init__(self) -> None:
        self._is_open = False
        self._is_streaming = False
        self._notices: deque[SourceNotice] = deque(maxlen=1000)
        self._notice_lock = threading.Lock()

    # -- identity -----------------------------------------------------------------
    @property
    @abstractmethod
    def identity(self) -> SourceIdentity:
        """Kind plus stable id (serial where the device has one)."""

    @property
    def source_id(self) -> str:
        return self.identity.spec

    # -- life cycle ---------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def is_streaming(self) -> bool:
        return self._is_streaming

    def open(self) -> None:
        if not self._is_open:
            self._open()
            self._is_open = True

    def start(self) -> None:
        if not self._is_open:
            self.open()
        if not self._is_streaming:
            self._start()
            self._is_streaming = True

    def read(self, timeout: float = 1.0) -> Frame | None:
        """Next frame, or None when none arrived within ``timeout`` seconds.

        Raises SourceLostError when the device went away.
        """
        if not self._is_streaming:
            raise CameraError(f"{self.source_id}: read() before start()")
        return self._read(max(0.0, float(timeout)))

    def stop(self) -> None:
        if self._is_streaming:
            self._is_streaming = False
            self._stop()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self._is_open:
                self._is_open = False
                self._close()

    def __enter__(self) -> CameraSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- notices --------------------------------------------------------------------
    def _notify(self, kind: str, message: str) -> None:
        with self._notice_lock:
            self._notices.append(SourceNotice(kind, message))

    def drain_notices(self) -> list[SourceNotice]:
        """Return and forget non-fatal notices (incomplete buffers, warnings)."""
        with self._notice_lock:
            out = list(self._notices)
            self._notices.clear()
        return out

    # -- features -------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities()

    def get_feature(self, name: Feature | str) -> Any:
        feature = feature_name(name)
        info = self.capabilities().info(feature)
        if not info.support.readable:
            raise FeatureError(f"{self.source_id}: feature {feature.value!r} is not supported")
        return info.value

    def set_feature(self, name: Feature | str, value: Any) -> None:
        feature = feature_name(name)
        raise FeatureError(f"{self.source_id}: feature {feature.value!r} cannot be set")

    def software_trigger(self) -> None:
        """Fire one software trigger (thread-safe; usable while another thread reads)."""
        raise FeatureError(f"{self.source_id}: software trigger is not supported")

    def set_digital_output(self, line: str, value: bool) -> None:
        raise FeatureError(f"{self.source_id}: digital outputs are not supported")

    def line_status(self, line: str) -> bool | None:
        """The electrical state of I/O ``line`` as the device reports it (None: not offered)."""
        return None

    @property
    def exhausted(self) -> bool:
        """True when a finite source (non-looping replay) has delivered everything."""
        return False

    @property
    def free_running(self) -> bool:
        """True when frames come without triggers (the watchdog only applies then)."""
        try:
            return str(self.get_feature(Feature.TRIGGER_MODE)) != "On"
        except CameraError:
            return True

    # -- hooks ----------------------------------------------------------------------
    @abstractmethod
    def _open(self) -> None: ...

    def _start(self) -> None:
        return None

    @abstractmethod
    def _read(self, timeout: float) -> Frame | None: ...

    def _stop(self) -> None:
        return None

    def _close(self) -> None:
        return None
