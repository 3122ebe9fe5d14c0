"""The camera shared by the Part and Collect pages: a source, its grabber, a frame signal."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from core.camera import DeliveryMode, Grabber, open_source
from core.camera.frame import Frame


def open_grabber(spec: str) -> Grabber:
    """Open ``spec`` and start a live grabber on it; raises CameraError with a message."""
    source = open_source(spec)
    try:
        grabber = Grabber(source, DeliveryMode.LIVE)
        grabber.start()
    except BaseException:
        source.close()
        raise
    return grabber


class CameraFeed(QObject):
    """Opens a SOURCE string and emits ``frame(Frame)`` for each new frame (polled, 25 Hz).

    ``opener`` turns a SOURCE into something with a grabber's consumer side (``next_frame``,
    ``running``, ``software_trigger``, ``stop``): by default a grabber of its own; the live
    window passes one that reads the frames of its running session when the camera is the
    same (:class:`core.inspection.frame_tap.FrameTap`).
    """

    frame = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, opener: Callable[[str], object] | None = None) -> None:
        super().__init__(parent)
        self.spec = ""
        self.grabber = None  # a Grabber, or what ``opener`` returned
        self._opener = opener or open_grabber
        self.last: Frame | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self.poll)

    @property
    def is_open(self) -> bool:
        return self.grabber is not None

    def open(self, spec: str) -> None:
        """Open ``spec`` (closing any previous source); raises CameraError with a message."""
        self.close()
        self.grabber = self._opener(spec)
        self.spec = spec
        self._timer.start()

    def poll(self) -> Frame | None:
        """Take the newest frame if there is one and emit it; returns it."""
        if self.grabber is None:
            return None
        frame = self.grabber.next_frame(timeout=0)
        if frame is not None:
            self.last = frame
            self.frame.emit(frame)
        elif not self.grabber.running:
            self.failed.emit(f"camera {self.spec} stopped")
            self.close()
        return frame

    def wait_frame(self, timeout: float = 5.0) -> Frame | None:
        """Block until a new frame arrives and emit it (for tests and single captures)."""
        if self.grabber is None:
            return None
        frame = self.grabber.next_frame(timeout=timeout)
        if frame is not None:
            self.last = frame
            self.frame.emit(frame)
        return frame

    def trigger(self) -> None:
        if self.grabber is not None:
            self.grabber.software_trigger()

    def close(self) -> None:
        self._timer.stop()
        if self.grabber is not None:
            self.grabber.stop()
            self.grabber = None
