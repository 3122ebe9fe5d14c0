"""Watch the frames of a camera that another consumer (the live session) already grabs.

A camera can be opened by one program part at a time (a GenICam device refuses a second
open), so a second user of the same camera, such as the training wizard collecting good
samples while the line is inspected, reads through a :class:`FrameTap` instead: it hands out
each newest frame of the live grabber (:meth:`Grabber.latest`, which consumes nothing), so
the inspection keeps every frame it would have had. The tap has the consumer side of a
grabber (``next_frame``, ``running``, ``software_trigger``, ``stop``); stopping the tap
never stops the camera. It follows the grabber through ``grabber_of`` on every call, and
reports itself not running once no grabber is there (the live session stopped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.camera.frame import Frame
from core.camera.grabber import Grabber

_POLL = 0.01


class FrameTap:
    def __init__(self, grabber_of: Callable[[], Grabber | None], spec: str = "") -> None:
        self._grabber_of = grabber_of
        self.spec = spec
        self._last: Frame | None = None
        self._closed = threading.Event()

    def _grabber(self) -> Grabber | None:
        return None if self._closed.is_set() else self._grabber_of()

    @property
    def running(self) -> bool:
        g = self._grabber()
        return g is not None and g.running

    def next_frame(self, timeout: float | None = None) -> Frame | None:
        """The live grabber's newest frame if it is one this tap has not handed out yet;
        waits up to ``timeout`` seconds (None: until one comes or the tap stops)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            g = self._grabber()
            frame = None if g is None else g.latest()
            if frame is not None and frame is not self._last:
                self._last = frame
                return frame
            if g is None or not g.running or (deadline is not None and time.monotonic() >= deadline):
                return None
            self._closed.wait(min(_POLL, max(0.0, deadline - time.monotonic())) if deadline else _POLL)

    def software_trigger(self) -> None:
        g = self._grabber_of()
        if g is not None:
            g.software_trigger()

    def stop(self, timeout: float = 0.0) -> None:
        """Stop reading; the camera and the live session are left alone."""
        self._closed.set()
