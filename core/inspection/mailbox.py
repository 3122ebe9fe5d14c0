"""The inspection worker's input: newest-frame-only (live) or a bounded FIFO (triggered)."""

from __future__ import annotations

import threading
from collections import deque

from core.camera.frame import Frame

MODES = ("live", "triggered")


class FrameMailbox:
    """Thread-safe hand-over of frames from acquisition to inspection.

    ``live``: holds one frame; a new frame replaces one that is still waiting, and the
    replaced frame is counted in ``skipped``. ``triggered``: keeps up to ``capacity``
    frames in order; ``put`` waits for room up to its timeout, and a frame that still does
    not fit is refused and counted in ``overruns`` (never silently lost).
    """

    def __init__(self, mode: str = "live", capacity: int = 64) -> None:
        if mode not in MODES:
            raise ValueError(f"FrameMailbox: mode must be one of {MODES}, got {mode!r}")
        if int(capacity) < 1:
            raise ValueError(f"FrameMailbox: capacity must be >= 1, got {capacity!r}")
        self.mode = mode
        self.capacity = 1 if mode == "live" else int(capacity)
        self._frames: deque[Frame] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.skipped = 0
        self.overruns = 0

    def put(self, frame: Frame, timeout: float | None = 1.0) -> bool:
        """Hand a frame over; False when refused (triggered mode full, or mailbox closed)."""
        with self._cond:
            if self._closed:
                return False
            if self.mode == "live":
                if self._frames:
                    self._frames.clear()
                    self.skipped += 1
            elif len(self._frames) >= self.capacity:
                if not self._cond.wait_for(lambda: self._closed or len(self._frames) < self.capacity,
                                           timeout):
                    self.overruns += 1
                    return False
                if self._closed:
                    return False
            self._frames.append(frame)
            self._cond.notify_all()
            return True

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None after ``timeout`` seconds or when closed and empty."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._frames or self._closed, timeout):
                return None
            if not self._frames:
                return None
            frame = self._frames.popleft()
            self._cond.notify_all()
            return frame

    def next_frame(self, timeout: float | None = None) -> Frame | None:
        """Same as :meth:`get` (the worker's feed protocol)."""
        return self.get(timeout)

    def pending(self) -> int:
        with self._cond:
            return len(self._frames)

    def close(self) -> None:
        """Refuse new frames and wake every waiter; frames already waiting can still be read."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
