"""GenICam cameras through harvesters.

The image is converted (and so copied) inside the ``with ia.fetch(...)`` block, so
the camera buffer can be re-queued at once. Timeouts return None, incomplete
buffers (dropped by harvesters) become notices, any other fetch failure raises
:class:`SourceLostError` so the grabber can reconnect. Features set through
:meth:`set_feature` are re-applied after a reconnect (devices forget them).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from core.camera.genicam import nodes as gn
from core.camera.base import (
    Capabilities, CameraSource, DeviceInfo, Feature, FeatureInfo, SourceIdentity, Support,
    feature_name,
)
from core.camera.errors import CameraError, FeatureError, SourceLostError, UnsupportedPixelFormatError
from core.camera.frame import Frame
from core.camera.genicam.harvester_hub import HarvesterHub, default_hub
from core.camera.genicam.pixelformats import convert, is_supported, pixel_format_spec

# Order in which remembered settings are re-applied after a reconnect.
_REAPPLY_ORDER = (
    Feature.PIXEL_FORMAT, Feature.WIDTH, Feature.HEIGHT, Feature.OFFSET_X, Feature.OFFSET_Y,
    Feature.EXPOSURE, Feature.GAIN, Feature.FRAME_RATE, Feature.TRIGGER_SOURCE, Feature.TRIGGER_MODE,
)


def _timeout_exception() -> type[BaseException]:
    try:
        from genicam.gentl import TimeoutException
    except ImportError:  # pragma: no cover - genicam is a dependency of harvesters
        return TimeoutError
    return TimeoutException


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name)
    except Exception:
        return None


class _IncompleteCounter:
    """harvesters callback (duck-typed ``emit``) for INCOMPLETE_BUFFER events."""

    def __init__(self, source: GenICamSource) -> None:
        self._source = source

    def emit(self, context: object = None) -> None:
        self._source._notify("incomplete", "incomplete buffer discarded by the transport layer")


class GenICamSource(CameraSource):
    """A GenICam device opened by serial number or id (``None``: the first device)."""

    kind = "genicam"

    def __init__(self, key: str | None = None, *, hub: HarvesterHub | None = None) -> None:
        super().__init__()
        self._key = key or None
        self._hub = hub if hub is not None else default_hub()
        self._ia: Any = None
        self._device: DeviceInfo | None = None
        self._settings: dict[Feature, Any] = {}
        self._lock = threading.RLock()
        self._timeout_exc = _timeout_exception()

    @property
    def identity(self) -> SourceIdentity:
        if self._device is not None:
            return SourceIdentity(self.kind, self._device.id, self._device.serial)
        return SourceIdentity(self.kind, self._key or "first", None)

    @property
    def device_info(self) -> DeviceInfo | None:
        return self._device

    # -- life cycle -------------------------------------------------------------------
    def _open(self) -> None:
        self._ia, self._device = self._hub.create(self._key)
        events = _attr(self._ia, "Events")
        incomplete = _attr(events, "INCOMPLETE_BUFFER") if events is not None else None
        if incomplete is not None:
            try:
                self._ia.add_callback(incomplete, _IncompleteCounter(self))
            except Exception as exc:
                self._notify("warning", f"cannot watch incomplete buffers: {exc}")
        for feature in _REAPPLY_ORDER:
            if feature in self._settings:
                try:
                    self._write(feature, self._settings[feature])
                except CameraError as exc:
                    self._notify("warning", f"could not re-apply {feature.value}: {exc}")

    def _start(self) -> None:
        fmt = gn.get_node(self._nodes, "PixelFormat")
        if fmt is not None:
            pixel_format_spec(str(_attr(fmt, "value")))  # unsupported: clear error before streaming
        try:
            self._ia.start()
        except Exception as exc:
            raise SourceLostError(f"{self.source_id}: cannot start acquisition: {exc}") from exc

    def _read(self, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.001, deadline - time.monotonic())  # harvesters: 0 waits forever
            with self._lock:
                frame = self._fetch_once(remaining)
            if frame is not None or time.monotonic() >= deadline:
                return frame

    def _fetch_once(self, timeout: float) -> Frame | None:
        try:
            with self._ia.fetch(timeout=timeout) as buffer:
                component = buffer.payload.components[0]
                fmt = str(component.data_format)
                image = convert(component.data, component.width, component.height, fmt)
                frame_id, stamp = _attr(buffer, "frame_id"), _attr(buffer, "timestamp_ns")
        except self._timeout_exc:
            return None
        except UnsupportedPixelFormatError:
            raise
        except ValueError as exc:  # malformed buffer: report it, wait for the next one
            self._notify("incomplete", f"malformed buffer: {exc}")
            return None
        except Exception as exc:
            raise SourceLostError(f"{self.source_id}: fetch failed: {exc}") from exc
        return Frame(
            image=image,
            frame_id=int(frame_id) if frame_id is not None else -1,
            source_id=self.source_id,
            device_timestamp_ns=int(stamp) if stamp else None,
            metadata={"pixel_format": fmt, "bit_depth": pixel_format_spec(fmt).bit_depth},
        )

    def _stop(self) -> None:
        try:
            self._ia.stop()
        except Exception as exc:
            self._notify("warning", f"stopping acquisition failed: {exc}")

    def _close(self) -> None:
        ia, self._ia = self._ia, None
        if ia is not None:
            self._hub.release(ia)

    # -- features ---------------------------------------------------------------------
    @property
    def _nodes(self) -> Any:
        if self._ia is None:
            raise CameraError(f"{self.source_id}: open the device before using its features")
        return self._ia.remote_device.node_map

    def _node(self, feature: Feature) -> tuple[Any | None, str]:
        names, _unit = gn.FEATURE_NODES[feature]
        for name in names:
            node = gn.get_node(self._nodes, name)
            if node is not None:
                return node, name
        return None, names[0]

    def capabilities(self) -> Capabilities:
        caps = Capabilities()
        with self._lock:
            for feature, (_names, unit) in gn.FEATURE_NODES.items():
                node, name = self._node(feature)
                caps.features[feature] = gn.describe(node, name, unit)
            fmt = caps.features[Feature.PIXEL_FORMAT]
            fmt.choices = tuple(c for c in fmt.choices if is_supported(c))
            caps.features[Feature.DIGITAL_OUTPUT] = self._output_info()
        return caps

    def _output_info(self) -> FeatureInfo:
        selector = gn.get_node(self._nodes, "LineSelector")
        value = gn.get_node(self._nodes, "UserOutputValue")
        if selector is None or value is None:
            return FeatureInfo()
        info = gn.describe(value, "UserOutputValue")
        info.choices = tuple(str(s) for s in (_attr(selector, "symbolics") or ()))
        return info

    def get_feature(self, name: Feature | str) -> Any:
        feature = feature_name(name)
        if feature in (Feature.SOFTWARE_TRIGGER, Feature.DIGITAL_OUTPUT):
            return super().get_feature(feature)
        with self._lock:
            node, node_name = self._node(feature)
            if gn.support_of(node) is Support.NONE:
                raise FeatureError(f"{self.source_id}: feature {feature.value!r} ({node_name}) is not available")
            return node.value

    def set_feature(self, name: Feature | str, value: Any) -> None:
        feature = feature_name(name)
        if feature is Feature.SOFTWARE_TRIGGER:
            self.software_trigger()
            return
        if feature is Feature.DIGITAL_OUTPUT:
            line, state = value
            self.set_digital_output(str(line), bool(state))
            return
        if feature is Feature.PIXEL_FORMAT:
            value = pixel_format_spec(str(value)).name
        with self._lock:
            self._write(feature, value)
        self._settings[feature] = value

    def _write(self, feature: Feature, value: Any) -> None:
        node, node_name = self._node(feature)
        if feature is Feature.TRIGGER_MODE:
            selector = gn.get_node(self._nodes, "TriggerSelector")
            if selector is not None and "FrameStart" in (_attr(selector, "symbolics") or ()):
                gn.write(selector, "TriggerSelector", "FrameStart")
        restart = (
            self.is_streaming and feature in gn.STREAM_LOCKED
            and node is not None and gn.access_mode(node) != gn.RW
        )
        if restart:  # locked while streaming: stop, change, restart
            self._ia.stop()
        try:
            gn.write(node, node_name, value)
        finally:
            if restart:
                self._ia.start()

    def software_trigger(self) -> None:
        node, name = self._node(Feature.SOFTWARE_TRIGGER)
        if node is None:
            raise FeatureError(f"{self.source_id}: software trigger is not supported (no {name})")
        gn.write(node, name, None)

    def set_digital_output(self, line: str, value: bool) -> None:
        """Drive output ``line`` (e.g. "Line1") high or low through a UserOutput."""
        nodes = self._nodes
        with self._lock:
            gn.write(gn.get_node(nodes, "LineSelector"), "LineSelector", line)
            mode = gn.get_node(nodes, "LineMode")
            if mode is not None and gn.access_mode(mode) == gn.RW:
                gn.write(mode, "LineMode", "Output")
            source = gn.get_node(nodes, "LineSource")
            user_output = None
            if source is not None:
                outputs = [s for s in (_attr(source, "symbolics") or ()) if str(s).startswith("UserOutput")]
                digits = "".join(ch for ch in line if ch.isdigit())
                user_output = f"UserOutput{digits}" if f"UserOutput{digits}" in outputs else (outputs or [None])[0]
                if user_output is None:
                    raise FeatureError(f"{self.source_id}: LineSource of {line} offers no UserOutput")
                gn.write(source, "LineSource", user_output)
            selector = gn.get_node(nodes, "UserOutputSelector")
            if selector is not None and user_output is not None:
                gn.write(selector, "UserOutputSelector", user_output)
            gn.write(gn.get_node(nodes, "UserOutputValue"), "UserOutputValue", bool(value))

    def line_status(self, line: str) -> bool | None:
        """LineStatus of ``line`` (selected with LineSelector), else its bit of LineStatusAll
        (bit n for "Line<n>"); None when the device offers neither or has no such line."""
        if self._ia is None:
            return None
        nodes = self._nodes
        with self._lock:
            selector = gn.get_node(nodes, "LineSelector")
            status = gn.get_node(nodes, "LineStatus")
            if selector is not None and status is not None and gn.support_of(status).readable:
                if line not in [str(s) for s in (_attr(selector, "symbolics") or ())]:
                    return None
                try:
                    gn.write(selector, "LineSelector", line)
                    return bool(status.value)
                except Exception:
                    return None
            every = gn.get_node(nodes, "LineStatusAll")
            digits = "".join(ch for ch in line if ch.isdigit())
            if every is None or not digits or not gn.support_of(every).readable:
                return None
            try:
                return bool((int(every.value) >> int(digits)) & 1)
            except Exception:
                return None


def discover_genicam(hub: HarvesterHub | None = None, problems: list[str] | None = None) -> list[DeviceInfo]:
    """GenICam devices of every loaded producer; producer problems go to ``problems``."""
    hub = hub if hub is not None else default_hub()
    devices = hub.devices(refresh=True)
    if problems is not None:
        problems.extend(hub.report.problems())
    return devices
