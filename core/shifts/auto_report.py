"""The shift report written by itself at the end of each shift: a roll-over listener of the
station's counters that writes ``<data>/reports/shift-<date>-<name>.html`` from a thread of
its own (waiting for the last results to be committed first), once per shift even though
every recipe's counters roll over."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.shifts.report import report_file_name, report_for_span
from core.shifts.report_html import write_html
from core.shifts.schedule import ShiftSpan

log = logging.getLogger(__name__)


class ShiftReportWriter:
    def __init__(self, store, reports_dir: str | Path, tz) -> None:
        """``store``: a ResultsStore (queried, flushed first; ``image_file`` for thumbnails)."""
        self.store, self.reports_dir, self.tz = store, Path(reports_dir), tz
        self._done: set[tuple[str, float]] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.written: list[Path] = []
        self.error = ""

    def __call__(self, final, span: ShiftSpan) -> None:
        key = (span.name, span.start)
        with self._lock:
            if key in self._done:
                return
            self._done.add(key)
            t = threading.Thread(target=self._write, args=(span,), daemon=True,
                                 name=f"shift-report-{span.name}")
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def wait(self, timeout: float | None = None) -> bool:
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)
        return not any(t.is_alive() for t in threads)

    def _write(self, span: ShiftSpan) -> None:
        out = self.reports_dir / report_file_name(span)
        try:
            flush = getattr(self.store, "flush", None)
            if flush is not None:
                flush(30.0)
            report = report_for_span(self.store, span, self.tz,
                                     image_file=getattr(self.store, "image_file", None))
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            write_html(report, out)
        except Exception as exc:  # the line goes on; the report can be made later by hand
            self.error = f"shift report {out.name} not written: {exc}"
            log.error("%s (lineinspect results shift-report makes it)", self.error)
            return
        with self._lock:
            self.written.append(out)
        log.info("shift report written: %s", out)
