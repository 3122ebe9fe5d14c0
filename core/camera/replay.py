"""Replay of a folder of images or a video file, looping, at a set frame rate
(``fps=0``: as fast as the consumer reads)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
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
DEFAULT_RETRY_AFTER_S = 30.0  # an unreadable, unchanged file is tried again this often
FALLBACK_VIDEO_FPS = 25.0


def _signature(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of ``path``, None when it cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class FolderReplaySource(PacedSource):
    """Images of a folder in name order; unreadable files are skipped with one warning each.

    A skipped file is not given up on: it is read again as soon as its size or modification
    time changes (a copy that had not finished), or after ``retry_after_s`` seconds anyway.
    """

    kind = "folder"

    def __init__(self, folder: str | Path, *, fps: float = DEFAULT_FOLDER_FPS, loop: bool = True,
                 recursive: bool = False, retry_after_s: float = DEFAULT_RETRY_AFTER_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(fps)
        try:
            retry = float(retry_after_s)
        except (TypeError, ValueError):
            retry = math.nan
        if not math.isfinite(retry) or retry < 0:
            raise CameraError(f"retry_after_s must be a finite number of seconds >= 0, "
                              f"got {retry_after_s!r}")
        self._retry_after_s = retry
        self._clock = clock
        self._folder = Path(folder)
        self._loop = loop
        self._recursive = recursive
        self._paths: list[Path] = []
        self._position = 0
        # unreadable files: path -> (signature when it failed, clock time of the failure)
        self._bad: dict[Path, tuple[tuple[int, int] | None, float]] = {}

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
            if self._skip_for_now(path):
                continue
            try:
                image = self._read_file(path)
            except ImageReadError as exc:
                if path not in self._bad:  # one warning per file, not one per pass
                    self._notify("warning", f"skipped unreadable image: {exc}")
                self._bad[path] = (_signature(path), self._clock())
                continue
            self._bad.pop(path, None)
            return image, {"path": str(path), "index": self._position - 1}
        raise CameraError(f"image folder '{self._folder}': none of its images can be read")

    def _skip_for_now(self, path: Path) -> bool:
        """True for a file that failed and has neither changed nor waited ``retry_after_s``."""
        failed = self._bad.get(path)
        if failed is None:
            return False
        signature, when = failed
        return signature == _signature(path) and self._clock() - when < self._retry_after_s

    def _read_file(self, path: Path) -> np.ndarray:
        return read_image(path)


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
