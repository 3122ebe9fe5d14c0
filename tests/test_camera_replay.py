"""Replay of image folders and video files."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.camera.errors import CameraError
from core.camera.replay import FolderReplaySource, VideoReplaySource


def _folder(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(n):
        cv2.imwrite(str(folder / f"img_{i}.png"), np.full((20, 30, 3), 40 * (i + 1), np.uint8))
    return folder


def _video(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (32, 24))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG AVI")
    for i in range(n):
        writer.write(np.full((24, 32, 3), 50 * (i + 1), np.uint8))
    writer.release()
    return path


def test_folder_loops_in_name_order(tmp_path: Path) -> None:
    with FolderReplaySource(_folder(tmp_path), fps=0) as source:
        source.start()
        frames = [source.read(0.5) for _ in range(7)]
    levels = [int(f.image[0, 0, 0]) for f in frames]
    assert levels == [40, 80, 120, 40, 80, 120, 40]
    assert [f.frame_id for f in frames] == list(range(7))
    assert frames[1].metadata["path"].endswith("img_1.png")
    assert frames[0].source_id.startswith("folder:")


def test_folder_without_loop_ends(tmp_path: Path) -> None:
    with FolderReplaySource(_folder(tmp_path, 2), fps=0, loop=False) as source:
        source.start()
        assert source.read(0.1) is not None and source.read(0.1) is not None
        assert source.read(0.1) is None and source.exhausted


def test_folder_paced_at_set_rate(tmp_path: Path) -> None:
    with FolderReplaySource(_folder(tmp_path), fps=40) as source:
        source.start()
        t0 = time.monotonic()
        for _ in range(9):
            assert source.read(1.0) is not None
        assert 0.15 < time.monotonic() - t0 < 0.5  # eight periods of 25 ms


def test_unreadable_image_is_skipped_with_a_warning(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 2)
    (folder / "img_0b.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with FolderReplaySource(folder, fps=0) as source:
        source.start()
        frames = [source.read(0.1) for _ in range(4)]
        notices = source.drain_notices()
    assert [int(f.image[0, 0, 0]) for f in frames] == [40, 80, 40, 80]
    assert len(notices) == 1 and "img_0b.png" in notices[0].message


def test_folder_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="does not exist"):
        FolderReplaySource(tmp_path / "nope").open()
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match="empty.*contains no images"):
        FolderReplaySource(tmp_path / "empty").open()


def test_video_plays_at_native_rate_and_loops(tmp_path: Path) -> None:
    source = VideoReplaySource(_video(tmp_path))
    with source:
        assert source.get_feature("frame_rate") == pytest.approx(12.0)
        source.set_feature("frame_rate", 0)
        source.start()
        frames = [source.read(0.5) for _ in range(6)]
    assert [f.metadata["video_frame"] for f in frames] == [0, 1, 2, 3, 0, 1]
    assert abs(int(frames[4].image.mean()) - 50) < 6  # back to the first frame
    assert frames[0].image.shape == (24, 32, 3)


def test_video_without_loop_and_bad_files(tmp_path: Path) -> None:
    with VideoReplaySource(_video(tmp_path, 2), fps=0, loop=False) as source:
        source.start()
        assert source.read(0.5) is not None and source.read(0.5) is not None
        assert source.read(0.1) is None and source.exhausted
    with pytest.raises(CameraError, match="does not exist"):
        VideoReplaySource(tmp_path / "missing.mp4").open()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(CameraError, match="junk.mp4"):
        VideoReplaySource(junk).open()
