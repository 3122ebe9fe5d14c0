"""A one-line terminal progress bar with ETA (stderr; plain lines when not a TTY)."""

from __future__ import annotations

import sys
import time


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = int(max(0, s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class ProgressBar:
    def __init__(self, label: str, stream=None, width: int = 28, min_interval: float = 0.5):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval = min_interval if self.tty else 10.0
        self._last = 0.0

    def update(self, done: int, total: int | None, extra: str = "", eta: float | None = None,
               force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        known = total is not None and total > 0
        frac = min(1.0, done / total) if known else 0.0
        bar = "#" * int(frac * self.width)
        total_txt = str(total) if known else "?"
        line = (f"{self.label} [{bar:<{self.width}}] {done}/{total_txt} "
                f"{frac * 100:5.1f}% ETA {fmt_seconds(eta)} {extra}")
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
