"""`lineinspect camera list | grab | info`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.camera.genicam.harvester_hub import HarvesterHub, set_default_hub
from core.cli.main import main


@pytest.fixture(autouse=True)
def isolated_hub() -> None:
    """No GenTL producers unless a test asks: keeps the CLI tests independent of viky."""
    previous = set_default_hub(HarvesterHub(include_bundled=False, env={}))
    yield
    set_default_hub(previous)


def test_list_shows_the_simulated_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["camera", "list", "--no-bundled"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["SOURCE", "KIND", "SERIAL"]
    assert any(line.startswith("sim ") for line in out.splitlines())


def test_list_reports_a_broken_producer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.cti"
    bad.write_bytes(b"nope")
    assert main(["camera", "list", "--no-bundled", "--cti", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "warning: GenTL producer" in out and "bad.cti: cannot be loaded" in out


def test_grab_sim_writes_images_masks_and_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grab"
    assert main(["camera", "grab", "sim:fps=0,width=64,height=48,defect_rate=1", "--count", "3", "--out", str(out)]) == 0
    images = sorted(out.glob("frame_*.png"))
    assert len(images) == 3 and len(list((out / "masks").glob("*.png"))) == 3
    assert cv2.imread(str(images[0])).shape == (48, 64, 3)
    rows = list(csv.DictReader(open(out / "frames.csv", encoding="utf-8")))
    assert [r["frame_id"] for r in rows] == ["0", "1", "2"] and all(r["defect_type"] for r in rows)
    assert "saved 3 frames" in capsys.readouterr().out
    # refuses to overwrite silently
    assert main(["camera", "grab", "sim:fps=0", "-n", "1", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_grab_folder_replay_and_its_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        cv2.imwrite(str(src / f"{i}.png"), np.full((10, 12), 100 + i, np.uint8))
    assert main(["camera", "grab", f"{src}?fps=0", "-n", "4", "--out", str(tmp_path / "o1")]) == 0
    assert cv2.imread(str(tmp_path / "o1" / "frame_00002.png"), cv2.IMREAD_UNCHANGED)[0, 0] == 100  # looped
    assert main(["camera", "grab", f"{src}?fps=0,loop=0", "-n", "4", "--out", str(tmp_path / "o2")]) == 2
    assert "ran out after 2 of 4" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["camera", "grab", "nowhere", "--out", "x"], "cannot understand SOURCE 'nowhere'"),
        (["camera", "grab", "sim", "--count", "0", "--out", "x"], "--count must be at least 1"),
        (["camera", "info", "genicam:XYZ"], "no GenICam device with serial or id 'XYZ'"),
        (["camera", "info", "sim:speed=3"], "unknown sim option"),
    ],
)
def test_errors_are_user_messages(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_info_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["camera", "info", "sim:seed=2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("sim:seed=2") and "exposure" in text and "range [10.0, 100000.0]" in text
    assert main(["camera", "info", "sim", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "sim" and data["features"]["pixel_format"]["choices"] == ["BGR8", "Mono8"]
    assert data["features"]["offset_x"]["support"] == "none"
