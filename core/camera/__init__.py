"""Camera acquisition: interchangeable sources (GenICam, replay, simulated line),
a grabber thread per source, events and statistics. No Qt here.

The shared pieces live here (sources' base class, frames, errors, events, the grabber and
its frame delivery, statistics, replay, the source registry); the GenICam cameras in
:mod:`core.camera.genicam`, the simulated line in :mod:`core.camera.sim`.

Typical use::

    from core.camera import DeliveryMode, Grabber, open_source

    source = open_source("sim:seed=3,fps=30")       # or "genicam:SERIAL", a folder, a video
    with Grabber(source, DeliveryMode.LIVE) as grabber:  # or "triggered"; strings parse
        frame = grabber.next_frame(timeout=1.0)       # newest frame, or None
        print(grabber.stats().fps, grabber.events.drain())
"""

from core.camera.base import (
    Capabilities, CameraSource, DeviceInfo, Feature, FeatureInfo, SourceIdentity, Support,
)
from core.camera.errors import (
    CameraError, FeatureError, SourceLostError, SourceSpecError, UnsupportedPixelFormatError,
)
from core.camera.events import CameraEvent, EventKind, EventLog
from core.camera.frame import Frame
from core.camera.delivery import DeliveryMode
from core.camera.grabber import Grabber, ReconnectPolicy
from core.camera.registry import discover_all, open_source, parse_spec, register_kind
from core.camera.stats import GrabberStats

__all__ = [
    "CameraError", "CameraEvent", "CameraSource", "Capabilities", "DeliveryMode", "DeviceInfo",
    "EventKind", "EventLog", "Feature", "FeatureError", "FeatureInfo", "Frame", "Grabber",
    "GrabberStats", "ReconnectPolicy", "SourceIdentity", "SourceLostError", "SourceSpecError",
    "Support", "UnsupportedPixelFormatError", "discover_all", "open_source", "parse_spec",
    "register_kind",
]
