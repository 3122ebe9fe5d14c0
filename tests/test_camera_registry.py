"""SOURCE strings, open_source and discovery."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.camera import DeviceInfo, Feature, SourceSpecError, discover_all, open_source, parse_spec
from core.camera.registry import SourceKind, register_kind, source_kinds
from core.camera.replay import FolderReplaySource
from core.camera.sim.line import SimLineSource


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "a,b:c"  # commas and colons in paths must not confuse the parser
    d.mkdir()
    cv2.imwrite(str(d / "x.png"), np.zeros((8, 8), np.uint8))
    return d


def test_parse_sim_and_genicam_forms() -> None:
    assert parse_spec("sim") == parse_spec("sim:")
    spec = parse_spec("sim:seed=3, fps=20,width=320")
    assert (spec.kind, spec.target, spec.options) == ("sim", "", {"seed": "3", "fps": "20", "width": "320"})
    spec = parse_spec("genicam:ABC123,exposure=500")
    assert (spec.kind, spec.target, spec.options) == ("genicam", "ABC123", {"exposure": "500"})
    assert parse_spec("genicam").target == ""


def test_parse_paths(folder: Path, tmp_path: Path) -> None:
    assert parse_spec(str(folder)) == parse_spec(f"folder:{folder}")
    assert parse_spec(str(folder)).kind == "folder"
    spec = parse_spec(f"{folder}?fps=5,loop=0")
    assert (spec.kind, spec.target, spec.options) == ("folder", str(folder), {"fps": "5", "loop": "0"})
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x")
    assert parse_spec(str(video)).kind == "video"
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(SourceSpecError, match="notes.txt' is a file but not a video"):
        parse_spec(str(text))


@pytest.mark.parametrize("bad", ["", "   ", "camera7", "/no/such/dir", "http://x"])
def test_bad_specs_are_clear_errors(bad: str) -> None:
    with pytest.raises(SourceSpecError, match="SOURCE"):
        parse_spec(bad)


def test_open_source_builds_opened_sources(folder: Path) -> None:
    sim = open_source("sim:seed=3,fps=0,width=96,height=64,exposure=2000")
    try:
        assert isinstance(sim, SimLineSource) and sim.is_open
        assert sim.config.seed == 3 and sim.get_feature(Feature.EXPOSURE) == 2000.0
        sim.start()
        assert sim.read(1.0).image.shape == (64, 96, 3)
    finally:
        sim.close()
    replay = open_source(f"{folder}?fps=0", loop=False)
    try:
        assert isinstance(replay, FolderReplaySource) and replay.is_open
        replay.start()
        assert replay.read(0.5) is not None and replay.read(0.1) is None
    finally:
        replay.close()


def test_open_source_option_errors() -> None:
    with pytest.raises(SourceSpecError, match="unknown sim option.*sped"):
        open_source("sim:sped=3")
    with pytest.raises(SourceSpecError, match="fps='x' is not a number"):
        open_source("folder:/tmp?fps=x")
    with pytest.raises(SourceSpecError, match="sim takes key=value options only"):
        open_source("sim:fast")


def test_discover_all_keeps_going_when_a_kind_fails() -> None:
    def broken(problems: list[str]) -> list[DeviceInfo]:
        raise RuntimeError("bus exploded")

    register_kind(SourceKind("brokenkind", lambda t, o: SimLineSource(), broken))
    try:
        problems: list[str] = []
        devices = discover_all(problems)
        assert any(d.spec == "sim" for d in devices)
        assert "brokenkind: discovery failed: bus exploded" in problems
    finally:
        from core.camera import registry

        registry._KINDS.pop("brokenkind")
    assert "brokenkind" not in source_kinds()
