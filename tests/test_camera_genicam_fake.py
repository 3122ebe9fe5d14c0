"""GenICam source and hub against a fake harvesters layer: features, read-only nodes,
timeouts, incomplete buffers, lost devices, reconnect, producer load errors."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from genicam.gentl import TimeoutException

from core.camera import Feature, Grabber, ReconnectPolicy, Support
from core.camera.errors import CameraError, FeatureError, SourceLostError, UnsupportedPixelFormatError
from core.camera.events import EventKind
from core.camera.genicam.source import GenICamSource
from core.camera.genicam.harvester_hub import HarvesterHub

RW, RO, NA = 4, 3, 1


# -- fake harvesters --------------------------------------------------------------------------
class _Access:
    def __init__(self, mode: int) -> None:
        self.mode = mode

    def get_access_mode(self) -> int:
        return self.mode


class _Node:
    def __init__(self, value: Any, mode: int = RW) -> None:
        self._value, self.node = value, _Access(mode)

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, v: Any) -> None:
        if self.node.get_access_mode() not in (RW, 2):
            raise RuntimeError("AccessException: node is not writable")
        self._value = v


class IInteger(_Node):
    def __init__(self, value: int, lo: int, hi: int, inc: int = 1, mode: int = RW) -> None:
        super().__init__(value, mode)
        self.min, self.max, self.inc = lo, hi, inc


class IFloat(_Node):
    def __init__(self, value: float, lo: float, hi: float, mode: int = RW) -> None:
        super().__init__(value, mode)
        self.min, self.max = lo, hi


class IEnumeration(_Node):
    def __init__(self, value: str, symbolics: tuple[str, ...], mode: int = RW) -> None:
        super().__init__(value, mode)
        self.symbolics = symbolics


class ICommand(_Node):
    def __init__(self, mode: int = 2) -> None:
        super().__init__(None, mode)
        self.executed = 0

    def execute(self) -> None:
        self.executed += 1


class IBoolean(_Node):
    pass


class _LockedWhileStreaming:
    """Access mode of a node that the device locks during acquisition (TLParamsLocked)."""

    def __init__(self) -> None:
        self.acquirer: FakeAcquirer | None = None

    def get_access_mode(self) -> int:
        return RO if self.acquirer is not None and self.acquirer.streaming else RW


def make_nodes() -> SimpleNamespace:
    return SimpleNamespace(
        Width=IInteger(16, 8, 64, 4), Height=IInteger(12, 8, 64),
        PixelFormat=IEnumeration("Mono8", ("Mono8", "RGB8", "BayerRG8", "Mono12Packed")),
        ExposureTime=IFloat(1000.0, 10.0, 50000.0), Gain=IFloat(0.0, 0.0, 12.0, mode=RO),
        TriggerSelector=IEnumeration("FrameStart", ("FrameStart",)),
        TriggerMode=IEnumeration("Off", ("Off", "On")), TriggerSource=IEnumeration("Software", ("Software", "Line0")),
        TriggerSoftware=ICommand(),
        LineSelector=IEnumeration("Line1", ("Line1", "Line2")), LineMode=IEnumeration("Input", ("Input", "Output")),
        LineSource=IEnumeration("Off", ("Off", "UserOutput1", "UserOutput2")),
        UserOutputSelector=IEnumeration("UserOutput1", ("UserOutput1", "UserOutput2")),
        UserOutputValue=IBoolean(False),
    )


class FakeBuffer:
    def __init__(self, acquirer: FakeAcquirer, frame_id: int) -> None:
        nm = acquirer.remote_device.node_map
        w, h, fmt = nm.Width.value, nm.Height.value, nm.PixelFormat.value
        comps = 3 if fmt == "RGB8" else 1
        self._data = np.full(w * h * comps, frame_id % 250 + 1, np.uint8)
        self.payload = SimpleNamespace(components=[SimpleNamespace(
            data=self._data, width=w, height=h, data_format=fmt, num_components_per_pixel=comps)])
        self.frame_id, self.timestamp_ns = frame_id, 1000 * frame_id

    def __enter__(self) -> FakeBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._data[:] = 0  # re-queued: the producer overwrites it


class FakeAcquirer:
    Events = SimpleNamespace(INCOMPLETE_BUFFER=4)

    def __init__(self, harvester: FakeHarvester, info: Any) -> None:
        self.harvester, self.info = harvester, info
        self.remote_device = SimpleNamespace(node_map=make_nodes())
        self.script: deque[str] = deque(harvester.scripts.get(info.serial_number, ()))
        self.streaming = self.destroyed = False
        self.callbacks: dict[int, Any] = {}
        self.frames = 0

    def add_callback(self, event: int, callback: Any) -> None:
        self.callbacks[event] = callback

    def start(self) -> None:
        self.streaming = True

    def stop(self) -> None:
        self.streaming = False

    def destroy(self) -> None:
        self.streaming, self.destroyed = False, True

    def fetch(self, *, timeout: float) -> FakeBuffer:
        while True:
            action = self.script.popleft() if self.script else "frame"
            if action == "incomplete":  # harvesters: re-queue, emit callback, keep waiting
                self.callbacks[4].emit(context=self)
                continue
            if action == "timeout":
                time.sleep(timeout)
                raise TimeoutException()
            if action == "lost":
                self.harvester.present.discard(self.info.serial_number)
                raise RuntimeError("GenTL: device removed")
            if self.info.serial_number not in self.harvester.present:
                raise RuntimeError("GenTL: device removed")
            self.frames += 1
            return FakeBuffer(self, self.frames)


class FakeHarvester:
    def __init__(self, serials: tuple[str, ...] = ("S1", "S2")) -> None:
        self.files: list[str] = []
        self.serials, self.present = serials, set(serials)
        self.scripts: dict[str, list[str]] = {}
        self.device_info_list: list[Any] = []
        self.acquirers: list[FakeAcquirer] = []
        self.updates = 0
        self.violations: list[str] = []

    def add_file(self, path: str) -> None:
        self.files.append(path)

    def update(self) -> None:
        if any(not a.destroyed for a in self.acquirers):
            self.violations.append("update() while a device is open")
        self.updates += 1
        self.device_info_list = [
            SimpleNamespace(serial_number=s, id_=f"DEV_{s}", model="Fake", vendor="Test", display_name=f"Fake {s}")
            for s in self.serials if s in self.present
        ]

    def create(self, index: int) -> FakeAcquirer:
        info = self.device_info_list[index]
        if info.serial_number not in self.present:
            raise RuntimeError("GenTL: device not reachable")
        acquirer = FakeAcquirer(self, info)
        self.acquirers.append(acquirer)
        return acquirer

    def reset(self) -> None:
        self.device_info_list = []


@pytest.fixture()
def fake() -> FakeHarvester:
    return FakeHarvester()


@pytest.fixture()
def hub(fake: FakeHarvester) -> HarvesterHub:
    return HarvesterHub(include_bundled=False, harvester_factory=lambda: fake, env={})


# -- tests -------------------------------------------------------------------------------------
def test_discovery_and_open_by_serial_or_id(hub: HarvesterHub) -> None:
    devices = hub.devices()
    assert [(d.serial, d.id, d.spec) for d in devices] == [("S1", "DEV_S1", "genicam:S1"), ("S2", "DEV_S2", "genicam:S2")]
    with GenICamSource("DEV_S2", hub=hub) as source:
        assert source.identity.serial == "S2" and source.source_id == "genicam:S2"
    with pytest.raises(CameraError, match="no GenICam device with serial or id 'S9'.*genicam:S1"):
        GenICamSource("S9", hub=hub).open()


def test_frames_are_copied_inside_the_fetch_block(hub: HarvesterHub) -> None:
    with GenICamSource("S1", hub=hub) as source:
        source.start()
        frame = source.read(1.0)
        assert frame is not None and frame.image.shape == (12, 16) and frame.frame_id == 1
        assert frame.image.max() == 2 and frame.device_timestamp_ns == 1000  # not zeroed by re-queue
        source.set_feature("pixel_format", "RGB8")
        colour = source.read(1.0)
        assert colour is not None and colour.image.shape == (12, 16, 3)


def test_features_capabilities_and_read_only_nodes(hub: HarvesterHub) -> None:
    with GenICamSource("S1", hub=hub) as source:
        caps = source.capabilities()
        assert caps.support(Feature.EXPOSURE) is Support.READ_WRITE
        assert caps.support(Feature.GAIN) is Support.READ_ONLY
        assert caps.support(Feature.OFFSET_X) is Support.NONE
        assert caps.info("pixel_format").choices == ("Mono8", "RGB8", "BayerRG8")  # unsupported hidden
        assert caps.info("width").minimum == 8 and caps.info("width").increment == 4
        assert caps.support(Feature.DIGITAL_OUTPUT) is Support.READ_WRITE
        source.set_feature("exposure", 2500)
        assert source.get_feature("exposure") == 2500.0
        source.set_feature("width", 31)
        assert source.get_feature("width") == 32  # snapped to the increment
        with pytest.raises(FeatureError, match="Gain is read-only"):
            source.set_feature("gain", 3.0)
        with pytest.raises(FeatureError, match=r"ExposureTime=99999.0 is out of range \[10.0, 50000.0\]"):
            source.set_feature("exposure", 99999)
        with pytest.raises(FeatureError, match="TriggerSource cannot be 'Line7'"):
            source.set_feature("trigger_source", "Line7")
        with pytest.raises(UnsupportedPixelFormatError, match="Mono12Packed"):
            source.set_feature("pixel_format", "Mono12Packed")
        with pytest.raises(FeatureError, match="no OffsetX node"):
            source.set_feature("offset_x", 0)
        with pytest.raises(FeatureError, match="unknown camera feature 'shutter'"):
            source.set_feature("shutter", 1)


def test_trigger_and_digital_output(hub: HarvesterHub) -> None:
    with GenICamSource("S1", hub=hub) as source:
        nodes = source._ia.remote_device.node_map
        source.set_feature("trigger_mode", "On")
        assert not source.free_running
        source.software_trigger()
        assert nodes.TriggerSoftware.executed == 1
        source.set_digital_output("Line2", True)
        assert (nodes.LineSelector.value, nodes.LineMode.value, nodes.LineSource.value,
                nodes.UserOutputSelector.value, nodes.UserOutputValue.value) == (
            "Line2", "Output", "UserOutput2", "UserOutput2", True)


def test_settings_are_reapplied_after_reopen(hub: HarvesterHub) -> None:
    source = GenICamSource("S1", hub=hub)
    source.open()
    source.set_feature("pixel_format", "RGB8")
    source.set_feature("exposure", 777)
    source.close()
    source.open()  # a fresh acquirer starts from the device defaults
    assert source.get_feature("pixel_format") == "RGB8" and source.get_feature("exposure") == 777.0
    source.close()


def test_width_locked_while_streaming_is_changed_by_restart(hub: HarvesterHub) -> None:
    with GenICamSource("S1", hub=hub) as source:
        nodes = source._ia.remote_device.node_map
        nodes.Width.node = _LockedWhileStreaming()
        nodes.Width.node.acquirer = source._ia
        source.start()
        assert source.capabilities().support("width") is Support.READ_ONLY
        source.set_feature("width", 24)
        assert nodes.Width.value == 24 and source._ia.streaming
        frame = source.read(1.0)
        assert frame is not None and frame.width == 24


def test_timeouts_incomplete_buffers_and_lost_device(fake: FakeHarvester, hub: HarvesterHub) -> None:
    fake.scripts["S1"] = ["timeout", "incomplete", "incomplete", "frame", "lost"]
    with GenICamSource("S1", hub=hub) as source:
        source.start()
        assert source.read(0.05) is None  # timeout: no crash, no frame
        frame = source.read(1.0)
        assert frame is not None
        notices = source.drain_notices()
        assert [n.kind for n in notices] == ["incomplete", "incomplete"]
        with pytest.raises(SourceLostError, match="device removed"):
            source.read(1.0)
    assert fake.acquirers[0].destroyed  # closing released the device


def test_unsupported_pixel_format_refuses_to_start(hub: HarvesterHub) -> None:
    with GenICamSource("S1", hub=hub) as source:
        source._ia.remote_device.node_map.PixelFormat._value = "Mono12Packed"
        with pytest.raises(UnsupportedPixelFormatError, match="'Mono12Packed'"):
            source.start()


def test_update_never_runs_while_a_device_is_open(fake: FakeHarvester, hub: HarvesterHub) -> None:
    a = GenICamSource("S1", hub=hub)
    a.start()
    before = fake.updates
    assert [d.serial for d in hub.devices(refresh=True)] == ["S1", "S2"]  # cached list
    with GenICamSource("S2", hub=hub) as b:
        b.start()
        assert b.read(1.0) is not None and a.read(1.0) is not None
    assert fake.updates == before and not fake.violations
    a.close()
    hub.devices(refresh=True)
    assert fake.updates == before + 1 and not fake.violations


def test_grabber_reconnects_when_the_device_comes_back(fake: FakeHarvester, hub: HarvesterHub) -> None:
    fake.scripts["S1"] = ["frame", "frame", "lost"]
    source = GenICamSource("S1", hub=hub)
    grabber = Grabber(source, reconnect=ReconnectPolicy(initial=0.05, maximum=0.1))
    grabber.start()
    try:
        deadline = time.monotonic() + 5
        while not any(e.kind is EventKind.RECONNECT_FAILED for e in grabber.events.history()):
            assert time.monotonic() < deadline, grabber.events.history()
            time.sleep(0.02)
        fake.present.add("S1")  # plugged back in
        while grabber.stats().reconnects < 1:
            assert time.monotonic() < deadline, grabber.events.history()
            time.sleep(0.02)
        assert grabber.next_frame(2.0) is not None
    finally:
        grabber.stop()
    kinds = [e.kind for e in grabber.events.history()]
    assert kinds.index(EventKind.LOST) < kinds.index(EventKind.RECONNECT_FAILED) < kinds.index(EventKind.RECONNECTED)
    assert all(a.destroyed for a in fake.acquirers) and not fake.violations


def test_producer_load_errors_are_reported_and_others_load(tmp_path: Path) -> None:
    bad = tmp_path / "broken.cti"
    bad.write_bytes(b"not a shared library")
    from core.camera.genicam.producers import bundled_viky_cti

    viky = bundled_viky_cti()
    if viky is None:
        pytest.skip("viky.cti not found in the genicam package")
    env = {"GENICAM_GENTL64_PATH": f"{tmp_path}{__import__('os').pathsep}{tmp_path / 'missing'}"}
    fake = FakeHarvester()
    hub = HarvesterHub([viky], include_bundled=False, harvester_factory=lambda: fake, env=env)
    hub.devices()
    assert fake.files == [str(viky)]
    problems = "\n".join(hub.report.problems())
    assert "broken.cti: cannot be loaded" in problems and "missing: does not exist" in problems
