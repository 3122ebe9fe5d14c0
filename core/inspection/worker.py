"""The inspection worker: one thread that owns the model and inspects frames as they come.

Frames come from a *feed*: anything with ``next_frame(timeout) -> Frame | None`` such as
the camera :class:`core.camera.grabber.Grabber`, or the worker's own :class:`FrameMailbox`
filled with :meth:`InspectionWorker.submit`. In live mode only the newest frame waits for
the model and the frames it replaces are counted as skipped (the feed's ``skipped``); in
triggered mode every frame is inspected in order.
Each result goes to the score history, the shift counters, the ``latest()`` slot that the
GUI polls, and every consumer (e.g. the results store sink), in the worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.camera.frame import Frame
from core.inspection.counters import ShiftCounters
from core.inspection.history import ScoreHistory
from core.inspection.inspector import Inspector
from core.inspection.mailbox import FrameMailbox
from core.inspection.rate import RateMeter
from core.inspection.result import InspectionResult

_log = logging.getLogger(__name__)
ResultConsumer = Callable[[InspectionResult], None]


class FrameFeed(Protocol):
    """Where the worker takes frames; optional ``skipped`` / ``overruns`` counters are reported."""

    def next_frame(self, timeout: float | None = None) -> Frame | None: ...


@dataclass(frozen=True)
class WorkerStats:
    running: bool
    mode: str
    submitted: int  # frames handed in with submit() (0 with an external feed)
    inspected: int
    skipped: int  # live mode: frames replaced by a newer one before the model got to them
    overruns: int  # triggered mode: frames refused because the queue stayed full
    errors: int  # frames whose inspection raised (logged, counted, not fatal)
    consumer_errors: int
    last_error: str
    inspected_fps: float
    last_latency_ms: float | None
    pending: int


class InspectionWorker:
    def __init__(self, inspector: Inspector, *, feed: FrameFeed | None = None, mode: str = "live",
                 capacity: int = 64, history: ScoreHistory | None = None,
                 counters: ShiftCounters | None = None,
                 consumers: list[ResultConsumer] | tuple = ()) -> None:
        """``feed`` None: frames are handed in with :meth:`submit` (own mailbox of ``mode``
        and ``capacity``); otherwise the worker pulls from ``feed`` and ``mode`` is informative."""
        self.mode = mode
        self._mailbox = FrameMailbox(mode, capacity) if feed is None else None
        self._feed: FrameFeed = self._mailbox if feed is None else feed
        self._inspector = inspector
        self.history = history if history is not None else ScoreHistory()
        self.counters = counters if counters is not None else ShiftCounters()
        self._consumers: list[ResultConsumer] = list(consumers)
        self._lock = threading.Lock()
        self._latest: InspectionResult | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._rate = RateMeter()
        self._submitted = self._inspected = self._errors = self._consumer_errors = 0
        self._last_error = ""
        self._last_latency: float | None = None

    # --- control ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("InspectionWorker.start: already started (a worker runs once)")
        self._thread = threading.Thread(target=self._run, name="inspection-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0, drain: bool = False) -> bool:
        """Stop the thread; with ``drain`` the frames already waiting are inspected first
        (stop the feed's producer before). Returns True when the thread has ended."""
        if self._mailbox is not None:
            self._mailbox.close()
        self._draining.set()
        if not drain:
            self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def inspector(self) -> Inspector:
        return self._inspector

    def set_inspector(self, inspector: Inspector) -> None:
        """Swap the model / recipe; takes effect at the next frame."""
        with self._lock:
            self._inspector = inspector

    def add_consumer(self, consumer: ResultConsumer) -> None:
        with self._lock:
            self._consumers.append(consumer)

    def remove_consumer(self, consumer: ResultConsumer) -> None:
        with self._lock:
            if consumer in self._consumers:
                self._consumers.remove(consumer)

    # --- data -------------------------------------------------------------------------------
    def submit(self, frame: Frame, timeout: float | None = 1.0) -> bool:
        """Hand a frame over (see :class:`FrameMailbox` for what each mode does)."""
        if self._mailbox is None:
            raise RuntimeError("InspectionWorker.submit: this worker pulls frames from its feed")
        with self._lock:
            self._submitted += 1
        return self._mailbox.put(frame, timeout)

    def latest(self) -> InspectionResult | None:
        """The newest result (``seq`` tells whether it changed since the last look)."""
        with self._lock:
            return self._latest

    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(
                running=self.running, mode=self.mode, submitted=self._submitted,
                inspected=self._inspected, skipped=int(getattr(self._feed, "skipped", 0)),
                overruns=int(getattr(self._feed, "overruns", 0)), errors=self._errors,
                consumer_errors=self._consumer_errors, last_error=self._last_error,
                inspected_fps=self._rate.rate(), last_latency_ms=self._last_latency,
                pending=self._mailbox.pending() if self._mailbox is not None else 0)

    # --- thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self._feed.next_frame(0.1)
            if frame is None:
                if self._draining.is_set():
                    break
                continue
            with self._lock:
                inspector, seq = self._inspector, self._inspected + 1
            try:
                result = inspector.inspect(frame, seq=seq)
            except Exception as exc:  # a bad frame or model error must not kill the line
                _log.exception("inspection of frame %s failed", frame.frame_id)
                with self._lock:
                    self._errors += 1
                    self._last_error = f"frame {frame.frame_id}: {type(exc).__name__}: {exc}"
                continue
            self._publish(result)

    def _publish(self, result: InspectionResult) -> None:
        self.history.add(result.score)
        self.counters.add(result.verdict)
        self._rate.tick(result.t_done)
        with self._lock:
            self._inspected += 1
            self._latest = result
            self._last_latency = result.latency_ms
            consumers = list(self._consumers)
        for consumer in consumers:
            try:
                consumer(result)
            except Exception as exc:
                _log.exception("result consumer %r failed", consumer)
                with self._lock:
                    self._consumer_errors += 1
                    self._last_error = f"result consumer: {type(exc).__name__}: {exc}"
