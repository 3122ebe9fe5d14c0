"""Jobs that must run at a given instant (a reject pulse's rising and falling edge), on one
daemon thread of their own, so neither the inspection thread nor the link's runner ever
sleeps to time a pulse. The clock is injected: tests drive :meth:`run_due` by hand with a
fake clock and no thread at all.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)

Job = Callable[[], None]
MAX_WAIT = 0.5  # s: the thread re-reads the clock at least this often (a clock that jumps)


class PulseScheduler:
    def __init__(self, clock: Callable[[], float] = time.monotonic, *, name: str = "lineio-pulses",
                 on_error: Callable[[Exception], None] | None = None,
                 after_batch: Job | None = None) -> None:
        """``on_error`` gets what a job raised (the thread goes on); ``after_batch`` runs after
        each group of due jobs (e.g. to read the lines back)."""
        self._clock = clock
        self.name = name
        self._on_error = on_error
        self._after_batch = after_batch
        self._cond = threading.Condition()
        self._jobs: list[tuple[float, int, Job]] = []
        self._order = itertools.count()  # equal instants run in the order they were asked
        self._quit = False
        self._thread: threading.Thread | None = None

    def at(self, when: float, job: Job) -> None:
        """Run ``job`` at ``when`` (clock time; a past instant means at once). Never blocks."""
        with self._cond:
            if self._quit:
                return
            heapq.heappush(self._jobs, (float(when), next(self._order), job))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._jobs)

    def run_due(self) -> float | None:
        """Run every job due now, oldest first; the next job's instant (None: nothing left)."""
        ran = False
        while True:
            with self._cond:
                if not self._jobs or self._jobs[0][0] > self._clock():
                    upcoming = self._jobs[0][0] if self._jobs else None
                    break
                _when, _n, job = heapq.heappop(self._jobs)
            ran = True
            self._call(job)
        if ran and self._after_batch is not None:
            self._call(self._after_batch)
        return upcoming

    def _call(self, job: Job) -> None:
        try:
            job()
        except Exception as exc:  # a camera that fails must not end the thread
            if self._on_error is not None:
                self._on_error(exc)
            else:
                _log.warning("%s: job failed: %s", self.name, exc)

    # --- the thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._thread = threading.Thread(target=self._run, name=self.name[:60], daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0, final: Job | None = None) -> bool:
        """End the thread; jobs not yet due are dropped. ``final`` (e.g. drive every line low)
        runs here once the thread has ended, so it never races a job. True when it ended."""
        with self._cond:
            self._jobs.clear()
            self._quit = True
            self._cond.notify()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        ended = t is None or not t.is_alive()
        if ended and final is not None:
            self._call(final)
        return ended

    def _run(self) -> None:
        while True:
            self.run_due()
            with self._cond:
                if self._quit:
                    return
                now = self._clock()
                if self._jobs and self._jobs[0][0] <= now:
                    continue
                wait = MAX_WAIT if not self._jobs else min(MAX_WAIT, self._jobs[0][0] - now)
                self._cond.wait(wait)
