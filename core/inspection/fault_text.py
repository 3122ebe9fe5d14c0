"""Turns camera events into one line of plain words for the operator (empty when all is well)."""

from __future__ import annotations

import threading

from core.camera.events import CameraEvent, EventKind


class FaultTracker:
    """Listener for a grabber's event log; ``text`` is the fault in force, '' when none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self.faults_seen = 0

    @property
    def text(self) -> str:
        with self._lock:
            return self._text

    def __call__(self, event: CameraEvent) -> None:
        kind, msg = event.kind, event.message
        text: str | None = None  # None: leave as it is
        if kind is EventKind.LOST:
            text = f"Camera lost ({msg})"
        elif kind is EventKind.STALLED:
            text = f"Camera stalled: {msg}"
        elif kind is EventKind.RECONNECTING:
            text = f"Camera lost - reconnecting ({msg})"
        elif kind is EventKind.RECONNECT_FAILED:
            text = f"Camera lost - reconnect failed: {msg}"
        elif kind is EventKind.ERROR:
            text = f"Camera error: {msg}"
        elif kind in (EventKind.RECONNECTED, EventKind.STARTED):
            text = ""
        elif kind is EventKind.STOPPED and not msg.startswith("stopped"):
            text = f"Camera stopped: {msg}"
        if text is None:
            return
        with self._lock:
            if text and not self._text:
                self.faults_seen += 1
            self._text = text
