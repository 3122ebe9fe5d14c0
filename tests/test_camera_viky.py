"""Against the real simulated GenTL producer shipped in the genicam wheel (viky.cti:
three devices, 400x400 RGBa8 or Mono8, about 20 fps). Skipped when it is missing."""

from __future__ import annotations

import time

import pytest

from core.camera.genicam.producers import bundled_viky_cti

VIKY = bundled_viky_cti()
pytestmark = pytest.mark.skipif(VIKY is None, reason="viky.cti not found in the installed genicam package")

if VIKY is not None:
    from core.camera import Grabber
    from core.camera.genicam.source import GenICamSource
    from core.camera.genicam.harvester_hub import HarvesterHub


@pytest.fixture(scope="module")
def hub() -> HarvesterHub:
    hub = HarvesterHub([VIKY], include_bundled=False, env={})
    yield hub
    hub.reset()


def _stream(source: GenICamSource, count: int) -> tuple[list, float]:
    frames = []
    source.start()
    first = None
    deadline = time.monotonic() + 10
    while len(frames) < count:
        assert time.monotonic() < deadline, f"only {len(frames)} frames in 10 s"
        frame = source.read(1.0)
        if frame is not None:
            first = first or time.monotonic()
            frames.append(frame)
    fps = (count - 1) / (time.monotonic() - first)
    return frames, fps


def test_enumerates_three_devices_with_serials(hub: HarvesterHub) -> None:
    devices = hub.devices()
    assert len(devices) == 3
    assert {d.id for d in devices} == {"VikyTL_DEV_red", "VikyTL_DEV_green", "VikyTL_DEV_blue"}
    assert all(d.serial and d.model == "Viky" for d in devices)
    assert not hub.report.failed


def test_open_by_serial_stream_switch_format_and_reopen(hub: HarvesterHub) -> None:
    serial = hub.devices()[0].serial
    source = GenICamSource(serial, hub=hub)
    source.open()
    assert source.identity.serial == serial
    assert source.capabilities().info("pixel_format").choices == ("RGBa8", "Mono8")
    frames, fps = _stream(source, 24)
    assert frames[0].image.shape == (400, 400, 3) and frames[0].metadata["pixel_format"] == "RGBa8"
    ids = [f.frame_id for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert 12 < fps < 30, fps  # the producer runs at about 20 fps
    source.stop()
    source.set_feature("pixel_format", "Mono8")
    frames, _ = _stream(source, 5)
    assert frames[-1].image.shape == (400, 400) and frames[-1].image.dtype.name == "uint8"
    source.close()
    assert hub.active_count == 0
    source.open()  # reopen: the device forgot the format, the source re-applies it
    assert source.get_feature("pixel_format") == "Mono8"
    frames, _ = _stream(source, 3)
    assert frames[-1].image.ndim == 2
    source.close()


def test_two_devices_at_once_through_grabbers(hub: HarvesterHub) -> None:
    serials = [d.serial for d in hub.devices()[:2]]
    grabbers = [Grabber(GenICamSource(s, hub=hub), mode="triggered") for s in serials]
    for g in grabbers:
        g.start()
    try:
        got = {s: [] for s in serials}
        deadline = time.monotonic() + 10
        while min(len(v) for v in got.values()) < 20:
            assert time.monotonic() < deadline, {s: len(v) for s, v in got.items()}
            for s, g in zip(serials, grabbers):
                frame = g.next_frame(0.05)
                if frame is not None:
                    got[s].append(frame)
        for g in grabbers:
            stats = g.stats()
            assert stats.overruns == 0 and stats.errors == 0 and stats.received >= 20
            assert 12 < stats.fps < 30, stats
    finally:
        for g in grabbers:
            g.stop()
    assert hub.active_count == 0
    assert {f.source_id for f in got[serials[0]]} == {f"genicam:{serials[0]}"}
