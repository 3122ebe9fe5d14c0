"""The Train page's measuring probe: a few real training steps of a preset, timed in a
separate process (``python -m core.training.estimate``), with the threads the run will get.

A probe has ``start(preset, threads, device, done)``, ``cancel()`` and ``busy``;
``done(seconds_per_step, error)`` is called once on the GUI thread, never after ``cancel()``.
Tests pass a fake with chosen step timings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess

PROBE_STEPS = 3   # timed steps after one warm-up step (the median is kept)

Done = Callable[[float | None, str], None]


class ProcessProbe(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.proc: QProcess | None = None

    @property
    def busy(self) -> bool:
        return self.proc is not None

    def start(self, preset: str, threads: int | None, device: str, done: Done) -> None:
        self.cancel()
        proc = QProcess(self)
        args = ["-m", "core.training.estimate", "--preset", preset, "--steps", str(PROBE_STEPS),
                "--device", device]
        if threads:
            args += ["--threads", str(threads)]
        proc.finished.connect(lambda *_: self._finished(proc, done))
        self.proc = proc
        proc.start(sys.executable, args)

    def _finished(self, proc: QProcess, done: Done) -> None:
        if proc is not self.proc:
            return  # cancelled: its result is stale
        self.proc = None
        out = bytes(proc.readAllStandardOutput()).decode(errors="replace").strip()
        proc.deleteLater()
        try:
            result = json.loads(out.splitlines()[-1])
            sps = float(result["seconds_per_step"])
        except (ValueError, KeyError, IndexError, TypeError):
            err = ""
            try:
                err = str(json.loads(out.splitlines()[-1]).get("error", ""))
            except (ValueError, IndexError, AttributeError):
                pass
            done(None, err or out[-200:] or "no output")
            return
        if not sps > 0 or sps == float("inf"):
            done(None, f"measured {sps} s per step")
            return
        done(sps, "")

    def cancel(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.waitForFinished(2000)
            proc.deleteLater()
