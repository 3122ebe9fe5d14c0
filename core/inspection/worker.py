"""The inspection worker: the threads that own the model and inspect frames as they come.

Frames come from a *feed*: anything with ``next_frame(timeout) -> Frame | None``, in the
application the camera :class:`core.camera.grabber.Grabber`, whose delivery mode decides
what waits for the model (live: only the newest frame, the others counted as ``skipped``
in the grabber's statistics; triggered: every frame, in order).

``parallel`` > 1 keeps that many frames in flight, one per thread, for a model that can run
calls concurrently (``concurrent = True``, e.g. ONNX Runtime): on a few CPU cores, two
frames on one core each keep both cores busy where one frame on two cores waits at every
layer's barrier whenever another thread (the GUI, the camera) takes a core. Results are
published in the order the frames were taken, whatever order they finish in.
The threads run at a lower scheduling priority (nice +5 where the OS allows it), so that
the GUI and acquisition threads get a core first and the model takes what is left.
Each result goes to the score history, the shift counters, the ``latest()`` slot that the
GUI polls, and every consumer (e.g. the results store sink), in the worker thread.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.camera.frame import Frame
from core.inspection.counters import ShiftCounters
from core.inspection.history import ScoreHistory
from core.inspection.inspector import Inspector
from core.inspection.rate import RateMeter
from core.inspection.result import InspectionResult

_log = logging.getLogger(__name__)
ResultConsumer = Callable[[InspectionResult], None]
WORKER_NICE = 5  # added to the inspection threads' nice value (Linux: per thread)


def lower_thread_priority(increment: int = WORKER_NICE) -> bool:
    """Make the calling thread ``increment`` nicer (Linux and other POSIX systems where the
    nice value is per thread); False where that is not possible. Never raises."""
    if increment <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
        return True
    except OSError:
        return False


class FrameFeed(Protocol):
    """Where the worker takes frames (the grabber); None when none came within ``timeout``."""

    def next_frame(self, timeout: float | None = None) -> Frame | None: ...


@dataclass(frozen=True)
class WorkerStats:
    running: bool
    inspected: int
    errors: int  # frames whose inspection raised (logged, counted, not fatal)
    consumer_errors: int
    last_error: str
    inspected_fps: float
    last_latency_ms: float | None


class InspectionWorker:
    def __init__(self, inspector: Inspector, feed: FrameFeed, *, history: ScoreHistory | None = None,
                 counters: ShiftCounters | None = None,
                 consumers: list[ResultConsumer] | tuple = (), parallel: int = 1,
                 nice: int = WORKER_NICE) -> None:
        """The worker pulls the frames to inspect from ``feed``.
        ``parallel``: frames in flight (threads); use > 1 only with a model whose calls may
        run concurrently. ``nice``: priority lowering of the threads (0: none)."""
        if int(parallel) < 1:
            raise ValueError(f"InspectionWorker: parallel must be >= 1, got {parallel!r}")
        self.parallel = int(parallel)
        self._nice = int(nice)
        self._feed = feed
        self._inspector = inspector
        self.history = history if history is not None else ScoreHistory()
        self.counters = counters if counters is not None else ShiftCounters()
        self._consumers: list[ResultConsumer] = list(consumers)
        self._lock = threading.Lock()
        self._latest: InspectionResult | None = None
        self._threads: list[threading.Thread] = []
        self._take_lock = threading.Lock()  # a frame and its ticket are taken together
        self._turn = threading.Condition()  # publication in ticket order
        self._tickets = self._next_out = 0
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._rate = RateMeter()
        self._inspected = self._errors = self._consumer_errors = 0
        self._last_error = ""
        self._last_latency: float | None = None

    # --- control ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            raise RuntimeError("InspectionWorker.start: already started (a worker runs once)")
        names = ["inspection-worker"] if self.parallel == 1 else \
            [f"inspection-worker-{i + 1}" for i in range(self.parallel)]
        self._threads = [threading.Thread(target=self._run, name=n, daemon=True) for n in names]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0, drain: bool = False) -> bool:
        """Stop the thread; with ``drain`` the frames already waiting are inspected first
        (stop the feed's producer before). Returns True when the thread has ended."""
        self._draining.set()
        if not drain:
            self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

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
    def latest(self) -> InspectionResult | None:
        """The newest result (``seq`` tells whether it changed since the last look)."""
        with self._lock:
            return self._latest

    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(
                running=self.running, inspected=self._inspected, errors=self._errors,
                consumer_errors=self._consumer_errors, last_error=self._last_error,
                inspected_fps=self._rate.rate(), last_latency_ms=self._last_latency)

    # --- thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        if self._nice:
            lower_thread_priority(self._nice)
        while not self._stop.is_set():
            with self._take_lock:
                frame = self._feed.next_frame(0.1)
                if frame is not None:
                    ticket, self._tickets = self._tickets, self._tickets + 1
            if frame is None:
                if self._draining.is_set():
                    break
                continue
            with self._lock:
                inspector = self._inspector
            result = None
            try:
                result = inspector.inspect(frame)
            except Exception as exc:  # a bad frame or model error must not kill the line
                _log.exception("inspection of frame %s failed", frame.frame_id)
                with self._lock:
                    self._errors += 1
                    self._last_error = f"frame {frame.frame_id}: {type(exc).__name__}: {exc}"
            with self._turn:
                self._turn.wait_for(lambda: self._next_out == ticket)
                try:
                    if result is not None:
                        self._publish(result)
                finally:
                    self._next_out += 1
                    self._turn.notify_all()

    def _publish(self, result: InspectionResult) -> None:
        """Called in ticket order, one thread at a time."""
        with self._lock:
            result = dataclasses.replace(result, seq=self._inspected + 1)
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
