"""A grabber thread per source: delivery to consumers, statistics, watchdog, reconnect.

Delivery modes:

* ``live``: only the newest frame waits; a frame replaced before a consumer took
  it is counted in ``skipped``.
* ``triggered``: every frame is kept in a bounded FIFO; when it is full the
  incoming frame is not kept, counted as an overrun and reported as an OVERRUN event.

The grabber thread is the only thread that reads from the source. Feature changes
from other threads go through :meth:`Grabber.call` (run between two reads);
:meth:`software_trigger` is thread-safe and goes to the source directly.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from core.camera.base import Capabilities, CameraSource, Feature
from core.camera.delivery import DeliveryMode, FrameDelivery
from core.camera.errors import SourceLostError
from core.camera.events import CameraEvent, EventKind, EventLog
from core.camera.frame import Frame
from core.camera.stats import GrabberStats, StatsCounter

T = TypeVar("T")
_SLICE = 0.1  # longest blocking read, so stop() and call() stay responsive
__all__ = ["Grabber", "ReconnectPolicy"]


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Back-off between reconnect attempts: initial, multiplied by factor, capped."""

    initial: float = 0.5
    maximum: float = 10.0
    factor: float = 2.0


class Grabber:
    """Runs ``source`` in a thread and hands its frames to consumers."""

    def __init__(
        self,
        source: CameraSource,
        mode: DeliveryMode | str = DeliveryMode.LIVE,
        *,
        queue_size: int = 32,
        frame_timeout: float = 1.0,
        stall_timeout: float | None = 3.0,
        reconnect: ReconnectPolicy | None = ReconnectPolicy(),
        deliver_incomplete: bool = False,
        close_on_stop: bool = True,
    ) -> None:
        if frame_timeout <= 0 or (stall_timeout is not None and stall_timeout <= 0):
            raise ValueError("frame_timeout and stall_timeout must be > 0")
        self.source = source
        self.mode = DeliveryMode(mode)
        self.events = EventLog()
        self._stats = StatsCounter()
        self._delivery = FrameDelivery(self.mode, queue_size, self._stats, self._report_overrun)
        self._queue_size = queue_size
        self._frame_timeout = frame_timeout
        self._stall_timeout = stall_timeout
        self._policy = reconnect
        self._deliver_incomplete = deliver_incomplete
        self._close_on_stop = close_on_stop
        self._calls: deque[tuple[Callable[[CameraSource], Any], Future]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = "idle"
        self._pending_failure: str | None = None

    # -- control ------------------------------------------------------------------------
    def start(self, retry: bool = False) -> None:
        """Open and start the source, then run the thread. An error raises, unless
        ``retry``: then the thread keeps reconnecting until the device appears."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._pending_failure = None
        try:
            self.source.start()
        except Exception as exc:
            if not retry:
                raise
            self._pending_failure = str(exc)  # the thread begins by reconnecting
        self._stop.clear()
        self._state = "streaming"
        self._emit(EventKind.STARTED, f"{self.mode.value} delivery")
        self._thread = threading.Thread(target=self._run, name=f"grabber {self.source.source_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; the source is stopped and (by default) closed."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                self._emit(EventKind.ERROR, f"grabber thread did not stop within {timeout} s")
        elif thread is None:
            self._release()
        self._delivery.wake()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> str:
        """idle, streaming, reconnecting, stopped or failed."""
        return self._state

    def __enter__(self) -> Grabber:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- consumers ------------------------------------------------------------------------
    def next_frame(self, timeout: float | None = None) -> Frame | None:
        """Live: the newest frame not taken yet; triggered: the oldest queued frame.
        Waits up to ``timeout`` seconds (None: until a frame or the grabber ends)."""
        return self._delivery.take(timeout, lambda: self.running)

    def latest(self) -> Frame | None:
        """The most recent frame received (for display); never consumes anything."""
        return self._delivery.latest()

    def drain(self) -> list[Frame]:
        """Everything waiting now: the queued frames, or the newest live frame."""
        return self._delivery.drain()

    def stats(self) -> GrabberStats:
        return self._stats.snapshot(self.source.source_id, self._state, self._delivery.queued())

    # -- source access from other threads ---------------------------------------------------
    def call(self, fn: Callable[[CameraSource], T], timeout: float = 5.0) -> T:
        """Run ``fn(source)`` in the grabber thread between reads; returns its result."""
        if not self.running:
            return fn(self.source)
        future: Future = Future()
        self._calls.append((fn, future))
        deadline = time.monotonic() + timeout
        while True:
            try:
                return future.result(max(0.0, min(_SLICE, deadline - time.monotonic())))
            except FutureTimeout:
                if not self.running and future.cancel():  # the thread ended meanwhile
                    return fn(self.source)
                if time.monotonic() >= deadline:
                    future.cancel()
                    raise TimeoutError(f"{self.source.source_id}: call not run within {timeout} s") from None

    def set_feature(self, name: Feature | str, value: Any, timeout: float = 5.0) -> None:
        self.call(lambda s: s.set_feature(name, value), timeout)

    def get_feature(self, name: Feature | str, timeout: float = 5.0) -> Any:
        return self.call(lambda s: s.get_feature(name), timeout)

    def capabilities(self, timeout: float = 5.0) -> Capabilities:
        return self.call(lambda s: s.capabilities(), timeout)

    def software_trigger(self) -> None:
        self.source.software_trigger()

    # -- thread -----------------------------------------------------------------------------
    def _emit(self, kind: EventKind, message: str = "", **data: Any) -> None:
        self.events.emit(CameraEvent(kind, self.source.source_id, message, data=data))

    def _run_calls(self) -> None:
        while self._calls:
            fn, future = self._calls.popleft()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(self.source))
                except BaseException as exc:  # handed to the caller
                    future.set_exception(exc)

    def _run(self) -> None:
        last_frame = quiet_since = time.monotonic()
        reason = "stopped"
        try:
            if self._pending_failure is not None and not self._recover(
                EventKind.LOST, f"cannot start: {self._pending_failure}"
            ):
                reason = "could not start"
                return
            while not self._stop.is_set():
                self._run_calls()
                try:
                    frame = self.source.read(min(_SLICE, self._frame_timeout))
                except SourceLostError as exc:
                    if not self._recover(EventKind.LOST, str(exc)):
                        reason = "device lost"
                        break
                    last_frame = quiet_since = time.monotonic()
                    continue
                except Exception as exc:
                    self._stats.add("errors")
                    detail = "".join(traceback.format_exception_only(exc)).strip()
                    if not self._recover(EventKind.ERROR, f"read failed: {detail}"):
                        reason = "read failed"
                        break
                    last_frame = quiet_since = time.monotonic()
                    continue
                self._take_notices()
                now = time.monotonic()
                if frame is not None:
                    last_frame = quiet_since = now
                    self._accept(frame)
                    continue
                if self.source.exhausted:
                    reason = "end of replay"
                    break
                if not self.source.free_running:
                    last_frame = quiet_since = now  # waiting for triggers is not a fault
                    continue
                if now - quiet_since >= self._frame_timeout:
                    quiet_since = now
                    self._stats.add("timeouts")
                    self._emit(EventKind.TIMEOUT, f"no frame for {self._frame_timeout:g} s")
                if self._stall_timeout is not None and now - last_frame >= self._stall_timeout:
                    if not self._recover(EventKind.STALLED, f"no frame for {now - last_frame:.1f} s"):
                        reason = "stalled"
                        break
                    last_frame = quiet_since = time.monotonic()
        finally:
            if self._stop.is_set():
                reason = "stopped"
            self._release(close=self._close_on_stop)
            self._state = "failed" if self._state == "failed" else "stopped"
            self._fail_pending_calls()
            self._emit(EventKind.STOPPED, f"{reason}; source released")
            self._delivery.wake()

    def _take_notices(self) -> None:
        for notice in self.source.drain_notices():
            if notice.kind == "incomplete":
                self._stats.add("incomplete")
                self._emit(EventKind.INCOMPLETE, notice.message)
            else:
                self._emit(EventKind.WARNING, notice.message)

    def _accept(self, frame: Frame) -> None:
        self._stats.frame(frame.timestamp)
        if not frame.complete:
            self._stats.add("incomplete")
            self._emit(EventKind.INCOMPLETE, "incomplete frame", frame_id=frame.frame_id)
            if not self._deliver_incomplete:
                return
        self._delivery.put(frame)

    def _report_overrun(self, frame: Frame) -> None:
        self._emit(EventKind.OVERRUN, f"queue full ({self._queue_size}); frame {frame.frame_id} not kept",
                   frame_id=frame.frame_id)

    def _release(self, close: bool = True) -> None:
        for step in (self.source.stop, self.source.close) if close else (self.source.stop,):
            try:
                step()
            except Exception as exc:
                self._emit(EventKind.WARNING, f"releasing the source: {exc}")

    def _recover(self, kind: EventKind, message: str) -> bool:
        """Report, release, then reopen with back-off. False when stopped or no policy."""
        self._emit(kind, message)
        self._release()
        if self._policy is None:
            self._state = "failed"
            return False
        self._state = "reconnecting"
        delay, attempt = self._policy.initial, 0
        while not self._stop.is_set():
            until = time.monotonic() + delay
            while time.monotonic() < until and not self._stop.is_set():
                self._run_calls()
                self._stop.wait(min(_SLICE, max(0.0, until - time.monotonic())))
            if self._stop.is_set():
                return False
            attempt += 1
            self._emit(EventKind.RECONNECTING, f"attempt {attempt}", attempt=attempt)
            try:
                self.source.start()
            except Exception as exc:
                self._release()
                delay = min(delay * self._policy.factor, self._policy.maximum)
                self._emit(EventKind.RECONNECT_FAILED, f"{exc}; next try in {delay:.1f} s", attempt=attempt)
                continue
            self._stats.add("reconnects")
            self._state = "streaming"
            self._emit(EventKind.RECONNECTED, f"after {attempt} attempt(s)", attempt=attempt)
            return True
        return False

    def _fail_pending_calls(self) -> None:
        while self._calls:
            fn, future = self._calls.popleft()
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("grabber stopped before the call ran"))
