"""Replay of a folder of images or a video file, looping, at a set frame rate
(``fps=0``: as fast as the consumer reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.camera.base import SourceIdentity
from core.camera.errors import CameraError
from core.camera.paced import PacedSource
from core.io.images import ImageReadError, list_images, read_image

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")
DEFAULT_FOLDER_FPS = 10.0
FALLBACK_VIDEO_FPS = 25.0


class FolderReplaySource(PacedSource):
    """Images of a folder in name order; unreadable files are skipped with a warning."""

    kind = "folder"

    def __init__(self, folder: str | Path, *, fps: float = DEFAULT_FOLDER_FPS, loop: bool = True,
                 recursive: bool = False) -> None:
        super().__init__(fps)
        self._folder = Path(folder)
        self._loop = loop
        self._recursive = recursive
        self._paths: list[Path] = []
        self._position = 0
        self._bad: set[Path] = set()

    @property
    def identity(self) -> SourceIdentity:
        return SourceIdentity(self.kind, str(self._folder.resolve()))

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    def _open(self) -> None:
        try:
            self._paths = list_images(self._folder, recursive=self._recursive)
        except ValueError as exc:
            raise CameraError(str(exc)) from None
        if not self._paths:
            raise CameraError(f"image folder '{self._folder}' contains no images")
        self._position = 0

    @property
    def exhausted(self) -> bool:
        return not self._loop and self.is_open and self._position >= len(self._paths)

    def _produce(self, index: int) -> tuple[np.ndarray, dict[str, Any]] | None:
        for _ in range(len(self._paths)):
            if self._position >= len(self._paths):
                if not self._loop:
                    return None
                self._position = 0
            path = self._paths[self._position]
            self._position += 1
            if path in self._bad:
                continue
            try:
                image = read_image(path)
            except ImageReadError as exc:
                self._bad.add(path)
                self._notify("warning", f"skipped unreadable image: {exc}")
                continue
            return image, {"path": str(path), "index": self._position - 1}
        raise CameraError(f"image folder '{self._folder}': none of its images can be read")


class VideoReplaySource(PacedSource):
    """Frames of a video file; ``fps=None`` plays at the file's own frame rate."""

    kind = "video"

    def __init__(self, path: str | Path, *, fps: float | None = None, loop: bool = True) -> None:
        super().__init__(fps or 0.0)
        self._path = Path(path)
        self._loop = loop
        self._native_fps = fps is None
        self._capture: Any = None
        self._video_frame = 0
        self._ended = False

    @property
    def identity(self) -> SourceIdentity:
        return SourceIdentity(self.kind, str(self._path.resolve()))

    def _open_capture(self) -> None:
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"cannot open video '{self._path}' (missing file or unsupported codec)")
        self._capture, self._video_frame = capture, 0

    def _open(self) -> None:
        if not self._path.is_file():
            raise CameraError(f"video file '{self._path}' does not exist")
        self._open_capture()
        if self._native_fps:
            native = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
            self._fps = native if 0.0 < native <= 1000.0 else FALLBACK_VIDEO_FPS
        self._ended = False

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    @property
    def exhausted(self) -> bool:
        return self._ended

    def _produce(self, index: int) -> tuple[np.ndarray, dict[str, Any]] | None:
        ok, image = self._capture.read()
        if not ok and self._loop and self._video_frame > 0:
            self._capture.release()
            self._open_capture()  # re-opening is more reliable than seeking to 0
            ok, image = self._capture.read()
        if not ok:
            if self._video_frame == 0:
                raise CameraError(f"video '{self._path}' has no readable frames")
            self._ended = True
            return None
        self._video_frame += 1
        if image.ndim == 3 and image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        return image, {"path": str(self._path), "video_frame": self._video_frame - 1}
