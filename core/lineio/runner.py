"""One transport behind its own thread: the inspection side only ever puts into a bounded
queue (never blocks; a full queue drops the result and counts it), so a PLC or broker that
stalls or vanishes delays only its own link. The thread calls the transport one method at a
time: queued results first (in order), then forced outputs, then the latest station state
(coalesced: only the newest state matters). An exception from the transport is counted and
logged once per burst of failures; it never ends the thread.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from core.lineio.contract import LineOutput, LineResult, LinkStatus, StationState, Transport

_log = logging.getLogger(__name__)

Recheck = Callable[[LineResult], "LineResult | None"]  # the fail-safe replacement of a late result


class TransportRunner:
    def __init__(self, transport: Transport, capacity: int = 256, clock: Callable[[], float] = time.monotonic,
                 recheck: Recheck | None = None) -> None:
        """``recheck(result)`` is asked just before a result goes out; what it returns (the
        fail-safe, when the result waited past the deadline) is sent instead and counted late."""
        if int(capacity) < 1:
            raise ValueError(f"TransportRunner: capacity must be >= 1, got {capacity!r}")
        self.transport = transport
        self.capacity = int(capacity)
        self._clock = clock
        self._recheck = recheck
        self._cond = threading.Condition()
        self._results: collections.deque[LineResult] = collections.deque()
        self._forces: collections.deque[tuple[LineOutput, object, str]] = collections.deque()
        self._state: StationState | None = None  # newest not yet sent
        self._closing = self._stopping = False
        self._thread: threading.Thread | None = None
        self.sent = self.failed = self.dropped = self.late = 0
        self._failing = False  # in a burst of failures (logged at its start only)
        self.last_error = ""

    @property
    def name(self) -> str:
        return str(getattr(self.transport, "name", "transport"))

    # --- any thread, never blocks ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: runner already started")
        self._thread = threading.Thread(target=self._run, name=f"lineio-{self.name}"[:60], daemon=True)
        self._thread.start()

    def put_result(self, result: LineResult) -> bool:
        """Queue ``result``; False (and counted as dropped) when the queue is full."""
        with self._cond:
            if self._closing or len(self._results) >= self.capacity:
                self.dropped += 1
                first = self.dropped == 1 or self.dropped % 100 == 0
                if first:
                    _log.warning("line link %s: queue full (%d), result seq %s dropped (%d so far)",
                                 self.name, self.capacity, result.seq, self.dropped)
                return False
            self._results.append(result)
            self._cond.notify()
            return True

    def put_state(self, state: StationState) -> None:
        with self._cond:
            self._state = state
            self._cond.notify()

    def put_force(self, output: LineOutput, value: object, who: str = "") -> None:
        with self._cond:
            self._forces.append((output, value, who))
            self._cond.notify()

    def status(self) -> LinkStatus:
        """The transport's own status with what this runner knows added (queue, failures, drops)."""
        try:
            s = self.transport.status()
        except Exception as exc:  # a transport's bug must not break the status bar
            s = LinkStatus(self.name, "down", f"status failed: {type(exc).__name__}: {exc}")
        with self._cond:
            queued, failed, dropped, sent = len(self._results), self.failed, self.dropped, self.sent
        detail = s.detail
        if dropped:
            detail = f"{detail}; {dropped} dropped (queue full)" if detail else f"{dropped} dropped (queue full)"
        return dataclasses.replace(s, sent=s.sent or sent, failed=s.failed + failed,
                                   queued=s.queued + queued, detail=detail)

    def stop(self) -> None:
        """Ask the thread to end once the queued results are out (see :meth:`join`)."""
        with self._cond:
            self._closing = True
            self._cond.notify()

    def abandon(self) -> None:
        """End the thread as soon as the current call returns (queued results are lost)."""
        with self._cond:
            self._closing = self._stopping = True
            self._cond.notify()

    def join(self, timeout: float | None) -> bool:
        t = self._thread
        if t is not None:
            t.join(timeout)
        return t is None or not t.is_alive()

    # --- runner thread -----------------------------------------------------------------------
    def _next(self):
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._results:
                    return "result", self._results.popleft()
                if self._forces:
                    return "force", self._forces.popleft()
                if self._state is not None:
                    state, self._state = self._state, None
                    return "state", state
                if self._closing:
                    return None
                self._cond.wait()

    def _run(self) -> None:
        while (job := self._next()) is not None:
            what, item = job
            try:
                if what == "result":
                    self._send_result(item)
                elif what == "force":
                    output, value, who = item
                    self.transport.force(output, value)
                else:
                    self.transport.publish_state(item)
            except Exception as exc:  # the link fails; the station goes on
                self._failed(what, exc)
            else:
                if self._failing:
                    self._failing = False
                    _log.info("line link %s: working again", self.name)

    def _send_result(self, result: LineResult) -> None:
        replacement = self._recheck(result) if self._recheck is not None else None
        if replacement is not None:
            with self._cond:
                self.late += 1
            _log.warning("line link %s: result seq %s waited past the deadline; sent as %s",
                         self.name, result.seq, replacement.decision)
            result = replacement
        self.transport.publish_result(result)
        with self._cond:
            self.sent += 1

    def _failed(self, what: str, exc: Exception) -> None:
        with self._cond:
            if what == "result":
                self.failed += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, NotImplementedError):
            _log.warning("line link %s: %s", self.name, exc)
            return
        if not self._failing:
            self._failing = True
            _log.warning("line link %s: %s failed: %s (further failures not logged until it works again)",
                         self.name, what, self.last_error)
