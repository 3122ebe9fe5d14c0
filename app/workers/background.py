"""The app's one way to do slow work without blocking the GUI thread.

:class:`Background` runs callables in a thread of its own, one after another in the order
they were submitted, and hands each outcome to its ``done(result, error)`` on the GUI thread.
:func:`gui_callback` wraps a callback so that any thread (the training runner's event reader)
may call it and it runs on the GUI thread. Both deliver through a queued Qt signal, so the
GUI never waits and never shares a half-updated object with a worker. Work that reports as it
goes (the session controller's ``busyChanged``) emits signals of a QObject of the GUI thread:
Qt queues those the same way. Separate processes stay processes: the step probe's is waited
for in a :class:`Background`, the training run's events come through :func:`gui_callback`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

_log = logging.getLogger(__name__)
Done = Callable[[Any, "str | None"], None]  # (result, None) or (None, a message for the user)


def error_message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class _Relay(QObject):
    """Lives on the GUI thread; ``post(fn, args)`` from any thread runs ``fn(*args)`` there."""

    call = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self, fn: Callable[..., None], args: tuple) -> None:
        try:
            self.call.emit(fn, args)
        except RuntimeError:  # its owner (a page, a window) is gone: nobody left to tell
            pass

    @Slot(object, object)
    def _run(self, fn: Callable[..., None], args: tuple) -> None:
        fn(*args)


def gui_callback(owner: QObject, fn: Callable[..., None]) -> Callable[..., None]:
    """A function any thread may call: each call runs ``fn`` with its arguments on the GUI
    thread, later, in order (while ``owner`` lives). Make it on the GUI thread."""
    relay = _Relay(owner)
    return lambda *args: relay.post(fn, args)


class Background(QObject):
    """One worker thread (named ``name``, started when there is work, gone when there is
    none) running submitted callables in order. Make it on the GUI thread."""

    def __init__(self, name: str = "background", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._relay = _Relay(self)
        self._lock = threading.Lock()
        self._jobs: deque[tuple[Future, Callable, tuple, Done | None]] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._undelivered = 0

    @property
    def busy(self) -> bool:
        """Work was submitted whose outcome has not reached the GUI thread yet."""
        return self._undelivered > 0

    def submit(self, fn: Callable[..., Any], *args: Any, done: Done | None = None) -> Future:
        """Run ``fn(*args)`` off the GUI thread after the work submitted before; ``done`` gets
        the outcome on the GUI thread. The Future is for whoever must wait (tests, shutdown)."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} is shut down")
            self._jobs.append((future, fn, args, done))
            self._undelivered += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name=self.name, daemon=True)
                self._thread.start()
        return future

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work submitted so far has run (its outcome is delivered later, on
        the GUI thread, as always); False when ``timeout`` passed first."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def shutdown(self, wait: bool = True, cancel_pending: bool = True) -> None:
        """Take no more work; with ``cancel_pending`` cancel what has not started (else it
        still runs); with ``wait``, return once the thread has finished."""
        with self._lock:
            self._closed = True
            if cancel_pending:
                pending, self._jobs = list(self._jobs), deque()
            else:
                pending = []
            thread = self._thread
            self._undelivered -= len(pending)
        for future, *_ in pending:
            future.cancel()
        if wait and thread is not None:
            thread.join()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._thread = None
                    return
                future, fn, args, done = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result, error = fn(*args), None
                future.set_result(result)
            except Exception as exc:  # shown to the user by ``done``, never swallowed
                result, error = None, error_message(exc)
                _log.warning("%s: %s", self.name, error, exc_info=True)
                future.set_exception(exc)
            self._relay.post(self._deliver, (done, result, error))

    def _deliver(self, done: Done | None, result: Any, error: str | None) -> None:
        with self._lock:
            self._undelivered -= 1
        if done is not None:
            done(result, error)
