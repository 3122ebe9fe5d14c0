"""Hand-over of frames from the grabber thread to consumers (live or triggered)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from core.camera.frame import Frame
from core.camera.stats import StatsCounter

_SLICE = 0.1


class DeliveryMode(StrEnum):
    """How frames wait for their consumer; a user's or a caller's string parses with
    ``DeliveryMode(text)`` (ValueError: "'x' is not a valid DeliveryMode")."""

    LIVE = "live"  # only the newest frame waits; a frame replaced before it was taken is "skipped"
    TRIGGERED = "triggered"  # bounded FIFO; when full the incoming frame is not kept: an "overrun"


class FrameDelivery:
    """The one hand-off of frames from the grabber thread to their consumer: a thread-safe
    slot (live) or bounded queue (triggered), counting ``delivered``, ``skipped`` and
    ``overruns`` in ``stats``."""

    def __init__(self, mode: DeliveryMode, queue_size: int, stats: StatsCounter,
                 on_overrun: Callable[[Frame], None]) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.mode = mode
        self._size = queue_size
        self._stats = stats
        self._on_overrun = on_overrun
        self._cond = threading.Condition()
        self._queue: deque[Frame] = deque()
        self._fresh = False  # live: the slot holds a frame no consumer took yet
        self._latest: Frame | None = None

    def put(self, frame: Frame) -> None:
        """Called by the grabber thread for every frame to deliver."""
        overrun = False
        with self._cond:
            self._latest = frame
            if self.mode is DeliveryMode.TRIGGERED:
                if len(self._queue) >= self._size:
                    overrun = True
                    self._stats.add("overruns")
                else:
                    self._queue.append(frame)
            else:
                if self._fresh:
                    self._stats.add("skipped")
                self._fresh = True
            if not overrun:
                self._stats.add("delivered")
                self._cond.notify_all()
        if overrun:
            self._on_overrun(frame)

    def take(self, timeout: float | None, alive: Callable[[], bool]) -> Frame | None:
        """Newest untaken frame (live) or oldest queued (triggered); None after
        ``timeout`` seconds, or at once when ``alive()`` turns false and nothing waits."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._has_frame():
                left = None if deadline is None else deadline - time.monotonic()
                if (left is not None and left <= 0) or not alive():
                    return None
                self._cond.wait(_SLICE if left is None else min(left, _SLICE))
            if self.mode is DeliveryMode.TRIGGERED:
                return self._queue.popleft()
            self._fresh = False
            return self._latest

    def latest(self) -> Frame | None:
        return self._latest

    def drain(self) -> list[Frame]:
        with self._cond:
            if self.mode is DeliveryMode.TRIGGERED:
                out = list(self._queue)
                self._queue.clear()
                return out
            if self._fresh and self._latest is not None:
                self._fresh = False
                return [self._latest]
            return []

    def queued(self) -> int:
        with self._cond:
            return len(self._queue) if self.mode is DeliveryMode.TRIGGERED else int(self._fresh)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _has_frame(self) -> bool:
        return bool(self._queue) if self.mode is DeliveryMode.TRIGGERED else self._fresh
