"""The station as a service: runs until SIGTERM / SIGINT (or ``stop`` is set), carrying out
the line's orders and printing one status line every ``status_every`` seconds; then stops
cleanly (camera, drained inspection, every result recorded, line I/O) and says what it did."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from core.station.station import Station, StationReport

_log = logging.getLogger(__name__)
POLL_S = 0.1  # how often the line's queued orders are looked at


def install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only); returns the undo."""
    previous = {}

    def on_signal(signum, _frame) -> None:
        _log.info("station: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, on_signal)
    return lambda: [signal.signal(s, h) for s, h in previous.items()]


def serve(station: Station, stop: threading.Event, status_every: float,
          say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> StationReport:
    """Open the station, run it until ``stop``, close it; the report of what it did."""
    try:
        station.open()
    except BaseException:
        station.close()
        raise
    try:
        say(station.status_line())
        next_status = clock() + status_every
        while not stop.wait(POLL_S):
            station.poll()
            if clock() >= next_status:
                say(station.status_line())
                next_status = clock() + status_every
    finally:
        report = station.close()
    say(f"station stopped: {report.inspected} inspected, {report.recorded} recorded"
        + (f", {report.unrecorded} not recorded" if report.unrecorded else "")
        + ("" if report.stopped_cleanly else " (some threads did not stop in time)"))
    return report
